"""Native formats over HTTP on SQLite and PostgreSQL: import (and publish), export, validation on publish."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api
from tests.factories import CONFIG, TASK, manifest
from tests.helpers import assert_problem, graduate, row_counts

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
REDIS = (
    CORPORA / "prometheus-rules" / "samber__awesome-prometheus-alerts__dist__rules__redis__oliver006-redis-exporter.yml"
)
PROMPTY = CORPORA / "prompty" / "microsoft__prompty__spec__fixtures__basic.prompty"
QUERY = {"owner": "claims-ai", "pilot": "claims-triage-assistant"}


def test_import_previews_then_publishes_every_alert(api: Api) -> None:
    graduate(api)
    raw = REDIS.read_bytes()
    preview = api.client.post(
        "/api/v1/import", params={**QUERY, "filename": REDIS.name}, content=raw, headers=api.auth("claims")
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["format"] == "prometheus" and len(body["assets"]) == 12
    assert api.client.get("/api/v1/assets/redis-down").status_code == 404  # a preview stores nothing
    published = api.client.post(
        "/api/v1/import",
        params={**QUERY, "filename": REDIS.name, "publish": "true"},
        content=raw,
        headers=api.auth("claims"),
    )
    assert published.status_code == 200, published.text
    assert [a["published"]["status"] for a in published.json()["assets"]] == ["created"] * 12
    exported = api.client.get("/api/v1/assets/redis-missing-backup/versions/1.0.0/export")
    assert exported.status_code == 200 and exported.content == raw  # the whole original, byte for byte
    assert exported.headers["x-registry-export"] == "original"
    assert exported.headers["content-disposition"] == f"attachment; filename*=UTF-8''{REDIS.name}"


def test_export_generates_when_asked_or_when_no_original_is_stored(api: Api) -> None:
    graduate(api)
    r = api.client.post(
        "/api/v1/import",
        params={**QUERY, "filename": PROMPTY.name, "publish": "true"},
        content=PROMPTY.read_bytes(),
        headers=api.auth("claims"),
    )
    assert r.status_code == 200, r.text
    base = "/api/v1/assets/basic-prompt/versions/1.0.0/export"
    assert api.client.get(base).content == PROMPTY.read_bytes()
    generated = api.client.get(base, params={"regenerate": "true"})
    assert generated.headers["x-registry-export"] == "generated"
    assert (
        generated.content.startswith(b"---\nname: basic-prompt\n") and b"\nuser:\n{{question}}\n" in generated.content
    )
    converted = api.client.get(base, params={"format": "dotprompt"})  # another format than the original: converted
    assert converted.status_code == 200 and converted.content != PROMPTY.read_bytes()
    assert (
        converted.headers["x-registry-format"] == "dotprompt" and converted.headers["x-registry-export"] == "generated"
    )
    assert converted.headers["content-disposition"].endswith(".prompt") and b"{{question}}" in converted.content
    refused = assert_problem(api.client.get(base, params={"format": "prompthub"}), 409, "not-exportable")
    assert "is stored as prompty" in refused["detail"] and "Export it as prompty" in refused["detail"]
    card = api.client.get(base, params={"format": "prompthub", "regenerate": "true"})
    assert "holds one text, not chat messages" in assert_problem(card, 422, "not-exportable")["detail"]
    assert_problem(api.client.get(base, params={"format": "prometheus"}), 422, "format-mismatch")
    assert_problem(api.client.get(base, params={"format": "word"}), 422, "unknown-format")
    r = api.client.post("/api/v1/assets", json=manifest("monitor", "plain-monitor"), headers=api.auth("claims"))
    assert r.status_code == 201, r.text
    rules = api.client.get("/api/v1/assets/plain-monitor/versions/1.0.0/export")
    assert rules.status_code == 200 and rules.content.startswith(b"groups:\n- name: plain-monitor\n")
    assert rules.headers["x-registry-export"] == "generated"


def test_import_errors_are_problems_that_name_the_line(api: Api) -> None:
    graduate(api)
    bad = b"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: soon\n"
    body = assert_problem(
        api.client.post(
            "/api/v1/import", params={**QUERY, "filename": "rules.yml"}, content=bad, headers=api.auth("claims")
        ),
        422,
        "invalid-native-file",
    )
    assert body["detail"] == "rules.yml (line 6): `for` 'soon' is not a duration"
    assert body["errors"][0]["fix"] == "use e.g. 0s, 5m, 1h30m"
    unknown = api.client.post(
        "/api/v1/import",
        params={**QUERY, "filename": "x.yml", "format": "word"},
        content=b"a: 1",
        headers=api.auth("claims"),
    )
    assert_problem(unknown, 422)
    assert_problem(api.client.post("/api/v1/import", params=QUERY | {"filename": "x.yml"}, content=b"a: 1"), 401)
    bomb = api.client.post(
        "/api/v1/import", params={**QUERY, "filename": "x.bin"}, content=b"\xff" * 10, headers=api.auth("claims")
    )
    assert "not UTF-8" in assert_problem(bomb, 422)["detail"]


def test_publish_refuses_native_files_that_are_not_what_the_manifest_says(api: Api) -> None:
    graduate(api)
    before = row_counts()
    broken = manifest(
        "monitor", "broken-rules", files=[{"path": "rules.yml", "content": "this is not a prometheus rule file {{{"}]
    )
    body = assert_problem(
        api.client.post("/api/v1/assets", json=broken, headers=api.auth("claims")), 422, "invalid-native-file"
    )
    assert body["errors"][0]["pointer"] == "/files/0"
    assert body["errors"][0]["detail"].startswith("rules.yml is not a valid prometheus file (line 1)")
    entry = manifest(
        "eval_harness",
        "lost-entry",
        files=[{"path": "promptfooconfig.yaml", "content": "prompts: [x]\nproviders: [echo]\n"}],
    )
    entry["spec"]["runner"]["entry"] = "nothere.yaml"
    body = assert_problem(api.client.post("/api/v1/assets", json=entry, headers=api.auth("claims")), 422)
    assert body["errors"][0]["pointer"] == "/spec/runner/entry"
    native = manifest("prompt", "lost-native")
    native["spec"]["native"] = {"format": "prompty", "path": "gone.prompty"}
    body = assert_problem(api.client.post("/api/v1/assets", json=native, headers=api.auth("claims")), 422)
    assert body["errors"][0]["pointer"] == "/spec/native/path"
    assert row_counts() == before  # nothing partial


def test_the_api_answers_notices_and_refuses_them_with_strict(api: Api) -> None:
    graduate(api)
    query = {"owner": "claims-ai", "pilot": "claims-triage-assistant", "filename": "promptfooconfig.yaml"}
    r = api.client.post("/api/v1/import", params=query, content=CONFIG.encode(), headers=api.auth("claims"))
    assert r.status_code == 200, r.text
    notices = r.json()["assets"][0]["notices"]
    assert any("file://prompts/summarize.txt is missing or outside the upload" in n for n in notices)
    strict = api.client.post("/api/v1/import", params={**query, "strict": "true"}, content=CONFIG.encode(),
                             headers=api.auth("claims"))  # fmt: skip
    assert "--strict" in assert_problem(strict, 422)["detail"]
    lm = {**query, "filename": "claims_qa.yaml", "allow_missing_includes": "true"}
    r = api.client.post("/api/v1/import", params=lm, content=TASK.encode(), headers=api.auth("claims"))
    assert r.status_code == 200 and r.json()["assets"][0]["manifest"]["spec"]["unresolved_includes"]
