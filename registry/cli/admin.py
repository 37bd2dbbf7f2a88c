"""Admin commands acting on the database: serve, db migrate, seed, backup, tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from catalog.schemas import SCOPES, SYSTEM, TokenRequest
from registry.cli.common import database_label, err, on_database, out, search_backend, settings_of, validated, wide

__all__ = ["backup", "db", "seed", "serve", "token"]


@click.command()
@click.option("--host", help="interface to listen on (default: REGISTRY_HOST or 127.0.0.1)")
@click.option("--port", type=int, help="port (default: REGISTRY_PORT or 8000)")
@click.option("--workers", type=click.IntRange(1, 64), help="worker processes (default: REGISTRY_WORKERS or 1)")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the service: migrate, install an admin token on first start, seed an empty catalog, serve HTTP."""
    import uvicorn

    settings = settings_of(ctx)
    workers = workers or settings.workers
    options: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port, "log_level": "info"}
    if workers > 1:  # each worker process builds its app from the same environment
        uvicorn.run("registry.app:create_app", factory=True, workers=workers, **options)
    else:
        from registry.app import create_app

        uvicorn.run(create_app(settings), **options)


@click.group()
def db() -> None:
    """Database administration."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply every migration that has not run yet (safe to run again)."""
    settings = settings_of(ctx)

    async def nothing() -> None:
        return None

    on_database(settings, nothing(), create=True)
    out.print(f"database is up to date: {database_label(settings)}")


@click.group()
def backup() -> None:
    """The whole catalog as JSON lines: export it, restore it into an empty database."""


@backup.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path), default="-")
@click.pass_context
def backup_export(ctx: click.Context, file: Path) -> None:
    """Write every table to FILE (default: standard output), one JSON row per line after a header line."""
    from catalog.backup import export_lines
    from catalog.services import webhooks
    from registry.workers.webhooks import webhook_key

    settings = settings_of(ctx)

    async def write() -> int:
        lines = 0
        with click.open_file(str(file), "w", encoding="utf-8", atomic=str(file) != "-") as sink:
            async for line in export_lines(webhooks.key_fingerprint(webhook_key(settings))):
                sink.write(line + "\n")
                lines += 1
        return lines

    lines = on_database(settings, write())
    if str(file) != "-":  # the header and end lines are not rows: this is the count `restore` reads back
        err.print(f"wrote {lines - 2} rows to {file}")


@backup.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def backup_restore(ctx: click.Context, file: Path) -> None:
    """Load a backup into an empty catalog (all rows or none), then rebuild the search index from it."""
    from catalog.backup import Restored, restore_lines
    from registry.workers.indexing import reindex
    from registry.workers.webhooks import key_mismatch

    settings = settings_of(ctx)
    backend = search_backend(settings)

    async def load() -> tuple[Restored, int]:
        try:
            with click.open_file(str(file), encoding="utf-8") as source:
                restored = await restore_lines(line for line in source if line.strip())
            if mismatch := await key_mismatch(settings):
                err.print(f"warning    {mismatch}", markup=False)
            return restored, await reindex(backend)
        except UnicodeDecodeError as error:
            raise click.ClickException(f"{file} is not a backup: it is not UTF-8 text ({error.reason})") from None
        finally:
            await backend.close()

    restored, indexed = on_database(settings, load(), create=True)
    rows = ", ".join(f"{count} {table}" for table, count in restored.rows.items())
    out.print(f"restored {sum(restored.rows.values())} rows ({rows}); {indexed} assets indexed for search")
    if restored.nul_replaced:
        err.print(f"replaced {restored.nul_replaced} NUL characters with U+FFFD (PostgreSQL cannot store NUL)")


@click.command()
@click.option("--dir", "seed_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), help="seed folder")
@click.pass_context
def seed(ctx: click.Context, seed_dir: Path | None) -> None:
    """Load the seed pilots, assets and adoptions (idempotent: seeding twice changes nothing)."""
    from catalog.seeding import seed_catalog

    settings = settings_of(ctx)
    report = on_database(settings, seed_catalog(seed_dir or settings.seed_dir, only_if_empty=False))
    out.print(f"seeded: {report.summary()}" if report.loaded else "nothing to seed: the catalog already holds the seed")


@click.group()
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

    request = validated(TokenRequest, {"name": name, "team": team, "scopes": list(scopes)})
    created = on_database(settings_of(ctx), create_token(request, SYSTEM))
    err.print(f"token {created.id} for team {created.team} with scopes {', '.join(created.scopes)}; store it now:")
    click.echo(created.token)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke token TOKEN_ID (see `registry token list`)."""
    from catalog.services.tokens import revoke_token

    revoked = on_database(settings_of(ctx), revoke_token(token_id, SYSTEM))
    out.print(f"revoked token {revoked.id} ({revoked.name}, team {revoked.team})")


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """List tokens (never their values)."""

    from catalog.services.tokens import list_tokens

    tokens = on_database(settings_of(ctx), list_tokens())
    if as_json:
        click.echo(json.dumps([t.model_dump(mode="json") for t in tokens], indent=2))
        return
    table = Table()
    for header in ("id", "name", "team", "scopes", "prefix", "last used", "revoked"):
        table.add_column(header, overflow="fold")  # names and teams are folded, never cut
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
    wide().print(table)
