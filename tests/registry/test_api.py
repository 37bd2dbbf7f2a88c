"""The HTTP API over the real app, on SQLite and PostgreSQL: flows, auth, and every error as problem details."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from litestar.testing import TestClient

from catalog.schemas import SYSTEM
from catalog.services.tokens import revoke_token
from registry.app import create_app
from tests.conftest import Api, Database, settings_for
from tests.factories import gate, manifest, pilot_request
from tests.helpers import assert_problem, graduate, row_counts


def test_pilot_to_publish_flow(api: Api) -> None:
    r = api.client.post("/api/v1/pilots", json=pilot_request(), headers=api.auth("claims"))
    assert r.status_code == 201
    r = api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
    body = assert_problem(r, 409, "pilot-not-graduated")
    assert "only a graduated pilot" in body["detail"]
    assert body["pilot_stage"] == 1

    r = api.client.post("/api/v1/pilots/claims-triage-assistant/gates", json=gate(1), headers=api.auth("claims"))
    assert r.json()["stage"] == 2
    r = api.client.post(
        "/api/v1/pilots/claims-triage-assistant/gates",
        json=gate(2, evidence={"metric": "x"}),
        headers=api.auth("claims"),
    )
    body = assert_problem(r, 422, "missing-evidence")
    assert [e["pointer"] for e in body["errors"]] == ["/evidence/before", "/evidence/after", "/evidence/workflow"]
    for stage in (2, 3, 4):
        r = api.client.post(
            "/api/v1/pilots/claims-triage-assistant/gates", json=gate(stage), headers=api.auth("claims")
        )
        assert r.status_code == 201
    assert r.json()["status"] == "graduated"

    r = api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
    assert r.status_code == 201 and r.json()["status"] == "created"
    r = api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
    assert r.status_code == 200 and r.json()["status"] == "unchanged"
    r = api.client.post(
        "/api/v1/assets", json=manifest(summary="Something else entirely now."), headers=api.auth("claims")
    )
    assert_problem(r, 409, "version-exists")

    pilot = api.client.get("/api/v1/pilots/claims-triage-assistant").json()
    assert [a["slug"] for a in pilot["published_assets"]] == ["claims-triage-prompt"]
    assert len(pilot["gates"]) == 4


def test_auth_errors(api: Api) -> None:
    graduate(api)
    before = row_counts()
    r = api.client.post("/api/v1/assets", json=manifest())
    body = assert_problem(r, 401)
    assert "Bearer" in body["detail"] and r.headers["www-authenticate"].startswith("Bearer")
    assert_problem(api.client.post("/api/v1/assets", json=manifest(), headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(api.client.post("/api/v1/assets", json=manifest(), headers={"Authorization": "Basic abc"}), 401)
    body = assert_problem(api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("reader")), 403)
    assert "`publish` scope" in body["detail"]
    body = assert_problem(
        api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("fraud")), 403, "forbidden"
    )
    assert "claims-ai" in body["detail"]
    after = row_counts()
    assert {k: v for k, v in after.items() if k != "api_token"} == {k: v for k, v in before.items() if k != "api_token"}
    r = api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("admin"))
    assert r.status_code == 201


def test_revoked_token_stops_working(api: Api) -> None:
    graduate(api)

    async def revoke() -> None:
        from catalog.tables import ApiToken

        row = await ApiToken.select(ApiToken.id).where(ApiToken.name == "claims").first()
        assert row is not None
        await revoke_token(row["id"], SYSTEM)

    asyncio.run(revoke())
    assert_problem(api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims")), 401)


def test_invalid_manifest_is_422_naming_fields_and_leaves_nothing(api: Api) -> None:
    graduate(api)
    before = row_counts()
    bad = manifest(slug="Bad Slug", spec={"template": "Hello {{name}}", "variables": []})
    body = assert_problem(api.client.post("/api/v1/assets", json=bad, headers=api.auth("claims")), 422, "invalid-input")
    pointers = {e["pointer"]: e for e in body["errors"]}
    assert set(pointers) == {"/slug", "/spec"}
    assert "['name']" in pointers["/spec"]["detail"]
    missing = manifest()
    del missing["owner"]
    body = assert_problem(api.client.post("/api/v1/assets", json=missing, headers=api.auth("claims")), 422)
    assert body["errors"] == [{"pointer": "/owner", "detail": "Field required", "fix": "add this field"}]
    assert row_counts() == before


def test_malformed_json_unknown_routes_and_methods_are_problems(api: Api) -> None:
    r = api.client.post(
        "/api/v1/assets", content=b"{not json", headers={**api.auth("claims"), "content-type": "application/json"}
    )
    assert_problem(r, 400)
    assert_problem(api.client.get("/api/v1/nothing-here"), 404)
    assert_problem(api.client.get("/api/v1/assets/ghost"), 404, "asset-not-found")
    assert_problem(api.client.get("/api/v1/pilots/ghost"), 404, "pilot-not-found")
    assert_problem(api.client.delete("/api/v1/pilots"), 405)
    body = assert_problem(api.client.get("/api/v1/assets", params={"limit": 0}), 422)
    assert body["errors"][0]["pointer"] == "/query/limit"


def test_curation_and_adoption_over_http(api: Api) -> None:
    graduate(api)
    graduate(api, "fraud-screening", "fraud-ai", "fraud")
    for version in ("1.0.0", "1.1.0"):
        assert (
            api.client.post("/api/v1/assets", json=manifest(version=version), headers=api.auth("claims")).status_code
            == 201
        )
    eval_body = manifest("eval_harness", "claims-eval", tags=["claims", "eval", "faithfulness"])
    assert api.client.post("/api/v1/assets", json=eval_body, headers=api.auth("claims")).status_code == 201

    listed = api.client.get("/api/v1/assets", params={"tag": ["claims", "eval"]}).json()
    assert [a["slug"] for a in listed["items"]] == ["claims-eval"]
    assert api.client.get("/api/v1/assets", params={"kind": "prompt"}).json()["total"] == 1
    assert_problem(api.client.get("/api/v1/assets", params={"kind": "notebook"}), 422)

    r = api.client.put(
        "/api/v1/assets/claims-triage-prompt/labels/production", json={"version": "1.0.0"}, headers=api.auth("claims")
    )
    assert r.status_code == 200 and r.json()["labels"][0]["version"] == "1.0.0"
    r = api.client.post(
        "/api/v1/assets/claims-triage-prompt/versions/1.1.0/yank",
        json={"reason": "broke JSON output"},
        headers=api.auth("claims"),
    )
    assert r.status_code == 200 and r.json()["yanked"]
    assert (
        api.client.get("/api/v1/assets/claims-triage-prompt/versions/1.1.0").json()["yanked_reason"]
        == "broke JSON output"
    )
    assert_problem(api.client.get("/api/v1/assets/claims-triage-prompt/versions/3.0.0"), 404, "version-not-found")
    assert_problem(
        api.client.post("/api/v1/assets/claims-triage-prompt/versions/1.1.0/yank", json={}, headers=api.auth("claims")),
        422,
    )

    r = api.client.post(
        "/api/v1/adoptions",
        json={"asset": "claims-triage-prompt", "version": "1.1.0", "pilot": "fraud-screening"},
        headers=api.auth("fraud"),
    )
    assert_problem(r, 409, "version-yanked")
    r = api.client.post(
        "/api/v1/adoptions",
        json={
            "asset": "claims-triage-prompt",
            "version": "production",
            "pilot": "fraud-screening",
            "mode": "adapted",
            "hours_saved": 24,
        },
        headers=api.auth("fraud"),
    )
    assert r.status_code == 201, r.text
    adoption = r.json()
    assert (adoption["version"], adoption["origin_pilot"]) == ("1.0.0", "claims-triage-assistant")
    r = api.client.post(
        "/api/v1/adoptions",
        json={"asset": "claims-eval", "pilot": "claims-triage-assistant"},
        headers=api.auth("claims"),
    )
    assert_problem(r, 422, "self-adoption")

    r = api.client.post(
        "/api/v1/assets/claims-triage-prompt/deprecate",
        json={"reason": "Replaced", "successor": "claims-eval"},
        headers=api.auth("claims"),
    )
    assert r.status_code == 200 and r.json()["lifecycle"] == "deprecated"
    asset = api.client.get("/api/v1/assets/claims-triage-prompt").json()
    assert (asset["reuse_count"], asset["adopting_pilots"], asset["latest_version"]) == (
        1,
        ["fraud-screening"],
        "1.0.0",
    )
    assert [v["version"] for v in asset["versions"]] == ["1.1.0", "1.0.0"]

    assert api.client.get("/api/v1/adoptions", params={"asset": "claims-triage-prompt"}).json()["total"] == 1
    r = api.client.post(
        f"/api/v1/adoptions/{adoption['id']}/retire", json={"reason": "moved on"}, headers=api.auth("claims")
    )
    assert_problem(r, 403)
    r = api.client.post(
        f"/api/v1/adoptions/{adoption['id']}/retire", json={"reason": "moved on"}, headers=api.auth("fraud")
    )
    assert r.status_code == 200 and not r.json()["active"]
    assert_problem(api.client.post("/api/v1/adoptions/999/retire", json={}, headers=api.auth("fraud")), 404)
    r = api.client.delete("/api/v1/assets/claims-triage-prompt/labels/production", headers=api.auth("claims"))
    assert r.status_code == 200 and r.json()["labels"] == []


def test_pilot_update_and_listing(api: Api) -> None:
    body = pilot_request(baseline=None, target=None)
    assert api.client.post("/api/v1/pilots", json=body, headers=api.auth("claims")).status_code == 201
    r = api.client.post("/api/v1/pilots/claims-triage-assistant/gates", json=gate(1), headers=api.auth("claims"))
    assert [e["pointer"] for e in assert_problem(r, 422)["errors"]] == ["/pilot/baseline", "/pilot/target"]
    patch = {
        "baseline": {"metric": "minutes", "value": 40, "unit": "min"},
        "target": {"metric": "minutes", "value": 20, "unit": "min"},
    }
    assert (
        api.client.patch("/api/v1/pilots/claims-triage-assistant", json=patch, headers=api.auth("claims")).status_code
        == 200
    )
    assert (
        api.client.post(
            "/api/v1/pilots/claims-triage-assistant/gates", json=gate(1), headers=api.auth("claims")
        ).status_code
        == 201
    )
    assert_problem(api.client.post("/api/v1/pilots", json=body, headers=api.auth("claims")), 409, "pilot-exists")
    assert_problem(
        api.client.post("/api/v1/pilots", json=pilot_request("fraud-x", "fraud-ai"), headers=api.auth("claims")), 403
    )
    assert_problem(api.client.post("/api/v1/pilots", json={"slug": "x"}, headers=api.auth("claims")), 422)
    page = api.client.get("/api/v1/pilots", params={"status": "active"}).json()
    assert [p["slug"] for p in page["items"]] == ["claims-triage-assistant"]


def test_openapi_documents_every_route_and_schema(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/api/v1/pilots",
        "/api/v1/pilots/{slug}",
        "/api/v1/pilots/{slug}/gates",
        "/api/v1/assets",
        "/api/v1/assets/{slug}",
        "/api/v1/assets/{slug}/versions/{version}",
        "/api/v1/assets/{slug}/versions/{version}/yank",
        "/api/v1/assets/{slug}/deprecate",
        "/api/v1/assets/{slug}/labels/{label}",
        "/api/v1/adoptions",
        "/api/v1/adoptions/{adoption_id}/retire",
        "/healthz",
        "/readyz",
    ]:
        assert path in paths, path
    for path, methods in paths.items():
        for method, op in methods.items():
            if method in {"post", "put", "patch"} and not path.endswith(("/yank", "/enable", "/redeliver")):
                assert "requestBody" in op or (path.endswith("labels/{label}") and method == "delete"), (method, path)
            assert any(code.startswith("2") and "content" in resp for code, resp in op["responses"].items()), (
                method,
                path,
            )
    schemas = spec["components"]["schemas"]
    for name in [
        "PromptManifest",
        "EvalHarnessManifest",
        "RetrievalPipelineManifest",
        "MonitorManifest",
        "PilotOut",
        "AssetOut",
        "VersionOut",
        "AdoptionOut",
        "GateRequest",
    ]:
        assert name in schemas, name


def test_metrics_for_prometheus(api: Api) -> None:
    api.client.get("/api/v1/assets")
    text = api.client.get("/metrics").text
    assert "registry_requests_total" in text and 'path="/api/v1/assets"' in text


def full_collections(text: str) -> float:
    line = next(x for x in text.splitlines() if x.startswith('registry_gc_pause_seconds_count{generation="2"}'))
    return float(line.split()[-1])


def test_collector_pauses_are_measured_and_start_up_objects_frozen(api: Api) -> None:
    """The app froze what start-up made (no collection walks it again) and times every collection."""
    assert gc.get_freeze_count() > 10_000
    before = full_collections(api.client.get("/metrics").text)
    gc.collect()
    text = api.client.get("/metrics").text
    assert full_collections(text) == before + 1
    assert "registry_gc_pause_max_seconds" in text


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    r = api.client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"


def test_reads_can_require_a_token(db: Database, tmp_path: Path) -> None:
    from tests.conftest import make_tokens

    tokens = asyncio.run(make_tokens())
    app = create_app(settings_for(db, tmp_path, require_auth_for_reads=True), start_tasks=False)
    with TestClient(app=app) as client:
        assert_problem(client.get("/api/v1/assets"), 401)
        assert client.get("/api/v1/assets", headers={"Authorization": f"Bearer {tokens['reader']}"}).status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/schema/openapi.json").status_code == 200


def test_readiness_fails_when_the_database_is_gone(api: Api, tmp_path: Path) -> None:
    from piccolo.engine.sqlite import SQLiteEngine

    from catalog.db import use_engine

    use_engine(SQLiteEngine(path=str(tmp_path / "missing" / "gone.sqlite")))
    r = api.client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not ready" and r.json()["checks"]["database"].startswith("failing:")
    use_engine(api.db.engine)
