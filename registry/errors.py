"""The one place where errors become RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import html
import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
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


def _catalog_error(request: Request[Any, Any, Any], exc: CatalogError) -> Response[dict[str, Any]]:
    body = exc.as_problem() | {"instance": request.url.path}
    return Response(body, status_code=exc.status, media_type=PROBLEM_JSON)


def _pointer(key: str | None, source: str | None) -> str:
    if not key:
        return "/"
    parts = key.split(".")
    if parts[0] in KINDS:  # the manifest union's tag is not a field the user wrote
        parts = parts[1:]
    prefix = "" if source in (None, "body") else f"/{source}"
    return prefix + "/" + "/".join(parts)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "")).removeprefix("Value error, ")
        raw_source = item.get("source")
        source = str(getattr(raw_source, "value", raw_source)) if raw_source is not None else None
        entry = {"pointer": _pointer(item.get("key"), source), "detail": message}
        if fix := _FIXES.get(message):
            entry["fix"] = fix
        if source and source != "body":
            entry["in"] = source
        errors.append(entry)
    fields = ", ".join(e["pointer"] for e in errors[:5]) or "the request"
    return problem(
        422,
        "invalid-input",
        "Invalid input",
        f"{len(errors) or 'some'} problem{'s' if len(errors) != 1 else ''} with {fields}; see `errors`",
        request.url.path,
        errors=errors,
    )


def _page_error(status: int, detail: str) -> Response[Any]:
    """Browsers asking for a page get a page, not JSON."""
    phrase = html.escape(HTTPStatus(status).phrase)
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{phrase} · Platform asset registry</title>'
        f'<link rel="stylesheet" href="/static/site.css"></head><body><main><h1>{phrase}</h1>'
        f'<p>{html.escape(detail)}</p><p><a href="/">Search the catalog</a></p></main></body></html>'
    )
    return Response(body, status_code=status, media_type="text/html")


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if not request.url.path.startswith(("/api/", "/schema")) and "text/html" in request.headers.get("accept", ""):
        return _page_error(exc.status_code, str(exc.detail))
    phrase = HTTPStatus(exc.status_code).phrase
    code = phrase.lower().replace(" ", "-").replace("'", "")
    detail = exc.detail if exc.detail and exc.detail != phrase else phrase
    if exc.status_code == 404 and detail == phrase:
        detail = f"nothing is served at {request.method} {request.url.path}; see /schema/openapi.json"
    return problem(exc.status_code, code, phrase, detail, request.url.path, headers=exc.headers or None)


def _search_error(request: Request[Any, Any, Any], exc: SearchError) -> Response[dict[str, Any]]:
    code = "search-unavailable" if isinstance(exc, SearchUnavailable) else "search-failed"
    detail = f"{exc.detail}. The catalog itself works: list assets with GET /api/v1/assets meanwhile"
    return problem(503, code, "Search unavailable", detail, request.url.path, headers={"Retry-After": "5"})


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, printable(request.url.path), exc_info=exc)
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
