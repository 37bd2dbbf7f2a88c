"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from catalog.services.health import database_ready

__all__ = ["healthz", "readyz"]


@get("/healthz", opt={"public": True}, tags=["operations"], summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", opt={"public": True}, tags=["operations"], summary="Readiness: the database answers")
async def readyz() -> Response[dict[str, Any]]:
    db_error = await database_ready()
    checks = {"database": "ok" if db_error is None else f"failing: {db_error}"}
    ready = db_error is None
    return Response({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)
