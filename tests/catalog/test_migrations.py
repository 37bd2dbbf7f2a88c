"""The committed migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import create_db_tables

from catalog.db import make_engine, use_engine
from catalog.tables import ALL_TABLES
from registry.cli.main import cli
from tests.conftest import Database

pytestmark = pytest.mark.anyio


async def _columns(engine: Engine[Any], table: str) -> dict[str, tuple[Any, ...]]:
    """Each column's type, nullability and default as the database itself reports them."""
    if isinstance(engine, PostgresEngine):
        cols = "column_name AS name, data_type, character_maximum_length AS length, is_nullable, column_default"
        where = f"table_name = '{table}' AND table_schema = 'public'"
        query = f"SELECT {cols} FROM information_schema.columns WHERE {where}"  # noqa: S608 (our own table names)
        rows = await engine.run_ddl(query)
        return {r["name"]: (r["data_type"], r["length"], r["is_nullable"], r["column_default"]) for r in rows}
    rows = await engine.run_ddl(f"PRAGMA table_info({table})")
    return {r["name"]: (r["type"].upper(), r["notnull"], r["dflt_value"], r["pk"]) for r in rows}


async def _indexes(engine: Engine[Any], table: str) -> set[tuple[str, bool]]:
    """Each index as (its columns, unique), whatever it is named."""
    if isinstance(engine, PostgresEngine):
        rows = await engine.run_ddl(f"SELECT indexdef FROM pg_indexes WHERE tablename = '{table}'")  # noqa: S608
        return {(r["indexdef"].split(" USING ", 1)[1], "UNIQUE INDEX" in r["indexdef"]) for r in rows}
    found = set()
    for index in await engine.run_ddl(f"PRAGMA index_list({table})"):
        columns = await engine.run_ddl(f"PRAGMA index_info('{index['name']}')")
        found.add((",".join(str(c["name"]) for c in columns), bool(index["unique"])))
    return found


async def test_migrated_schema_matches_the_tables(db: Database, tmp_path: Path) -> None:
    """Columns with their types, nullability and defaults, uniques and indexes: what the migrations built is
    what the tables declare (Piccolo creating the tables directly in an empty database), on both engines.
    Indexes that raw migrations add for reports and search come on top and are allowed."""
    declared_engine = await _empty_database(db, tmp_path)
    use_engine(declared_engine)
    try:
        await create_db_tables(*ALL_TABLES)
        names = [t._meta.tablename for t in ALL_TABLES]
        declared = {n: (await _columns(declared_engine, n), await _indexes(declared_engine, n)) for n in names}
    finally:
        use_engine(db.engine)
    for table in ALL_TABLES:
        name = table._meta.tablename
        columns, indexes = declared[name]
        assert await _columns(db.engine, name) == columns, name
        assert indexes <= await _indexes(db.engine, name), name


async def _empty_database(db: Database, tmp_path: Path) -> Engine[Any]:
    if not isinstance(db.engine, PostgresEngine):
        (tmp_path / "declared").mkdir()
        return make_engine(None, tmp_path / "declared")
    base, _, name = db.url.rpartition("/")
    connection = await asyncpg.connect(db.url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}_declared"')
        await connection.execute(f'CREATE DATABASE "{name}_declared"')
    finally:
        await connection.close()
    return make_engine(f"{base}/{name}_declared", tmp_path)


def test_db_migrate_creates_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["db", "migrate"])
        assert result.exit_code == 0, result.output
        assert "database is up to date" in result.output
    assert (tmp_path / "data" / "registry.sqlite").stat().st_size > 0
