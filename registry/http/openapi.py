"""The OpenAPI document, told the truth: every status a route can answer, as problem details, and its auth.

Litestar describes what handlers return; the error answers come from one boundary (`registry.http.boundary`),
one guard (`registry.http.auth`) and one error module (`registry.http.errors`), so they are added here in one pass,
by rules that mirror those modules, instead of being repeated on every handler.
"""

from __future__ import annotations

import sys
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.operation import Operation
from litestar.openapi.spec.request_body import RequestBody
from pydantic import BaseModel

import catalog.schemas  # noqa: F401 (loads every schema module the document is built from)
from registry.api.assets import PublishRequest
from registry.http.errors import PROBLEM_JSON

__all__ = ["document_errors"]

_WRITES = {"post", "put", "patch", "delete"}
_PUBLIC = {"/healthz", "/readyz"}
_SEARCH = {"/api/v1/search", "/api/v1/starter-kit"}
_CSV = {"/api/v1/reports/reuse", "/api/v1/reports/portfolio"}

_FIELD_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["pointer", "detail"],
    properties={
        "pointer": Schema(type=OpenAPIType.STRING, description="JSON pointer to the value, e.g. /spec/variables"),
        "detail": Schema(type=OpenAPIType.STRING, description="what is wrong"),
        "fix": Schema(type=OpenAPIType.STRING, description="how to fix it"),
        "in": Schema(type=OpenAPIType.STRING, description="query or path, for parameters"),
    },
)
PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details; `code` is stable for scripts",
    required=["type", "title", "status", "detail", "code"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "errors": Schema(type=OpenAPIType.ARRAY, items=_FIELD_PROBLEM),
    },
)

_WHY = {
    "400": "the body is not valid JSON",
    "401": "no token, a malformed Authorization header, or an unknown or revoked token",
    "403": "the token lacks the scope, or acts for another team",
    "404": "a named pilot, asset, version or adoption does not exist",
    "409": "the request clashes with the catalog's state (see `code`)",
    "413": "the body is larger than the limit (10 MiB)",
    "415": "the body was sent with another content type than application/json",
    "422": "a parameter or field is invalid; `errors` names each with a fix",
    "503": "search is unavailable; the catalog itself works",
}


# Bodies a handler validates itself, in a worker thread (it has no `data` parameter for Litestar to describe).
_MODEL_BODY: dict[str, type[BaseModel]] = {"/api/v1/assets": PublishRequest}
_RAW_BODY = {"/api/v1/import": "the native file, byte for byte (at most 5,000,000 bytes), any content type"}


def _problem(status: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_WHY[status],
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
    )


def _statuses(path: str, method: str, operation: Operation) -> list[str]:
    """The error statuses this operation can answer, by the same rules the boundary, guard and services follow."""
    statuses = ["422"]  # the boundary checks every path and query
    if path not in _PUBLIC:
        statuses.append("401")  # any request that sends a token has it checked
    if method in _WRITES:
        statuses += ["403", "404", "409"]
    elif "{" in path:
        statuses.append("404")
    if operation.request_body is not None:
        statuses += ["400", "413"] + ([] if path in _RAW_BODY else ["415"])
    if path in _SEARCH:
        statuses.append("503")
    return statuses


def _query_without_null(operation: Operation) -> None:
    """A query string cannot carry null: an optional parameter is simply left out. Say so, instead of
    `oneOf: [T, null]`, so clients (and fuzzers) read a repeatable `tag` as the array of strings it is."""
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Parameter) or parameter.param_in != "query":
            continue
        schema = parameter.schema
        if isinstance(schema, Schema) and schema.one_of:
            kept = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
            if len(kept) == 1 and isinstance(kept[0], Schema):
                kept[0].description = kept[0].description or schema.description
                parameter.schema = kept[0]


