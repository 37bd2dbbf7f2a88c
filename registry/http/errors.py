"""The one place where errors become RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, Literal, get_args, get_origin

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

from catalog.errors import CatalogError
from catalog.inputs import printable
from catalog.schemas import KINDS
from search.errors import SearchError, SearchUnavailable

__all__ = ["PROBLEM_JSON", "exception_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("registry")

_FIXES = {
    "Field required": "add this field",
    "Extra inputs are not permitted": "remove this field or check its spelling",
}
_MISSING = re.compile(r"Missing required (query|path|header|cookie) parameter '([^']+)'")
_SEE_SCHEMA = "see what this field takes in /schema/openapi.json (or /api/docs)"
MAX_BODY = "10 MiB"


def _parameter_fix(request: Request[Any, Any, Any], name: str) -> tuple[str, str, str | None]:
    """What a query or path parameter takes, read from the handler's own declaration: (public name, fix,
    allowed values when it is a choice)."""
    handler = request.route_handler
    signatures = [handler.parsed_fn_signature] + [
        provide.parsed_fn_signature for provide in handler.resolve_dependencies().values()
    ]
    parameter = next((s.parameters[name] for s in signatures if name in s.parameters), None)
    if parameter is None:
        return name, _SEE_SCHEMA, None
    spec = parameter.kwarg_definition
    public = getattr(spec, "query", None) or getattr(spec, "name", None) or name
    choices = [a for t in parameter.inner_types or [parameter] for a in get_args(t.annotation)
               if get_origin(t.annotation) is Literal]  # fmt: skip
    if get_origin(parameter.annotation) is Literal:
        choices = list(get_args(parameter.annotation))
    if choices:
        allowed = ", ".join(map(str, choices))
        return public, f"use one of: {allowed}", allowed
    types = {t.annotation for t in (parameter.inner_types or [parameter])} | {parameter.annotation}
    ge, le = getattr(spec, "ge", None), getattr(spec, "le", None)
    if int in types or any(get_origin(t) is list and int in get_args(t) for t in types):
        bounds = f" from {ge} to {le:,}" if ge is not None and le is not None else f" of at least {ge}" if ge else ""
        return public, f"give a whole number{bounds}", None
    if bool in types:
        return public, "give true or false", None
    description = getattr(spec, "description", None)
    shortest, limit = getattr(spec, "min_length", None), getattr(spec, "max_length", None)
    length = (f"{shortest} to {limit} characters" if shortest and limit else f"at least {shortest} characters"
              if shortest else f"at most {limit} characters" if limit else "")  # fmt: skip
    if description:
        return public, f"give {description}" + (f" ({length})" if length else ""), None
    if length:
        return public, f"give {length}", None
    return public, _SEE_SCHEMA, None


def _body_fix(message: str) -> str:
    if fix := _FIXES.get(message):
        return fix
    if message.startswith("Input should be"):
        return "use " + message.removeprefix("Input should be ").replace(" or ", ", or ")
    if message.startswith("String should have at most"):
        return "shorten it"
    return _SEE_SCHEMA


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    """A problem details response; `code` is stable for scripts, `type` a URI built from it."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v not in (None, [], {})})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser on a web page gets the answer as a page in the site's layout, not problem JSON."""
    api = request.url.path.startswith(("/api/", "/schema", "/static", "/healthz", "/readyz", "/metrics"))
    return not api and "text/html" in request.headers.get("accept", "")


def _page(status: int, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> Template:
    context = {"status": status, "title": HTTPStatus(status).phrase, "detail": detail, "errors": errors or [],
               "suggestions": extra.get("suggestions") or [], "section": ""}  # fmt: skip
    return Template(template_name="error.html", context=context, status_code=status)


def _catalog_error(request: Request[Any, Any, Any], exc: CatalogError) -> Response[Any]:
    body = exc.as_problem() | {"instance": request.url.path}
    if _wants_page(request):
        return _page(exc.status, exc.detail, [p.as_dict() for p in exc.problems])
    return Response(body, status_code=exc.status, media_type=PROBLEM_JSON)


def _pointer(key: str | None, source: str | None) -> str:
    if not key:
        return "/"
    parts = key.split(".")
    if parts[0] in KINDS:  # the manifest union's tag is not a field the user wrote
        parts = parts[1:]
    prefix = "" if source in (None, "body") else f"/{source}"
    return prefix + "/" + "/".join(parts)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "")).removeprefix("Value error, ")
        raw_source = item.get("source")
        source = str(getattr(raw_source, "value", raw_source)) if raw_source is not None else None
        key = item.get("key")
        if source in ("query", "path") and key:
            key, fix, allowed = _parameter_fix(request, key)
            if allowed and allowed not in message:
                message = f"{message}; allowed: {allowed}"
        else:
            fix = _body_fix(message)
        entry = {"pointer": _pointer(key, source), "detail": message, "fix": fix}
        if source and source != "body":
            entry["in"] = source
        errors.append(entry)
    if not errors and (missing := _MISSING.match(str(exc.detail))):  # Litestar names it only in its detail
        source, name = missing.group(1), missing.group(2)
        public, fix, _ = _parameter_fix(request, name)
        errors.append(
            {"pointer": f"/{source}/{public}", "detail": "is required", "fix": f"add it: {fix}", "in": source}
        )
    elif not errors:
        errors.append({"pointer": "/", "detail": str(exc.detail), "fix": _SEE_SCHEMA})
    fields = ", ".join(e["pointer"] for e in errors[:5]) or "the request"
    if _wants_page(request):
        return _page(422, f"this page cannot show that: {fields} is not right", errors)
    return problem(
        422,
        "invalid-input",
        "Invalid input",
        f"{len(errors) or 'some'} problem{'s' if len(errors) != 1 else ''} with {fields}; see `errors`",
        request.url.path,
        errors=errors,
    )


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if _wants_page(request):
        detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else f"nothing is at {request.url.path}"
        return _page(exc.status_code, str(detail), **(exc.extra if isinstance(exc.extra, dict) else {}))
    phrase = HTTPStatus(exc.status_code).phrase
    code = phrase.lower().replace(" ", "-").replace("'", "")
    detail = exc.detail if exc.detail and exc.detail != phrase else phrase
    if exc.status_code == 413:
        detail = (f"the request body is larger than the {MAX_BODY} the registry accepts; split it (publish "
                  "assets one by one, large files compressed)")  # fmt: skip
    elif exc.status_code == 415:
        detail = f"{detail}; this route takes application/json (POST /api/v1/import takes the raw file)"
    if exc.status_code == 404 and detail == phrase:
        detail = f"nothing is served at {request.method} {request.url.path}; see /schema/openapi.json"
    return problem(exc.status_code, code, phrase, detail, request.url.path, headers=exc.headers or None)


def _search_error(request: Request[Any, Any, Any], exc: SearchError) -> Response[dict[str, Any]]:
    code = "search-unavailable" if isinstance(exc, SearchUnavailable) else "search-failed"
    detail = f"{exc.detail}. The catalog itself works: list assets with GET /api/v1/assets meanwhile"
    return problem(503, code, "Search unavailable", detail, request.url.path, headers={"Retry-After": "5"})


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, printable(request.url.path), exc_info=exc)
    if _wants_page(request):
        return _page(500, "the server failed; the error is logged. Try again, or tell the platform team")
    return problem(
        500, "internal-error", "Internal Server Error", "the server failed; the error is logged", request.url.path
    )


exception_handlers: ExceptionHandlersMap = {
    CatalogError: _catalog_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    SearchError: _search_error,
    Exception: _internal_error,
}
