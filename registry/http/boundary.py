"""The HTTP side of the input boundary: every request's path, query and JSON body pass one check first."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from catalog.errors import CatalogError, FieldProblem, InvalidInput
from catalog.inputs import MAX_DEPTH, check_document, check_text
from catalog.services.ownership import check_owner

__all__ = ["check_request"]

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_WRITE_METHODS = {*_BODY_METHODS, "DELETE"}
_SUBJECT = re.compile(r"/api/v1/(pilots|assets)/([^/]+)(?:/|$)")  # writes on a named pilot or asset


def _null_means_none(handler: Any, name: str) -> bool:
    """Litestar reads `?flag=null` as None for an optional non-text parameter; a query string has no null."""
    parameter = handler.parsed_fn_signature.parameters.get(name)
    if parameter is None or not parameter.is_optional or not parameter.is_union:
        return False
    return all(t.annotation is not str for t in parameter.inner_types)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Refuse control characters in the path and query, and a JSON body the catalog could not store.

    Runs before the handler decodes its parameters; the decoded body is cached, so it is parsed once.
    """
    check_text(request.scope["path"], "/path")
    handler = request.route_handler
    for key, value in request.query_params.multi_items():
        check_text(key, "/query")
        check_text(value, f"/query/{key}")
        if value == "null" and _null_means_none(handler, key):
            raise InvalidInput(
                f"`{key}` cannot be null",
                [FieldProblem(f"/query/{key}", "null is not a value here", "leave the parameter out instead")],
            )
    if request.method in _WRITE_METHODS and (subject := _SUBJECT.match(request.scope["path"])):
        actor = getattr(request.state, "actor", None)
        if actor is not None and subject.group(2) != "batch":  # the team first: another team learns nothing more
            await check_owner(actor, "pilot" if subject.group(1) == "pilots" else "asset", subject.group(2))
    reads_json = "data" in handler.parsed_fn_signature.parameters or handler.opt.get("json_body")
    if request.method not in _BODY_METHODS or not reads_json:
        return
    if handler.opt.get("raw_body"):  # a native file: bytes the importer checks itself
        return
    sent = request.headers.get("content-type")
    if sent is not None and not _is_json(sent):
        raise CatalogError(
            f"this route takes application/json; the request was sent as {sent}",
            code="unsupported-media-type",
            title="Unsupported Media Type",
            status=415,
            problems=[
                FieldProblem("/", f"sent as {sent}", "send the body as JSON with Content-Type: application/json")
            ],
        )
    try:
        data = await request.json()
    except RecursionError:
        raise InvalidInput(
            f"the request body nests too deep to read; the registry accepts at most {MAX_DEPTH} levels",
            [FieldProblem("/", f"nests deeper than {MAX_DEPTH} levels", "flatten the document")],
        ) from None
    except SerializationException as err:
        sent = request.headers.get("content-type", "no content type")
        takes = "" if "json" in sent else f" (it was sent as {sent}; this route takes application/json)"
        raise CatalogError(
            f"the request body is not valid JSON{takes}: {err.detail}",
            code="invalid-json",
            title="Malformed JSON",
            status=400,
            problems=[FieldProblem("/", f"not valid JSON: {err.detail}", "send one JSON document")],
        ) from err
    check_document(data)
