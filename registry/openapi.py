"""The OpenAPI document, told the truth: every status a route can answer, as problem details, and its auth.

Litestar describes what handlers return; the error answers come from one boundary (`registry.boundary`),
one guard (`registry.auth`) and one error module (`registry.errors`), so they are added here in one pass,
by rules that mirror those modules, instead of being repeated on every handler.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
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

from registry.errors import PROBLEM_JSON

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
    "422": "a parameter or field is invalid; `errors` names each with a fix",
    "503": "search is unavailable; the catalog itself works",
}


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
        statuses += ["400", "413"]
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
_PARAMETERS = {
    "active": "true: only active adoptions; false: only retired ones",
    "allow_secrets": "import even when a file holds what looks like a literal secret",
    "asset": "an asset slug",
    "format": "the answer's format",
    "from": "the older version (a semantic version)",
    "to": "the newer version (a semantic version)",
    "kind": "an asset kind",
    "lifecycle": "active or deprecated",
    "limit": "how many items to return",
    "offset": "how many items to skip",
    "origin_pilot": "the slug of the pilot an asset came from",
    "owner": "the owning team's slug",
    "path": "a file's path inside the version, as listed in its `files`",
    "per_kind": "how many assets of each kind",
    "pilot": "a pilot slug",
    "problem": "the new pilot's problem, in its own words",
    "publish": "true: publish what was imported (else only propose the manifests)",
    "q": "what to look for: words, a slug, a tag (typos and prefixes are fine)",
    "section": "only this part of the report",
    "select": "repeatable: import only these rules or prompts (by name)",
    "since": "from this date (YYYY-MM-DD) or ISO time, inclusive",
    "until": "before this date (YYYY-MM-DD) or ISO time",
    "slug_prefix": "put this before every imported asset's slug",
    "sort": "relevance (default), reuse or newest",
    "status": "active, graduated or killed",
    "tag": "repeatable: every tag given must match",
    "team": "a team's slug",
    "top": "how many rows the top lists hold",
    "version": "a semantic version such as 1.2.0",
}


def _describe(operation: Operation) -> None:
    for parameter in operation.parameters or []:
        if isinstance(parameter, Parameter) and not parameter.description:
            schema = parameter.schema
            own = schema.description if isinstance(schema, Schema) else None
            parameter.description = own or _PARAMETERS.get(parameter.name)


def document_errors(app: Litestar) -> None:
    """Complete the app's OpenAPI document (run once on start, before it is first served)."""
    document = app.openapi_schema
    components = document.components if isinstance(document.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM}
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
            operation.responses = responses
            _query_without_null(operation)
            _describe(operation)
            if path not in _PUBLIC:
                operation.security = [{"bearer": []}] if method in _WRITES else [{}, {"bearer": []}]
