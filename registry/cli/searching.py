"""`registry search`: query over HTTP, or manage the index (reindex, sync, status) on the database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from catalog.schemas import KINDS
from registry.cli.client import RegistryClient
from registry.cli.common import on_database, out, search_backend, settings_of, wide
from search.errors import SearchError

__all__ = ["search"]


class _SearchGroup(click.Group):
    """`registry search QUERY` runs a search; `registry search reindex|sync|status` manage the index."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_SearchGroup)
def search() -> None:
    """Search the catalog (`registry search QUERY`), or manage the index (reindex, sync, status)."""


@search.command("query")
@click.argument("text", nargs=-1)
@click.option("--kind", type=click.Choice(list(KINDS)))
@click.option("--tag", "tags", multiple=True, help="repeatable; all must match")
@click.option("--owner")
@click.option("--origin-pilot")
@click.option("--sort", type=click.Choice(["relevance", "reuse", "newest"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def search_query(
    ctx: click.Context,
    text: tuple[str, ...],
    kind: str | None,
    tags: tuple[str, ...],
    owner: str | None,
    origin_pilot: str | None,
    sort: str,
    limit: int,
    as_json: bool,
) -> None:
    """Search assets over HTTP: typo-tolerant, with filters (the default `search` command)."""
    from rich.table import Table

    params: dict[str, Any] = {"q": " ".join(text), "tag": list(tags), "sort": sort, "limit": limit}
    params.update({k: v for k, v in {"kind": kind, "owner": owner, "origin_pilot": origin_pilot}.items() if v})
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("GET", "/api/v1/search", params=params)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    table = Table(title=f"{result['total']} found", title_justify="left")
    table.add_column("asset", no_wrap=True)
    for name in ("kind", "version", "reused by", "summary"):
        table.add_column(name)
    for hit in result["hits"]:
        name = hit["slug"] + (" (deprecated)" if hit["lifecycle"] == "deprecated" else "")
        table.add_row(name, hit["kind"], hit["latest_version"], str(hit["reuse_count"]), hit["summary"])
    wide().print(table)


@search.command("reindex")
@click.pass_context
def search_reindex(ctx: click.Context) -> None:
    """Rebuild the index from the database into a fresh index and swap it in (search keeps answering)."""
    from registry.workers.indexing import reindex

    settings = settings_of(ctx)
    backend = search_backend(settings)

    async def run() -> int:
        try:
            return await reindex(backend)
        finally:
            await backend.close()

    count = on_database(settings, run())
    out.print(f"reindexed {count} assets into a fresh {backend.name} index")


@search.command("sync")
@click.option("--once", is_flag=True, help="apply what is due now and exit")
@click.pass_context
def search_sync(ctx: click.Context, once: bool) -> None:
    """Apply catalog changes to the search index (a worker; several may run in parallel on PostgreSQL)."""
    import signal

    from registry.workers.indexing import SearchSync

    settings = settings_of(ctx)
    backend = search_backend(settings)

    async def run() -> int:
        sync = SearchSync(backend, verify_seconds=settings.search_verify_seconds)
        try:
            if once:
                return await sync.drain()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await sync.run_forever(stop)
            return 0
        finally:
            await backend.close()

    try:
        applied = on_database(settings, run())
    except SearchError as error:
        raise click.ClickException(f"search sync failed, changes stay queued: {error.detail}") from error
    if once:
        out.print(f"applied {applied} queued changes to the {backend.name} index")


@search.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search_status(ctx: click.Context, as_json: bool) -> None:
    """Show the sync backlog, the last sync error, and whether the index answers."""
    from catalog.services import outbox

    settings = settings_of(ctx)
    backend = search_backend(settings)

    async def run() -> dict[str, Any]:
        try:
            state = await outbox.status()
            health = await backend.health()
            count = await backend.document_count() if health is None else None
        finally:
            await backend.close()
        return {
            "backend": backend.name,
            "healthy": health is None,
            "problem": health,
            "documents": count,
            "backlog": state.backlog,
            "failing": state.failing,
            "oldest_pending_at": state.oldest_pending_at.isoformat() if state.oldest_pending_at else None,
            "last_error": state.last_error,
        }

    report = on_database(settings, run())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        out.print(f"{key:<18} {value if value is not None else '-'}")
