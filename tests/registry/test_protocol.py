"""Small protocol points: security headers on every page, one charset, 415 for a JSON route fed something
else, no file system paths on /readyz for anonymous callers, the team checked before the body, archive types
in the OpenAPI document."""

from __future__ import annotations

from tests.conftest import Api
from tests.factories import manifest
from tests.helpers import assert_problem, graduate

PAGES = ["/", "/assets/claims-triage-prompt", "/pilots/claims-triage-assistant", "/changes", "/reports/reuse"]


def test_pages_carry_security_headers_and_one_charset(api: Api) -> None:
    graduate(api)
    assert api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims")).status_code == 201
    for path in PAGES:
        r = api.client.get(path)
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"]
        assert r.headers["content-type"].count("charset") == 1, (path, r.headers["content-type"])
    api_answer = api.client.get("/api/v1/assets")
    assert api_answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api_answer.headers  # JSON runs nothing


def test_a_json_route_given_another_type_is_a_415(api: Api) -> None:
    graduate(api)
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = api.client.post(
            "/api/v1/assets", content=b"{}", headers={**api.auth("claims"), "content-type": content_type}
        )
        problem = assert_problem(r, 415, "unsupported-media-type")
        assert content_type in problem["detail"] and "application/json" in problem["errors"][0]["fix"]
    ok = api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
    assert ok.status_code == 201


def test_another_teams_write_is_refused_before_its_body_is_read(api: Api) -> None:
    graduate(api)
    assert api.client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims")).status_code == 201
    for method, path in [
        ("PUT", "/api/v1/pilots/claims-triage-assistant/deadlines/2"),
        ("POST", "/api/v1/pilots/claims-triage-assistant/gates"),
        ("PATCH", "/api/v1/pilots/claims-triage-assistant"),
        ("POST", "/api/v1/assets/claims-triage-prompt/deprecate"),
        ("PUT", "/api/v1/assets/claims-triage-prompt/labels/production"),
    ]:
        r = api.client.request(method, path, json={"nonsense": True}, headers=api.auth("fraud"))
        assert_problem(r, 403, "forbidden")


def test_readyz_hides_file_system_paths_from_anonymous_callers() -> None:
    from registry.api.health import _PATH  # what /readyz applies to every check for non-admin callers

    said = "failing: [Errno 13] Permission denied: '/srv/registry/var/search/meta.json'"
    assert _PATH.sub("<path>", said) == "failing: [Errno 13] Permission denied: '<path>'"
    assert _PATH.sub("<path>", "http://127.0.0.1:7700/indexes/assets") == "http://127.0.0.1:7700/indexes/assets"


def test_the_openapi_document_states_the_archive_types(api: Api) -> None:
    document = api.client.get("/schema/openapi.json").json()
    archive = document["paths"]["/api/v1/assets/{slug}/versions/{version}/archive"]["get"]["responses"]["200"]
    assert set(archive["content"]) == {"application/gzip", "application/zip"}
