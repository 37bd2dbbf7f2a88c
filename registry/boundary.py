"""The HTTP side of the input boundary: every request's path, query and JSON body pass one check first."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from catalog.errors import CatalogError, FieldProblem, InvalidInput
from catalog.inputs import MAX_DEPTH, check_document, check_text

__all__ = ["check_request"]

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _null_means_none(handler: Any, name: str) -> bool:
    """Litestar reads `?flag=null` as None for an optional non-text parameter; a query string has no null."""
    parameter = handler.parsed_fn_signature.parameters.get(name)
    if parameter is None or not parameter.is_optional or not parameter.is_union:
        return False
    return all(t.annotation is not str for t in parameter.inner_types)


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
    reads_json = "data" in handler.parsed_fn_signature.parameters or handler.opt.get("json_body")
    if request.method not in _BODY_METHODS or not reads_json:
        return
    if handler.opt.get("raw_body"):  # a native file: bytes the importer checks itself
        return
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