# Parameters many routes share, described once (a handler's own description wins).
_PARAMETERS: dict[str, tuple[str, object]] = {
    "active": ("true: only active adoptions; false: only retired ones", True),
    "allow_missing_includes": ("lm-eval: import a task whose `include:` parent is absent (recorded)", False),
    "allow_secrets": ("import even when a file holds what looks like a literal secret", False),
    "asset": ("an asset slug", "claims-triage-prompt"),
    "format": ("the answer's format", "json"),
    "from": ("the older version (a semantic version)", "1.0.0"),
    "to": ("the newer version (a semantic version)", "1.1.0"),
    "kind": ("an asset kind", "prompt"),
    "lifecycle": ("active or deprecated", "active"),
    "limit": ("how many items to return", 20),
    "offset": ("how many items to skip", 0),
    "origin_pilot": ("the slug of the pilot an asset came from", "claims-triage-assistant"),
    "owner": ("the owning team's slug", "claims-ai"),
    "path": ("a file's path inside the version, as listed in its `files`", "promptfooconfig.yaml"),
    "per_kind": ("how many assets of each kind", 3),
    "pilot": ("a pilot slug", "motor-fnol-intake"),
    "problem": ("the new pilot's problem, in its own words", "route incoming claims emails by urgency"),
    "publish": ("true: publish what was imported (else only propose the manifests)", False),
    "q": ("what to look for: words, a slug, a tag (typos and prefixes are fine)", "halucination monitor"),
    "section": ("only this part of the report", "summary"),
    "select": ("repeatable: import only these rules or prompts (by name)", "HighErrorRate"),
    "strict": ("fail the import when anything is not attached (any notice)", False),
    "since": ("from this date (YYYY-MM-DD) or ISO time, inclusive", "2026-01-01"),
    "until": ("before this date (YYYY-MM-DD) or ISO time", "2026-07-01"),
    "slug_prefix": ("put this before every imported asset's slug", "claims-"),
    "sort": ("relevance (default), reuse or newest", "reuse"),
    "status": ("active, graduated or killed", "active"),
    "tag": ("repeatable: every tag given must match", "rag"),
    "pattern": ("a task pattern (GET /api/v1/vocabulary); repeatable or comma-separated", "extract"),
    "risk": ("a risk (GET /api/v1/vocabulary); repeatable or comma-separated", "hallucination"),
    "team": ("a team's slug", "claims-ai"),
    "top": ("how many rows the top lists hold", 10),
    "version": ("a semantic version such as 1.2.0", "1.2.0"),
    "slug": ("2-63 lowercase letters, digits and hyphens", "claims-triage-prompt"),
    "label": ("a label such as production", "production"),
    "subject": ("asset:SLUG, pilot:SLUG, adoption:ID or token:ID", "asset:claims-triage-prompt"),
    "actor": ("team/name of a token, or a team", "claims-ai/ci"),
    "action": ("an action or a family", "label.move"),
    "cursor": ("`next_cursor` of the page before", "1796215368574533-67"),
    "at": ("a date or ISO time", "2026-06-01"),
    "filename": ("the file's name (its format is guessed from it)", "promptfooconfig.yaml"),
    "regenerate": ("true: generate the file even when the original is stored", False),
    "stage": ("a gate, 1 to 4", 2),
    "health": ("stalled, circling or on_track", "stalled"),
    "reason": ("why (kept in the history)", "superseded by 2.0.0"),
}


def _describe(operation: Operation) -> None:
    """Every parameter gets a description and an example (a handler's own description wins)."""
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Parameter):
            continue
        description, example = _PARAMETERS.get(parameter.name, (None, None))
        if not parameter.description:
            schema = parameter.schema
            own = schema.description if isinstance(schema, Schema) else None
            parameter.description = own or description
        if example is not None and not parameter.examples:
            parameter.examples = {"example": Example(value=example)}
        elif not parameter.examples and parameter.name.endswith("_id"):
            parameter.examples = {"example": Example(value=1)}


def _from_models(schemas: dict[str, Any]) -> None:
    """Copy what the pydantic models say (examples, field descriptions and examples) into the document:
    Litestar builds its schemas itself and leaves these out."""
    modules = [m for n, m in sorted(sys.modules.items()) if n.startswith("catalog.schemas") and m is not None]
    for name, schema in schemas.items():
        model = next((getattr(m, name) for m in modules if isinstance(getattr(m, name, None), type)), None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or not isinstance(schema, Schema):
            continue
        source = model.model_json_schema()
        if source.get("examples") and not schema.examples:
            schema.examples = source["examples"]
        for field, target in (schema.properties or {}).items():
            declared = source.get("properties", {}).get(field, {})
            if isinstance(target, Schema):
                target.description = target.description or declared.get("description")
                if declared.get("examples") and not target.examples:
                    target.examples = declared["examples"]


def _model_body(model: type[BaseModel], schemas: dict[str, Any]) -> RequestBody:
    """The model's own JSON schema as the request body; its parts join the components unless already there."""
    source = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, part in source.pop("$defs", {}).items():
        schemas.setdefault(name, part)
    schemas.setdefault(model.__name__, source)
    ref = Reference(ref=f"#/components/schemas/{model.__name__}")
    return RequestBody(required=True, content={"application/json": OpenAPIMediaType(schema=ref)})


def document_errors(app: Litestar) -> None:
    """Complete the app's OpenAPI document (run once on start, before it is first served)."""
    document = app.openapi_schema
    components = document.components if isinstance(document.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM}
    _from_models(components.schemas)
    components.security_schemes = {
        "bearer": SecurityScheme(
            type="http",
            scheme="bearer",
            description="a registry token: `registry token create --team T --scope publish --name ci`",
        )
    }
    document.components = components
    for path, item in (document.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            if path in _MODEL_BODY and method == "post":
                operation.request_body = _model_body(_MODEL_BODY[path], components.schemas)
            if path in _RAW_BODY and method == "post":  # the handler reads the bytes itself
                operation.request_body = RequestBody(
                    description=_RAW_BODY[path],
                    required=True,
                    content={"application/octet-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
                )
            responses = {k: v for k, v in (operation.responses or {}).items() if k != "400"}  # Litestar's own 400
            for status in _statuses(path, method, operation):
                responses.setdefault(status, _problem(status))
            if path == "/readyz":
                responses["503"] = OpenAPIResponse(description="the database does not answer: not ready")
            if path in _CSV and "200" in responses:
                ok = responses["200"]
                if isinstance(ok, OpenAPIResponse):
                    ok.content = {
                        **(ok.content or {}),
                        "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    }
            if path.endswith("/archive") and isinstance(archive := responses.get("200"), OpenAPIResponse):
                binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
                archive.content = {"application/gzip": binary, "application/zip": binary}  # ?format=tar.gz | zip
            operation.responses = responses
            _query_without_null(operation)
            _describe(operation)
            if path not in _PUBLIC:
                operation.security = [{"bearer": []}] if method in _WRITES else [{}, {"bearer": []}]
