"""Every hostile or unlucky input found by probing answers a 4xx problem (or works), alike on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient, TestClient

from registry.app import create_app
from registry.http.errors import exception_handlers
from tests.conftest import Api, Database, make_tokens, settings_for
from tests.factories import gate, manifest, pilot_request
from tests.helpers import assert_problem, graduate, row_counts

PILOT = "/api/v1/pilots/claims-triage-assistant"


def pointers(body: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in body.get("errors", [])]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/assets/a%00b",
        "/api/v1/pilots/a%00b",
        "/api/v1/assets?owner=a%00b",
        "/api/v1/assets?tag=x%00",
        "/api/v1/pilots?team=%00",
        "/api/v1/adoptions?asset=a%00",
        "/api/v1/search?q=claims%00",
        "/api/v1/starter-kit?problem=abc%00def",
        "/api/v1/assets/x/versions/1.0.0%00",
    ],
)
def test_nul_anywhere_in_path_or_query_is_a_422(api: Api, path: str) -> None:
    body = assert_problem(api.client.get(path), 422, "invalid-input")
    assert "NUL" in body["errors"][0]["detail"] and body["errors"][0]["fix"]


def test_nul_in_bodies_is_refused_with_its_pointer_and_nothing_is_stored(api: Api) -> None:
    graduate(api)
    before = row_counts()
    cases = [
        ("/api/v1/assets", manifest(summary="A summary with a NUL \x00 inside it")),
        ("/api/v1/assets", manifest(spec={"template": "Hi {{name}}\x00", "variables": ["name"]})),
        ("/api/v1/assets", manifest(files=[{"path": "a.yaml", "content": "x: 1\x00"}])),
        ("/api/v1/pilots", pilot_request("other-pilot", name="Bad\x00name")),
        ("/api/v1/assets", {**manifest(), "spec": {"template": "Hi", "x\x00": 1}}),
    ]
    for url, body in cases:
        r = api.client.post(url, json=body, headers=api.auth("claims"))
        problem = assert_problem(r, 422, "invalid-input")
        assert problem["errors"][0]["pointer"].startswith(("/summary", "/spec", "/files/0/content", "/name"))
    r = api.client.post(f"{PILOT}/gates", json={"stage": 5, "decision": "kill", "decided_by": "x\x00"},
                        headers=api.auth("claims"))  # fmt: skip
    assert pointers(assert_problem(r, 422)) == ["/decided_by"]
    assert row_counts() == before


def test_the_error_log_cannot_be_forged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        api.client.get("/api/v1/assets/x%0AFAKE%20LOG%20LINE")
        api.client.get("/no-such-route%0Aforged")
    assert not any("\nFAKE" in r.getMessage() or "\nforged" in r.getMessage() for r in caplog.records)


def test_the_failure_log_line_escapes_the_path(caplog: pytest.LogCaptureFixture) -> None:
    """The boundary refuses control characters before any handler runs, so the escape in the failure log is
    the second wall: reached here by a handler behind the registry's error handlers but not its boundary."""

    @get("/boom/{rest:str}")
    async def boom(rest: FromPath[str]) -> None:
        raise RuntimeError("unexpected")

    app = Litestar(route_handlers=[boom], exception_handlers=exception_handlers, logging_config=None)
    with TestClient(app=app) as client, caplog.at_level(logging.ERROR, logger="registry"):
        assert client.get("/boom/x%0AFAKE%20LOG%20LINE").status_code == 500
    (line,) = [r.getMessage() for r in caplog.records if r.name == "registry"]
    assert "\n" not in line and "x\\u000aFAKE LOG LINE" in line


@pytest.mark.parametrize("route", ["/api/v1/assets", "/api/v1/pilots", "/api/v1/adoptions", "/api/v1/search"])
@pytest.mark.parametrize("param", ["offset", "limit"])
def test_paging_beyond_64_bits_is_a_422(api: Api, route: str, param: str) -> None:
    body = assert_problem(api.client.get(f"{route}?{param}=9223372036854775808"), 422, "invalid-input")
    assert pointers(body) == [f"/query/{param}"]


def test_long_starter_kit_problems_are_answered(api: Api) -> None:
    words = " ".join(["claims triage routing queue"] * 70)[:2000]
    r = api.client.get("/api/v1/starter-kit", params={"problem": words})
    assert r.status_code == 200, r.text
    assert_problem(api.client.get("/api/v1/starter-kit", params={"problem": "x" * 2001}), 422, "invalid-input")


