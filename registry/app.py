"""`create_app(settings)`: the Litestar application. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from catalog.db import make_engine, migrate
from catalog.schemas import SYSTEM
from catalog.schemas.portfolio import PortfolioPolicy
from catalog.seeding import seed_catalog
from catalog.services import webhooks
from catalog.services.tokens import bootstrap_admin
from registry.api.adoptions import AdoptionController
from registry.api.assets import AssetController
from registry.api.health import MetricsController, healthz, metrics_config, readyz
from registry.api.history import DiffController, JournalController, LabelController
from registry.api.native import ExportController, ImportController
from registry.api.pilots import PilotController
from registry.api.reports import ReportController
from registry.api.search import SearchController
from registry.api.webhooks import WebhookController
from registry.http.api_docs import api_docs_plugin, api_docs_routes
from registry.http.auth import provide_actor, token_guard
from registry.http.boundary import check_request
from registry.http.errors import exception_handlers
from registry.http.openapi import document_errors
from registry.http.security_headers import security_headers
from registry.http.write_priority import WritesFirst
from registry.settings import Settings
from registry.web.filters import register_filters
from registry.web.history_pages import HistoryPages
from registry.web.pages import STATIC, TEMPLATES, WebController
from registry.web.start_page import StartPage
from registry.workers import collector
from registry.workers.indexing import SearchSync, make_backend, run_as_leader
from registry.workers.process_locks import ProcessLock, exclusive
from registry.workers.searchlog import SearchLogBuffer
from registry.workers.webhooks import DeliveryWorker, key_mismatch, run_deliveries, webhook_key
from search.errors import SearchError

__all__ = ["create_app"]

log = logging.getLogger("registry")


def _announce_admin_token(token: str) -> None:
    """Shown once on the console, never logged: only its hash is stored."""
    bar = "=" * 78
    print(
        f"\n{bar}\nA new admin token was created for this registry. It is shown only this once:\n\n"
        f"    {token}\n\nUse it as REGISTRY_TOKEN for the CLI, or `Authorization: Bearer <token>` for the API.\n"
        f"Create team tokens with: registry token create --team <team> --scope publish --name ci\n{bar}\n",
        file=sys.stderr,
        flush=True,
    )


async def _first_start(settings: Settings, sync: SearchSync) -> None:
    """Admin token for a fresh catalog, the seed for an empty one, and an index that matches the catalog."""
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    token = await bootstrap_admin(admin, SYSTEM)
    if token:
        _announce_admin_token(token)
    report = await seed_catalog(settings.seed_dir, only_if_empty=settings.seed is None, enabled=settings.seed)
    if report.loaded:
        log.info("seeded the catalog: %s", report.summary())
    await webhooks.stamp_key(webhooks.key_fingerprint(webhook_key(settings)))
    if mismatch := await key_mismatch(settings):
        log.warning("%s", mismatch)
    try:
        await sync.verify()  # an index that is missing, replaced or behind is rebuilt or caught up now
    except SearchError as err:
        log.warning("search is not available yet (%s); publishing works, search catches up when it is back", err.detail)


def provide_policy(state: State) -> PortfolioPolicy:
    """The portfolio rules (gate deadlines, extraction window) from the settings."""
    settings: Settings = state.settings
    return settings.policy()


def create_app(settings: Settings | None = None, *, start_tasks: bool = True) -> Litestar:
    """Build the app; on start it migrates, installs an admin token on a fresh catalog and seeds it if asked."""
    settings = settings or Settings()
    collector.install()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, settings.data_dir)
        await migrate(engine)
        if isinstance(engine, PostgresEngine) and settings.db_pool_size:
            await engine.start_connection_pool(min_size=1, max_size=settings.db_pool_size)
        backend = make_backend(settings)
        sync = SearchSync(backend, verify_seconds=settings.search_verify_seconds)
        search_log = SearchLogBuffer()
        app.state.update(search=backend, search_sync=sync, search_log=search_log)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            if start_tasks:
                with exclusive(settings.data_dir / ".first-start.lock"):  # workers of one server take turns
                    await _first_start(settings, sync)
            in_app = settings.search_sync_in_app
            if in_app or (in_app is None and settings.search_backend == "embedded"):
                leader = ProcessLock(settings.data_dir / ".search-sync.lock")
                tasks.append(asyncio.create_task(run_as_leader(sync, leader, stop), name="search-sync"))
            tasks.append(asyncio.create_task(search_log.run_forever(stop), name="search-log"))
            if start_tasks:
                # SQLite: one process per data dir sends; PostgreSQL: every process, known alive by its presence
                lock = ProcessLock(settings.data_dir / ".webhooks.lock")
                sender = engine if isinstance(engine, PostgresEngine) else lock
                deliveries = run_deliveries(DeliveryWorker(settings), sender, stop)
                tasks.append(asyncio.create_task(deliveries, name="webhook-delivery"))
            collector.freeze_after_start()
            yield
        finally:
            gc.unfreeze()  # what this app holds can be collected once it is gone (tests start many apps)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await search_log.flush()
            await backend.close()
            if isinstance(engine, PostgresEngine) and settings.db_pool_size:
                await engine.close_connection_pool()

    metrics = metrics_config()
    return Litestar(
        route_handlers=[
            PilotController,
            AssetController,
            ImportController,
            ExportController,
            AdoptionController,
            JournalController,
            LabelController,
            DiffController,
            SearchController,
            WebhookController,
            ReportController,
            WebController,
            StartPage,
            HistoryPages,
            create_static_files_router(path="/static", directories=[STATIC], opt={"public": True}),
            *api_docs_routes(),
            healthz,
            readyz,
            MetricsController,
        ],
        middleware=[security_headers, metrics.middleware, WritesFirst(reads=settings.reads_in_flight).middleware],
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "policy": Provide(provide_policy, sync_to_thread=False),
        },
        template_config=TemplateConfig(
            directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=register_filters
        ),
        guards=[token_guard(settings.require_auth_for_reads)],
        before_request=check_request,
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
        on_startup=[document_errors],
        openapi_config=OpenAPIConfig(
            title="Platform asset registry",
            version="1.0.0",
            description="Reusable AI platform assets from graduated pilots: publish, find, adopt, report reuse.",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin(), api_docs_plugin()],
        ),
        state=State({"settings": settings}),
    )
