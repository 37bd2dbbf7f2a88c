"""Database engines: SQLite by default, PostgreSQL from a URL, and the switch that points tables at one."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import anyio
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from catalog.sqlite_engine import SQLite

__all__ = ["engine_from_environment", "make_engine", "migrate", "sqlite_path", "use_engine"]


# pg_advisory_lock key of "catalog migrations": any fixed 64-bit number no other application uses.
_MIGRATION_LOCK_KEY = 0x61737365745F7267


def sqlite_path(data_dir: Path) -> Path:
    return data_dir / "registry.sqlite"


def make_engine(database_url: str | None, data_dir: Path) -> Engine[Any]:
    """Build the engine for a `postgresql://` URL, or the SQLite file under the data dir when there is none."""
    if not database_url:
        path = sqlite_path(data_dir).resolve()
        # timeout: writers wait for each other instead of failing with "database is locked".
        return SQLite(path=str(path), timeout=30)
    url = urlparse(database_url)
    if url.scheme in {"postgresql", "postgres"}:
        config: dict[str, object] = {
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 5432,
            "user": unquote(url.username or ""),
            "password": unquote(url.password or ""),
            "database": url.path.lstrip("/"),
            "server_settings": {
                # Reports aggregate ~100k assets: let hash aggregates stay in memory (the default is 4 MB).
                "work_mem": "32MB",
                # The catalog's working set is cached or on SSD: index-only scans of the report's covering
                # indexes are cheaper than the default 4.0 assumes (spinning disks).
                "random_page_cost": "1.1",
                # JIT compiling spends 50+ ms per report query to save less; the catalog's queries are short.
                "jit": "off",
            },
        }
        return PostgresEngine(config=config)
    if url.scheme == "sqlite":
        return SQLite(path=str(Path(url.path).resolve()), timeout=30)
    raise ValueError(
        f"REGISTRY_DATABASE_URL has the scheme {url.scheme!r}; use postgresql://user:pass@host:port/db "
        "or sqlite:///absolute/path.sqlite"
    )


def engine_from_environment() -> Engine[Any]:
    """The engine named by REGISTRY_DATABASE_URL / REGISTRY_DATA_DIR (used by Piccolo's own CLI)."""
    return make_engine(os.environ.get("REGISTRY_DATABASE_URL"), Path(os.environ.get("REGISTRY_DATA_DIR", "./var")))


def use_engine(engine: Engine[Any]) -> None:
    """Point every catalog table, and Piccolo's migration runner, at `engine`."""
    from piccolo.apps.migrations.tables import Migration
    from piccolo.table import Table

    from catalog import piccolo_conf, tables

    piccolo_conf.DB = engine
    bound: tuple[type[Table], ...] = (*tables.ALL_TABLES, Migration)
    for table in bound:
        table._meta.db = engine


@asynccontextmanager
async def _migration_lock(engine: Engine[Any]) -> AsyncIterator[None]:
    """Held while migrating, by every process that starts on this database: workers of one server, or
    app processes on several hosts (a PostgreSQL advisory lock on its own connection), so only the first
    migrates and the others find the work done."""
    if isinstance(engine, PostgresEngine):
        config = {k: v for k, v in engine.config.items() if k != "server_settings"}
        connection = await asyncpg.connect(**config)
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()  # ends the session, which releases the lock
        return
    assert isinstance(engine, SQLiteEngine)
    lock_path = f"{engine.path}.migrate.lock"  # the path is absolute: make_engine resolves it
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def migrate(engine: Engine[Any], *, quiet: bool = True) -> None:
    """Apply every committed migration that has not run yet on `engine` (idempotent, one process at a time)."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    use_engine(engine)
    sink = io.StringIO()
    async with _migration_lock(engine):
        with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
            result = await run_forwards(app_name="catalog", migration_id="all")
    if not result.success:
        print(sink.getvalue(), file=sys.stderr)
        raise RuntimeError(f"database migration failed: {result.message}")
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers run beside the writer; synchronous stays FULL, so a commit is on disk.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
