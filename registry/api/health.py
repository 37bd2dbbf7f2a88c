"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from catalog.services import deliveries, outbox
from catalog.services.health import database_ready
from catalog.services.tokens import authenticate
from registry.workers.indexing import index_problem
from registry.workers.webhooks import key_mismatch
from search.errors import SearchError

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
    summary="Readiness: 503 when the database fails; search trouble (down, failing writes, an index that is "
    "missing, replaced or behind the catalog) is `degraded`, still 200: publishing works without search",
)
async def readyz(request: Request) -> Response[dict[str, Any]]:  # type: ignore[type-arg]
    db_error = await database_ready()
    backend = request.app.state.search
    search_error = await backend.health()
    checks: dict[str, Any] = {
        "database": "ok" if db_error is None else f"failing: {db_error}",
        "search": "ok" if search_error is None else f"failing: {search_error}",
    }
    degraded = search_error is not None
    if db_error is None:
        try:
            problem = await index_problem(backend)
            checks["search_index"] = "ok" if problem is None else f"{problem.detail}; being repaired"
        except SearchError as err:
            problem, checks["search_index"] = None, f"failing: {err.detail}"
            degraded = True
        backlog = await outbox.status()
        checks["search_backlog"] = backlog.backlog
        if backlog.last_error:
            checks["search_last_error"] = backlog.last_error
        degraded = degraded or problem is not None or backlog.failing > 0
        hooks = await deliveries.backlog()  # receivers' trouble is theirs: reported, never "degraded"
        checks["webhook_backlog"], checks["webhooks_disabled"] = hooks["pending"], hooks["disabled"]
        mismatch = await key_mismatch(request.app.state.settings)  # but a wrong key is the registry's
        checks["webhook_key"] = "ok" if mismatch is None else f"failing: {mismatch}"
        degraded = degraded or mismatch is not None
    status = "not ready" if db_error else ("degraded" if degraded else "ready")
    if not await _is_admin(request):  # file system paths are for operators, not for whoever asks
        checks = {k: _PATH.sub("<path>", v) if isinstance(v, str) else v for k, v in checks.items()}
    return Response({"status": status, "checks": checks}, status_code=503 if db_error else 200)


_PATH = re.compile(r"(?<![\w:/])/(?:[^\s/'\":,;()]+/)+[^\s/'\":,;()]*")


async def _is_admin(request: Request) -> bool:  # type: ignore[type-arg]
    kind, _, token = (request.headers.get("authorization") or "").partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return False
    try:
        actor = await authenticate(token.strip())
    except Exception:  # a database that fails is reported above; here it only means "not known to be admin"
        return False
    return actor is not None and actor.is_admin
