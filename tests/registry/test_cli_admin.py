"""Admin commands know their database: they say which on stderr, refuse one without a catalog (only `serve`,
`db migrate` and `backup restore` make one), and answer bad options and unreachable databases in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.helpers import admin


@pytest.mark.parametrize(
    "command",
    [
        ["token", "create", "--team", "claims-ai", "--scope", "read", "--name", "ci"],
        ["token", "list"],
        ["backup", "export", "backup.jsonl"],
        ["seed"],
        ["search", "reindex"],
    ],
)
def test_an_admin_command_in_an_empty_folder_fails_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    result = admin(tmp_path, *command)
    assert result.returncode == 1, result
    assert "no registry catalog at" in result.stderr and "REGISTRY_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_admin_commands_name_their_database_and_count_what_restore_reads(tmp_path: Path) -> None:
    assert admin(tmp_path, "db", "migrate").returncode == 0
    created = admin(tmp_path, "token", "create", "--team", "claims-ai", "--scope", "read", "--name", "ci")
    assert created.returncode == 0 and created.stdout.startswith("reg_")
    assert f"database   {tmp_path / 'var' / 'registry.sqlite'}" in created.stderr
    exported = admin(tmp_path, "backup", "export", "backup.jsonl")
    written = int(exported.stderr.split("wrote ")[1].split(" rows")[0])
    restored = admin(tmp_path, "backup", "restore", "backup.jsonl", REGISTRY_DATA_DIR=str(tmp_path / "other"))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"restored {written} rows")


def test_bad_options_and_unreachable_databases_are_one_line(tmp_path: Path) -> None:
    assert admin(tmp_path, "db", "migrate").returncode == 0
    bad = admin(tmp_path, "token", "create", "--team", "x", "--scope", "read", "--name", "ci")
    assert bad.returncode == 1 and "/team: 'x' is not a valid slug" in bad.stderr and "Traceback" not in bad.stderr
    url = "postgresql://registry:secret@127.0.0.1:1/registry"
    unreachable = admin(tmp_path, "token", "list", REGISTRY_DATABASE_URL=url)
    assert unreachable.returncode == 1 and "cannot use the database at" in unreachable.stderr
    assert "secret" not in unreachable.stderr and "Traceback" not in unreachable.stderr
    assert "never awaited" not in unreachable.stderr


@pytest.mark.skipif(not PG_URL, reason="REGISTRY_TEST_POSTGRES_URL is not set (make test sets it)")
def test_a_postgres_database_without_a_catalog_is_refused(tmp_path: Path) -> None:
    import asyncio

    import asyncpg

    async def empty_database() -> str:
        base, _, _ = str(PG_URL).rpartition("/")
        connection = await asyncpg.connect(str(PG_URL))
        try:
            await connection.execute("DROP DATABASE IF EXISTS registry_admin_empty")
            await connection.execute("CREATE DATABASE registry_admin_empty")
        finally:
            await connection.close()
        return f"{base}/registry_admin_empty"

    url = asyncio.run(empty_database())
    result = admin(tmp_path, "token", "list", REGISTRY_DATABASE_URL=url)
    assert result.returncode == 1 and "no registry catalog at postgresql://registry:***@" in result.stderr
