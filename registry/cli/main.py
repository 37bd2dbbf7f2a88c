"""Entry point of the `registry` command."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from pydantic import ValidationError
from rich.console import Console

from catalog.db import make_engine, migrate
from catalog.errors import CatalogError
from catalog.manifests import MANIFEST_NAME, find_manifests, load_manifest, publish_order
from catalog.schemas import KINDS, SCOPES, SYSTEM, TokenRequest
from registry.cli.client import ApiError, RegistryClient, describe_problem
from registry.cli.history import diff, label, log
from registry.cli.native import export_cmd, import_cmd
from registry.cli.pull import pull
from registry.cli.reports import report
from registry.cli.webhooks import webhook
from registry.settings import Settings
from search.errors import SearchError

__all__ = ["cli"]

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _on_database(settings: Settings, work: Awaitable[T]) -> T:
    """Run an admin command against the configured database (migrated first, so it always has its tables)."""

    async def run() -> T:
        await migrate(make_engine(settings.database_url, settings.data_dir))
        return await work

    try:
        return asyncio.run(run())
    except CatalogError as error:
        raise click.ClickException(
            describe_problem({"detail": error.detail, "errors": [p.as_dict() for p in error.problems]})
        ) from error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="asset-registry")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Registry of reusable AI platform assets from graduated pilots.

    Client commands (publish, pilot, adopt) talk HTTP to REGISTRY_URL with REGISTRY_TOKEN;
    admin commands (serve, db, seed, token) act on the database in REGISTRY_DATABASE_URL or REGISTRY_DATA_DIR.
    """
    try:
        ctx.obj = Settings()
    except ValidationError as error:  # one line per setting, never a traceback
        lines = [f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
                 for e in error.errors(include_url=False)]  # fmt: skip
        raise click.UsageError("invalid settings: " + "; ".join(lines)) from None


@cli.command()
@click.option("--host", help="interface to listen on (default: REGISTRY_HOST or 127.0.0.1)")
@click.option("--port", type=int, help="port (default: REGISTRY_PORT or 8000)")
@click.option("--workers", type=click.IntRange(1, 64), help="worker processes (default: REGISTRY_WORKERS or 1)")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the service: migrate, install an admin token on first start, seed an empty catalog, serve HTTP."""
    import uvicorn

    settings = _settings(ctx)
    workers = workers or settings.workers
    options: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port, "log_level": "info"}
    if workers > 1:  # each worker process builds its app from the same environment
        uvicorn.run("registry.app:create_app", factory=True, workers=workers, **options)
    else:
        from registry.app import create_app

        uvicorn.run(create_app(settings), **options)


@cli.group()
def db() -> None:
    """Database administration."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply every migration that has not run yet (safe to run again)."""
    settings = _settings(ctx)

    async def nothing() -> None:
        return None

    _on_database(settings, nothing())
    target = settings.database_url or str(settings.data_dir / "registry.sqlite")
    out.print(f"database is up to date: {_redact(target)}")


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


@cli.group()
def backup() -> None:
    """The whole catalog as JSON lines: export it, restore it into an empty database."""


@backup.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path), default="-")
@click.pass_context
def backup_export(ctx: click.Context, file: Path) -> None:
    """Write every table to FILE (default: standard output), one JSON row per line after a header line."""
    from catalog.backup import export_lines

    settings = _settings(ctx)

    async def write() -> int:
        lines = 0
        with click.open_file(str(file), "w", encoding="utf-8", atomic=str(file) != "-") as sink:
            async for line in export_lines():
                sink.write(line + "\n")
                lines += 1
        return lines

    lines = _on_database(settings, write())
    if str(file) != "-":
        err.print(f"wrote {lines - 1} rows to {file}")


@backup.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def backup_restore(ctx: click.Context, file: Path) -> None:
    """Load a backup into an empty catalog (all rows or none), then rebuild the search index from it."""
    from catalog.backup import Restored, restore_lines
    from registry.indexing import reindex

    settings = _settings(ctx)
    backend = _backend(settings)

    async def load() -> tuple[Restored, int]:
        try:
            with click.open_file(str(file), encoding="utf-8") as source:
                restored = await restore_lines(line for line in source if line.strip())
            return restored, await reindex(backend)
        except UnicodeDecodeError as error:
            raise click.ClickException(f"{file} is not a backup: it is not UTF-8 text ({error.reason})") from None
        finally:
            await backend.close()

    restored, indexed = _on_database(settings, load())
    rows = ", ".join(f"{count} {table}" for table, count in restored.rows.items())
    out.print(f"restored {sum(restored.rows.values())} rows ({rows}); {indexed} assets indexed for search")
    if restored.nul_replaced:
        err.print(f"replaced {restored.nul_replaced} NUL characters with U+FFFD (PostgreSQL cannot store NUL)")


