"""A bad value for every parameter of every route: a 4xx problem whose `errors` name the parameter, say what
is wrong and how to fix it (walked from the OpenAPI document, so new routes are covered as they come)."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate

from tests.conftest import Api
from tests.helpers import PROBLEM

GOOD = {"slug": "claims-triage-prompt", "version": "1.0.0", "label": "production", "path": "prompt.txt"}
REQUIRED = {"from": "1.0.0", "to": "1.1.0", "pilot": "claims-triage-assistant", "owner": "claims-ai"}


def bad_value(schema: dict[str, Any]) -> str:
    """A value the parameter's schema refuses."""
    options = schema.get("oneOf") or schema.get("anyOf") or [schema]
    kinds: set[str] = set()
    for option in options:
        for declared in (option.get("type"), option.get("items", {}).get("type")):
            kinds.update(declared if isinstance(declared, list) else [declared] if declared else [])
    if any(o.get("enum") or o.get("items", {}).get("enum") for o in options):
        return "zzz-not-allowed"
    if "integer" in kinds or "number" in kinds:
        return "not-a-number"
    if "boolean" in kinds:
        return "maybe"
    return "bad\x01value"  # control characters: refused for every text parameter


def good_path(path: str) -> str:
    for name, value in GOOD.items():
        path = path.replace(f"{{{name}}}", value)
    for name in ("adoption_id", "webhook_id", "delivery_id", "stage"):
        path = path.replace(f"{{{name}}}", "1")
    return path


def test_every_parameter_of_every_route_explains_a_bad_value(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    walked = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] not in ("query", "path"):
                    continue
                name, value = parameter["name"], bad_value(parameter.get("schema", {}))
                url = good_path(path)
                params = {p["name"]: REQUIRED.get(p["name"], "x") for p in operation["parameters"]
                          if p["in"] == "query" and p.get("required") and p["name"] != name}  # fmt: skip
                if parameter["in"] == "path":
                    url = good_path(path.replace(f"{{{name}}}", value.replace("\x01", "%01")))
                else:
                    params[name] = value
                response = api.client.request(method.upper(), url, params=params, headers=api.auth("admin"))
                where = (method, path, name, value)
                assert 400 <= response.status_code < 500, (where, response.status_code, response.text[:300])
                assert response.headers["content-type"].startswith(PROBLEM), where
                body = response.json()
                if response.status_code in (400, 422):
                    assert body["errors"], (where, body)
                    for error in body["errors"]:
                        assert error["pointer"] and error["detail"] and error["fix"], (where, error)
                    pointers = {e["pointer"] for e in body["errors"]}
                    assert any(p.startswith(f"/{parameter['in']}") for p in pointers), (where, pointers)
                walked += 1
    assert walked > 60


def test_oversized_and_mistyped_bodies_say_what_is_accepted(api: Api) -> None:
    headers = {**api.auth("admin"), "content-type": "text/plain"}
    mistyped = api.client.post("/api/v1/pilots", content=b"slug: x", headers=headers)
    assert mistyped.status_code == 415 and "this route takes application/json" in mistyped.json()["detail"]
    big = api.client.post("/api/v1/pilots", content=b"[" + b"1," * (6 * 2**20) + b"1]",
                          headers={**api.auth("admin"), "content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413 and "10 MiB" in big.json()["detail"]


def test_the_openapi_document_is_valid_and_documents_auth(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    validate(spec)  # the OpenAPI 3.1 specification itself
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("post", "put", "patch", "delete"):
                assert operation["security"] == [{"bearer": []}], (method, path)
            assert operation.get("tags"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter.get("description") or parameter["in"] == "header", (method, path, parameter["name"])
    schemas = spec["components"]["schemas"]
    bodies = {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for methods in spec["paths"].values()
        for op in methods.values()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    }
    for name in bodies - {"PublishRequest"}:  # the manifest union: its members are checked below
        assert schemas[name].get("examples"), name
    assert schemas["PromptManifest"].get("examples")
    seen, todo = set(), [*bodies, "PromptManifest", "EvalHarnessManifest", "RetrievalPipelineManifest"]
    while todo:  # every field of every request body, however deep, says what it is
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        for field, declared in (schemas[name].get("properties") or {}).items():
            if field not in ("adopted_by", "root"):
                assert declared.get("description"), (name, field)
            todo += [ref.split("'")[0].rsplit("/", 1)[-1] for ref in str(declared).split("'$ref': '")[1:]]
    assert len(seen) > 25
    docs = api.client.get("/api/docs", follow_redirects=False)
    assert docs.status_code == 308 and docs.headers["location"] == "/schema/swagger"
    page = api.client.get("/schema/swagger").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page
    assert not re.search(r"(src|href)=['\"]https?://", page), re.findall(r".{80}https?://.{40}", page)[:3]
    assert api.client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
