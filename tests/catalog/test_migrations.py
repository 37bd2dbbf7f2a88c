"""The committed migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from piccolo.engine.postgres import PostgresEngine

from catalog.tables import ALL_TABLES
from registry.cli.main import cli
from tests.conftest import Database

pytestmark = pytest.mark.anyio


async def test_migrated_schema_matches_the_tables(db: Database) -> None:
    for table in ALL_TABLES:
        name = table._meta.tablename
        if isinstance(db.engine, PostgresEngine):
            rows = await db.engine.run_ddl(
                f"SELECT column_name AS name FROM information_schema.columns WHERE table_name = '{name}'"  # noqa: S608
            )
        else:
            rows = await db.engine.run_ddl(f"PRAGMA table_info({name})")
        in_database = {r["name"] for r in rows}
        declared = {c._meta.db_column_name for c in table._meta.columns}
        assert in_database == declared, name


def test_db_migrate_creates_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["db", "migrate"])
        assert result.exit_code == 0, result.output
        assert "database is up to date" in result.output
    assert (tmp_path / "data" / "registry.sqlite").stat().st_size > 0