@pytest.mark.parametrize("field", ["name", "problem"])
def test_required_pilot_fields_cannot_be_patched_to_null(api: Api, field: str) -> None:
    api.client.post("/api/v1/pilots", json=pilot_request(), headers=api.auth("claims"))
    body = assert_problem(api.client.patch(PILOT, json={field: None}, headers=api.auth("claims")), 422)
    assert pointers(body) == [f"/{field}"]
    r = api.client.patch(PILOT, json={"budget_owner": None}, headers=api.auth("claims"))
    assert r.status_code == 200 and r.json()["budget_owner"] is None


@pytest.mark.parametrize("depth", [40, 1_000, 100_000])
def test_deeply_nested_json_is_a_422(api: Api, depth: int) -> None:
    graduate(api)
    nested = "[" * depth + "]" * depth
    raw = json.dumps(manifest()).replace('"spec": {', f'"nested": {nested}, "spec": {{', 1)
    r = api.client.post(
        "/api/v1/assets", content=raw, headers={**api.auth("claims"), "content-type": "application/json"}
    )
    assert "nests deeper" in assert_problem(r, 422, "invalid-input")["errors"][0]["detail"]


def test_malformed_json_and_huge_numbers(api: Api) -> None:
    graduate(api)
    headers = {**api.auth("claims"), "content-type": "application/json"}
    r = api.client.post("/api/v1/assets", content=b'{"kind": "prompt",', headers=headers)
    assert_problem(r, 400, "invalid-json")
    body = manifest(kind="eval_harness")
    body["spec"]["dataset"]["rows"] = 10**30
    r = api.client.post("/api/v1/assets", json=body, headers=headers)
    assert pointers(assert_problem(r, 422)) == ["/spec/dataset/rows"]
    r = api.client.post(
        "/api/v1/adoptions", content=b'{"asset":"a1","pilot":"p1","hours_saved":1e999}', headers=headers
    )
    assert "out of range" in assert_problem(r, 400, "invalid-json")["detail"]


def test_long_and_multiline_values_match_the_columns(api: Api) -> None:
    graduate(api)
    r = api.client.post("/api/v1/assets", json=manifest(version="1.0.0-" + "a" * 120), headers=api.auth("claims"))
    assert pointers(assert_problem(r, 422)) == ["/version"]
    r = api.client.post("/api/v1/assets", json=manifest(title="Two\nlines"), headers=api.auth("claims"))
    assert pointers(assert_problem(r, 422)) == ["/title"]
    r = api.client.post("/api/v1/pilots", json=pilot_request("p2", name="x" * 201), headers=api.auth("claims"))
    assert pointers(assert_problem(r, 422)) == ["/name"]
    deps = [{"slug": f"dep-{i}", "version": "*"} for i in range(101)]
    r = api.client.post("/api/v1/assets", json=manifest(depends_on=deps), headers=api.auth("claims"))
    assert pointers(assert_problem(r, 422)) == ["/depends_on"]


@pytest.mark.parametrize("value", ["%", "_", "'", '"', ",", "cl%", "claims,triage", "claims'", "c_aims", "CLAIMS"])
def test_list_filters_are_exact_and_alike_on_both_databases(api: Api, value: str) -> None:
    graduate(api)
    api.client.post("/api/v1/assets", json=manifest(tags=["claims", "claims-triage"]), headers=api.auth("claims"))
    for param in ("tag", "owner", "origin_pilot"):
        r = api.client.get("/api/v1/assets", params={param: value})
        assert r.status_code == 200, r.text
        # only the exact value matches (tags ignore case, as they are stored lower-cased)
        assert r.json()["total"] == (1 if param == "tag" and value == "CLAIMS" else 0), (param, value)
    for param in ("team", "status"):
        r = api.client.get("/api/v1/pilots", params={param: value})
        assert r.status_code in (200, 422) and (r.status_code == 422 or r.json()["total"] == 0)
    assert api.client.get("/api/v1/assets", params={"tag": "claims"}).json()["total"] == 1
    assert api.client.get("/api/v1/assets", params={"tag": "triage"}).json()["total"] == 0


def test_a_short_admin_token_is_refused(tmp_path: Any) -> None:
    from pydantic import ValidationError

    from registry.settings import Settings

    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(admin_token="a", data_dir=tmp_path)  # type: ignore[arg-type]


