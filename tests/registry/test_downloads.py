"""Assets leave as files: one file byte for byte, the whole version as an archive, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import tarfile
import zipfile

import yaml

from catalog.schemas import parse_manifest
from tests.conftest import Api
from tests.factories import manifest
from tests.helpers import assert_problem, graduate

BINARY = bytes(range(256))
RULES = "groups:\n  - name: claims\n    rules:\n      - alert: TriageLatencyHigh\n        expr: latency > 3\n"


def publish_with_files(api: Api) -> dict[str, object]:
    graduate(api)
    body = manifest(
        "monitor",
        "claims-latency-monitor",
        files=[
            {"path": "rules/latency.yml", "content": RULES},
            {"path": "logo.png", "content": base64.b64encode(BINARY).decode(), "encoding": "base64"},
        ],
    )
    r = api.client.post("/api/v1/assets", json=body, headers=api.auth("claims"))
    assert r.status_code == 201, r.text
    return body


def test_one_file_byte_for_byte_with_etag(api: Api) -> None:
    publish_with_files(api)
    base = "/api/v1/assets/claims-latency-monitor/versions/1.0.0/files"
    r = api.client.get(f"{base}/rules/latency.yml")
    assert r.status_code == 200 and r.content == RULES.encode()
    assert r.headers["content-type"] == "application/yaml; charset=utf-8"
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''latency.yml"
    again = api.client.get(f"{base}/rules/latency.yml", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    png = api.client.get(f"{base}/logo.png")
    assert png.content == BINARY and png.headers["content-type"] == "image/png"
    body = assert_problem(api.client.get(f"{base}/missing.txt"), 404, "file-not-found")
    assert "logo.png, rules/latency.yml" in body["detail"]
    assert_problem(api.client.get("/api/v1/assets/claims-latency-monitor/versions/9.9.9/files/x"), 404)
    assert_problem(api.client.get("/api/v1/assets/nothing-here/versions/1.0.0/files/x"), 404, "asset-not-found")


def test_the_archive_holds_a_manifest_that_publishes_back_unchanged(api: Api) -> None:
    sent = publish_with_files(api)
    base = "/api/v1/assets/claims-latency-monitor/versions/1.0.0/archive"
    tgz = api.client.get(base)
    assert tgz.headers["content-type"] == "application/gzip"
    assert api.client.get(base).content == tgz.content  # deterministic
    with tarfile.open(fileobj=io.BytesIO(tgz.content)) as archive:
        names = archive.getnames()
        files = {n: archive.extractfile(n).read() for n in names}  # type: ignore[union-attr]
    root = "claims-latency-monitor-1.0.0"
    assert names == [f"{root}/asset.yaml", f"{root}/logo.png", f"{root}/rules/latency.yml"]
    assert files[f"{root}/logo.png"] == BINARY and files[f"{root}/rules/latency.yml"] == RULES.encode()
    document = yaml.safe_load(files[f"{root}/asset.yaml"])
    assert list(document)[:3] == ["kind", "slug", "version"]
    assert document["files"] == ["rules/latency.yml", "logo.png"]  # as the publisher listed them
    document["files"] = sent["files"]
    assert parse_manifest(document) == parse_manifest(sent)
    r = api.client.post("/api/v1/assets", json=document, headers=api.auth("claims"))
    assert r.status_code == 200 and r.json()["status"] == "unchanged"

    with zipfile.ZipFile(io.BytesIO(api.client.get(f"{base}?format=zip").content)) as archive:
        assert archive.namelist() == names and archive.read(f"{root}/logo.png") == BINARY
    assert_problem(api.client.get(f"{base}?format=rar"), 422, "invalid-input")
