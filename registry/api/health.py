"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from catalog.services import outbox
from catalog.services.health import database_ready

__all__ = ["MetricsController", "healthz", "metrics_config", "readyz"]


def metrics_config() -> PrometheusConfig:
    """Request counts and latency histograms per route, for Prometheus (`/metrics`)."""
    return PrometheusConfig(app_name="registry", prefix="registry", group_path=True, exclude=["/metrics", "/static"])


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    opt = {"public": True}


@get("/healthz", opt={"public": True}, tags=["operations"], summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    opt={"public": True},
    tags=["operations"],
    summary="Readiness: 503 when the database fails; search trouble is reported but keeps the service ready",
)
async def readyz(request: Request) -> Response[dict[str, Any]]:  # type: ignore[type-arg]
    db_error = await database_ready()
    search_error = await request.app.state.search.health()
    checks: dict[str, Any] = {
        "database": "ok" if db_error is None else f"failing: {db_error}",
        "search": "ok" if search_error is None else f"failing: {search_error}",
    }
    if db_error is None:
        backlog = await outbox.status()
        checks["search_backlog"] = backlog.backlog
        if backlog.last_error:
            checks["search_last_error"] = backlog.last_error
    status = "not ready" if db_error else ("degraded" if search_error else "ready")
    return Response({"status": status, "checks": checks}, status_code=503 if db_error else 200)
