"""Database engines: SQLite by default, PostgreSQL from a URL, and the switch that points tables at one."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

__all__ = ["engine_from_environment", "make_engine", "migrate", "sqlite_path", "use_engine"]


def sqlite_path(data_dir: Path) -> Path:
    return data_dir / "registry.sqlite"


def make_engine(database_url: str | None, data_dir: Path) -> Engine[Any]:
    """Build the engine for a `postgresql://` URL, or the SQLite file under the data dir when there is none."""
    if not database_url:
        path = sqlite_path(data_dir).resolve()
        # timeout: writers wait for each other instead of failing with "database is locked".
        return SQLiteEngine(path=str(path), timeout=30)
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
        return SQLiteEngine(path=str(Path(url.path).resolve()), timeout=30)
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


async def migrate(engine: Engine[Any], *, quiet: bool = True) -> None:
    """Apply every committed migration that has not run yet on `engine` (idempotent)."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    if isinstance(engine, SQLiteEngine):
        Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
    use_engine(engine)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="catalog", migration_id="all")
    if not result.success:
        print(sink.getvalue(), file=sys.stderr)
        raise RuntimeError(f"database migration failed: {result.message}")
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers run beside the writer; synchronous stays FULL, so a commit is on disk.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