@cli.command()
@click.option("--dir", "seed_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), help="seed folder")
@click.pass_context
def seed(ctx: click.Context, seed_dir: Path | None) -> None:
    """Load the seed pilots, assets and adoptions (idempotent: seeding twice changes nothing)."""
    from catalog.seeding import seed_catalog

    settings = _settings(ctx)
    report = _on_database(settings, seed_catalog(seed_dir or settings.seed_dir, only_if_empty=False))
    out.print(f"seeded: {report.summary()}" if report.loaded else "nothing to seed: the catalog already holds the seed")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def publish(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Publish assets: folders holding asset.yaml (searched recursively) or manifest files.

    Prints one line per asset version; exits non-zero if any failed. Dependencies are published first.
    """
    settings = _settings(ctx)
    manifests: list[dict[str, Any]] = []
    failed = 0
    for given in paths:
        if given.is_dir() and not find_manifests([given]):
            failed += 1
            out.print(f"failed     {given}: no {MANIFEST_NAME} in it or its subfolders; nothing to publish there")
    for path in find_manifests(paths):
        try:
            data = load_manifest(path)
            data["_path"] = str(path)
            manifests.append(data)
        except CatalogError as error:
            failed += 1
            out.print(f"failed     {path}: {describe_problem(error.as_problem())}")
    with RegistryClient(settings) as client:
        for data in publish_order(manifests):
            where = data.pop("_path")
            name = f"{data.get('slug', '?')}@{data.get('version', '?')}"
            try:
                result = client.json("POST", "/api/v1/assets", json=data)
            except ApiError as error:
                if error.status is None:
                    raise
                failed += 1
                out.print(f"failed     {name} ({where}): {error.message}")
                continue
            out.print(f"{result['status']:<10} {name}  {result['content_digest'][:19]}")
            for warning in result.get("warnings") or []:
                out.print(f"           warning: {warning}")
    total = len(manifests) + (failed if failed > len(manifests) else 0)
    if failed:
        err.print(f"{failed} of {total} failed")
        sys.exit(1)


@cli.group()
def pilot() -> None:
    """Pilots and their stage gates (client commands)."""


@pilot.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def pilot_create(ctx: click.Context, file: Path) -> None:
    """Register a pilot from a YAML or JSON file with slug, name, team, budget_owner, problem, baseline, target."""
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data.pop("gates", None)  # a seed-style file: its history is recorded gate by gate
    if isinstance(data.get("created_at"), date):
        data["created_at"] = data["created_at"].isoformat()  # YAML reads dates; the API takes ISO text
    with RegistryClient(_settings(ctx)) as client:
        result = client.json("POST", "/api/v1/pilots", json=data)
    out.print(f"created pilot {result['slug']} (team {result['team']}, stage {result['stage']})")


@pilot.command("gate")
@click.argument("slug")
@click.option("--stage", type=click.IntRange(1, 4), required=True, help="the gate decided: the pilot's current stage")
@click.option("--decision", type=click.Choice(["commit", "iterate", "kill"]), required=True)
@click.option("--decided-by", required=True, help="who decided (name or forum)")
@click.option("--notes", default="", help="why; required for iterate and kill")
@click.option("--evidence-url", help="link to the review document")
@click.option("--evidence", "evidence_pairs", multiple=True, metavar="KEY=VALUE", help="one evidence item (repeatable)")
@click.option(
    "--evidence-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="YAML/JSON evidence"
)
@click.option("--decided-at", help="admin only: when the gate was really decided (YYYY-MM-DD or ISO datetime)")
@click.pass_context
def pilot_gate(
    ctx: click.Context,
    slug: str,
    stage: int,
    decision: str,
    decided_by: str,
    notes: str,
    evidence_url: str | None,
    evidence_pairs: tuple[str, ...],
    evidence_file: Path | None,
    decided_at: str | None,
) -> None:
    """Record a gate decision for pilot SLUG; commit at gate 4 graduates it."""
    evidence: dict[str, Any] = yaml.safe_load(evidence_file.read_text(encoding="utf-8")) if evidence_file else {}
    for pair in evidence_pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--evidence")
        evidence[key.strip()] = yaml.safe_load(value) if value.strip() else value
    body = {"stage": stage, "decision": decision, "decided_by": decided_by, "notes": notes, "evidence": evidence}
    if evidence_url:
        body["evidence_url"] = evidence_url
    if decided_at:
        body["decided_at"] = decided_at
    with RegistryClient(_settings(ctx)) as client:
        result = client.json("POST", f"/api/v1/pilots/{slug}/gates", json=body)
    out.print(f"pilot {result['slug']}: gate {stage} {decision}; now stage {result['stage']}, {result['status']}")


@pilot.command("deadline")
@click.argument("slug")
@click.option("--stage", type=click.IntRange(1, 4), required=True, help="the gate")
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="days the gate may take from entering it")
@click.option("--reason", required=True, help="why this pilot's gate differs from the default (a sentence)")
@click.pass_context
def pilot_deadline(ctx: click.Context, slug: str, stage: int, days: int, reason: str) -> None:
    """Give one gate of pilot SLUG its own decision deadline (journaled with the reason)."""
    with RegistryClient(_settings(ctx)) as client:
        result = client.json("PUT", f"/api/v1/pilots/{slug}/deadlines/{stage}", json={"days": days, "reason": reason})
    health = result.get("health") or {}
    out.print(f"pilot {slug}: gate {stage} deadline {days} days; now {health.get('state', result['status'])}")


@cli.command()
@click.argument("target", metavar="SLUG@VERSION")
@click.option("--pilot", "pilot_slug", required=True, help="the adopting pilot")
@click.option("--mode", type=click.Choice(["as_is", "adapted", "forked"]), default="as_is", show_default=True)
@click.option("--hours-saved", type=click.FloatRange(min=0), default=0.0, help="estimated hours this saved")
@click.option("--note", default="")
@click.pass_context
def adopt(ctx: click.Context, target: str, pilot_slug: str, mode: str, hours_saved: float, note: str) -> None:
    """Record that a pilot adopted an asset. VERSION may be a label (production) or omitted for the latest."""
    slug, _, version = target.partition("@")
    body = {
        "asset": slug,
        "version": version or None,
        "pilot": pilot_slug,
        "mode": mode,
        "hours_saved": hours_saved,
        "note": note,
    }
    with RegistryClient(_settings(ctx)) as client:
        result = client.json("POST", "/api/v1/adoptions", json=body)
    out.print(
        f"adoption {result['id']}: {result['pilot']} adopted {result['asset']}@{result['version']} ({result['mode']})"
    )
    for warning in result.get("warnings") or []:
        out.print(f"warning: {warning}")


class _SearchGroup(click.Group):
    """`registry search QUERY` runs a search; `registry search reindex|sync|status` manage the index."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_SearchGroup)
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
    with RegistryClient(_settings(ctx)) as client:
        result = client.json("GET", "/api/v1/search", params=params)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    table = Table(
        "asset", "kind", "version", "reused by", "summary", title=f"{result['total']} found", title_justify="left"
    )
    for hit in result["hits"]:
        name = hit["slug"] + (" (deprecated)" if hit["lifecycle"] == "deprecated" else "")
        table.add_row(name, hit["kind"], hit["latest_version"], str(hit["reuse_count"]), hit["summary"])
    out.print(table)


def _backend(settings: Settings) -> Any:
    from registry.indexing import make_backend

    return make_backend(settings)


@search.command("reindex")
@click.pass_context
def search_reindex(ctx: click.Context) -> None:
    """Rebuild the index from the database into a fresh index and swap it in (search keeps answering)."""
    from registry.indexing import reindex

    settings = _settings(ctx)
    backend = _backend(settings)

    async def run() -> int:
        try:
            return await reindex(backend)
        finally:
            await backend.close()

    count = _on_database(settings, run())
    out.print(f"reindexed {count} assets into a fresh {backend.name} index")


@search.command("sync")
@click.option("--once", is_flag=True, help="apply what is due now and exit")
@click.pass_context
def search_sync(ctx: click.Context, once: bool) -> None:
    """Apply catalog changes to the search index (a worker; several may run in parallel on PostgreSQL)."""
    import signal

    from registry.indexing import SearchSync

    settings = _settings(ctx)
    backend = _backend(settings)

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
        applied = _on_database(settings, run())
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

    settings = _settings(ctx)
    backend = _backend(settings)

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

    report = _on_database(settings, run())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        out.print(f"{key:<18} {value if value is not None else '-'}")


@cli.group()
def token() -> None:
    """API tokens (admin commands on the database)."""


@token.command("create")
@click.option("--team", required=True, help="the team the token acts for")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="repeatable",
)
@click.option("--name", required=True, help="what the token is for, e.g. ci-claims")
@click.pass_context
def token_create(ctx: click.Context, team: str, scopes: tuple[str, ...], name: str) -> None:
    """Create a token and print it (only the token, on stdout; it is shown this once)."""
    from catalog.services.tokens import create_token

    request = TokenRequest.model_validate({"name": name, "team": team, "scopes": list(scopes)})
    created = _on_database(_settings(ctx), create_token(request, SYSTEM))
    err.print(f"token {created.id} for team {created.team} with scopes {', '.join(created.scopes)}; store it now:")
    click.echo(created.token)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke token TOKEN_ID (see `registry token list`)."""
    from catalog.services.tokens import revoke_token

    revoked = _on_database(_settings(ctx), revoke_token(token_id, SYSTEM))
    out.print(f"revoked token {revoked.id} ({revoked.name}, team {revoked.team})")


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """List tokens (never their values)."""
    from rich.table import Table

    from catalog.services.tokens import list_tokens

    tokens = _on_database(_settings(ctx), list_tokens())
    if as_json:
        click.echo(json.dumps([t.model_dump(mode="json") for t in tokens], indent=2))
        return
    table = Table("id", "name", "team", "scopes", "prefix", "last used", "revoked")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.team,
            ",".join(t.scopes),
            t.prefix + "…",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "",
        )
    out.print(table)


cli.add_command(pull)
cli.add_command(report)
cli.add_command(import_cmd)
cli.add_command(export_cmd)
cli.add_command(log)
cli.add_command(diff)
cli.add_command(label)
cli.add_command(webhook)

if __name__ == "__main__":
    cli()
