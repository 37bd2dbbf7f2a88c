"""The interactive API page: Swagger UI at /api/docs, its files served by the registry (no CDN, works offline)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

__all__ = ["api_docs_plugin", "api_docs_routes"]

_ASSETS = "/static/swagger-ui"
_FILES = files("swagger_ui") / "static"  # Swagger UI's own distribution files


def api_docs_plugin() -> SwaggerRenderPlugin:
    """Swagger UI over /schema/openapi.json, loading its script and styles from this server."""
    return SwaggerRenderPlugin(
        js_url=f"{_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{_ASSETS}/swagger-ui-standalone-preset.js",
        path="/swagger",
        favicon=f"<link rel='icon' type='image/png' href='{_ASSETS}/favicon-32x32.png'>",
    )


@get("/api/docs", opt={"public": True}, include_in_schema=False)
async def api_docs() -> Response[Any]:
    """The address people look for; the page itself lives with the schema."""
    return Response(content=b"", status_code=308, headers={"Location": "/schema/swagger"})


def api_docs_routes() -> list[HTTPRouteHandler | Any]:
    return [
        api_docs,
        create_static_files_router(
            path=_ASSETS, directories=[str(_FILES)], opt={"public": True}, include_in_schema=False
        ),
    ]