def test_concurrent_creates_of_one_key_answer_201_or_409_never_500(db: Database, tmp_path: Path) -> None:
    """20 requests at once for each create route, all for the same key: one wins, the rest get a 409."""

    async def race() -> dict[str, list[int]]:
        tokens = await make_tokens()
        claims = {"Authorization": f"Bearer {tokens['claims']}"}
        fraud = {"Authorization": f"Bearer {tokens['fraud']}"}
        app = create_app(settings_for(db, tmp_path), start_tasks=False)
        statuses: dict[str, list[int]] = {}
        async with AsyncTestClient(app=app) as client:

            async def burst(name: str, method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
                calls = [client.request(method, url, json=body, headers=headers) for _ in range(20)]
                statuses[name] = sorted(r.status_code for r in await asyncio.gather(*calls))

            await burst("pilot", "POST", "/api/v1/pilots", pilot_request(), claims)
            for stage in range(1, 5):
                await burst(f"gate {stage}", "POST", f"{PILOT}/gates", gate(stage), claims)
            await burst("publish", "POST", "/api/v1/assets", manifest(), claims)
            await burst("publish other content", "POST", "/api/v1/assets", manifest(version="1.0.1", changelog="x"),
                        claims)  # fmt: skip
            await burst("label", "PUT", "/api/v1/assets/claims-triage-prompt/labels/production", {"version": "1.0.0"},
                        claims)  # fmt: skip
            await client.post("/api/v1/pilots", json=pilot_request("fraud-pilot", "fraud-ai"), headers=fraud)
            adoption = {"asset": "claims-triage-prompt", "pilot": "fraud-pilot", "version": "1.0.0"}
            await burst("adoption", "POST", "/api/v1/adoptions", adoption, fraud)
        return statuses

    statuses = asyncio.run(race())
    for name, codes in statuses.items():
        assert 500 not in codes and all(c < 500 for c in codes), (name, codes)
    assert statuses["pilot"].count(201) == 1 and set(statuses["pilot"]) == {201, 409}
    assert statuses["gate 1"].count(201) == 1
    assert statuses["publish"].count(201) == 1 and set(statuses["publish"]) == {200, 201}
    assert set(statuses["adoption"]) <= {200, 201}  # the same adoption recorded again is answered, not repeated
    assert statuses["label"].count(200) == 20
    counts = row_counts()
    assert counts["pilot"] == 2 and counts["asset_version"] == 2 and counts["adoption"] == 1 and counts["label"] == 1


def test_attribution_follows_the_token(api: Api) -> None:
    graduate(api)  # claims-ai's pilot
    r = api.client.post(
        "/api/v1/assets", json=manifest(owner="fraud-ai", slug="fraud-prompt"), headers=api.auth("fraud")
    )
    assert "belongs to team 'claims-ai'" in assert_problem(r, 403, "forbidden")["detail"]
    r = api.client.post("/api/v1/assets", json=manifest(owner="fraud-ai", slug="admin-made"), headers=api.auth("admin"))
    assert r.status_code == 201  # the platform team may curate across teams
    api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
    api.client.post("/api/v1/pilots", json=pilot_request("fraud-pilot", "fraud-ai"), headers=api.auth("fraud"))
    adoption = {"asset": "claims-triage-prompt", "pilot": "fraud-pilot", "adopted_by": "the CEO"}
    body = assert_problem(api.client.post("/api/v1/adoptions", json=adoption, headers=api.auth("fraud")), 422)
    assert pointers(body) == ["/adopted_by"] and "on_behalf_of" in body["errors"][0]["detail"]
    adoption = {"asset": "claims-triage-prompt", "pilot": "fraud-pilot", "on_behalf_of": "Fraud ops lead"}
    r = api.client.post("/api/v1/adoptions", json=adoption, headers=api.auth("fraud"))
    assert r.status_code == 201 and r.json()["adopted_by"] == "fraud-ai/fraud"
    assert r.json()["on_behalf_of"] == "Fraud ops lead"


def test_null_is_not_a_query_value_for_flags_and_choices(api: Api) -> None:
    """A query string has no null: `?active=null` is refused, not read as "no filter"; text may say null."""
    for path in ("/api/v1/adoptions?active=null", "/api/v1/pilots?status=null", "/api/v1/pilots?health=null"):
        body = assert_problem(api.client.get(path), 422)
        assert body["errors"][0]["fix"] == "leave the parameter out instead"
    assert api.client.get("/api/v1/search", params={"q": "null"}).status_code == 200
