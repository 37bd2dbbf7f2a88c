"""Backup export and restore on SQLite and PostgreSQL: every row back, ids and all, or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.backup import TABLES, export_lines, restore_lines
from catalog.db import make_engine
from catalog.errors import Conflict, InvalidInput
from catalog.schemas import SYSTEM, AdoptionRequest, PilotRequest, TokenRequest
from catalog.seeding import seed_catalog
from catalog.services import adoption, pilots
from catalog.services.reports import reuse_report
from catalog.services.tokens import create_token
from catalog.tables import Adoption, Pilot
from tests.conftest import Database
from tests.factories import pilot_request

pytestmark = pytest.mark.anyio
SEED = Path(__file__).resolve().parents[2] / "seed_assets"


async def export() -> list[str]:
    return [line async for line in export_lines()]


async def empty_catalog() -> None:
    for table in reversed(TABLES):
        await table.delete(force=True)


async def test_a_restored_catalog_is_the_same_catalog(db: object) -> None:
    await seed_catalog(SEED)
    await create_token(TokenRequest(name="ci", team="claims-ai", scopes=["publish"]), SYSTEM)
    lines = await export()
    header = json.loads(lines[0])
    assert header["format"] == "asset-registry-backup" and header["rows"]["asset"] == 24
    assert len(lines) == 2 + sum(header["rows"].values())  # header, rows, end line
    period = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    report = await reuse_report(*period)

    await empty_catalog()
    restored = await restore_lines(lines)
    assert restored.rows == {name: count for name, count in header["rows"].items() if count}
    again = await export()
    assert again[1:-1] == lines[1:-1]  # every row, ids included
    assert await reuse_report(*period) == report
    # New rows continue after the restored ids.
    pilot = await pilots.create_pilot(PilotRequest.model_validate(pilot_request("after-restore", "team-x")), SYSTEM)
    new = await adoption.record_adoption(AdoptionRequest(asset="pii-leak-monitor", pilot=pilot.slug), SYSTEM)
    assert new.id > max(json.loads(line)["row"]["id"] for line in lines[1:] if '"table": "adoption"' in line)


async def test_restore_refuses_a_catalog_with_data(db: object) -> None:
    await seed_catalog(SEED)
    lines = await export()
    with pytest.raises(Conflict) as refused:
        await restore_lines(lines)
    assert refused.value.code == "catalog-not-empty"


async def test_a_broken_backup_restores_nothing_and_says_where(db: object) -> None:
    await seed_catalog(SEED)
    lines = await export()
    await empty_catalog()
    cases = {
        "not JSON": [lines[0], *lines[1:50], "{oops", *lines[50:]],
        "unknown table": [lines[0], *lines[1:50], json.dumps({"table": "users", "row": {}})],
        "unknown column": [lines[0], json.dumps({"table": "pilot", "row": {"id": 1, "colour": "red"}})],
        "bad time": [lines[0], json.dumps({"table": "search_log", "row": {"id": 1, "at": "yesterday"}})],
        "not a backup": ['{"hello": "world"}', *lines[1:]],
        "other schema": [json.dumps({**json.loads(lines[0]), "schema": "2020-01-01T00:00:00"}), *lines[1:]],
        "empty": [],
        "cut short": lines[:-30],
        "no end line": lines[:-1],
        "a row less": [*lines[:10], *lines[11:]],
        "altered": [lines[0], lines[1].replace('"id": 1', '"id": 1000'), *lines[2:]],
        "more after the end": [*lines, lines[1]],
    }
    for name, broken in cases.items():
        with pytest.raises(InvalidInput) as error:
            await restore_lines(broken)
        assert error.value.problems[0].pointer.startswith("/line/"), name
        assert await Pilot.count() == 0 and await Adoption.count() == 0, name


async def test_an_export_is_one_snapshot_while_the_catalog_changes(db: Database, tmp_path: Path) -> None:
    await seed_catalog(SEED)
    lines = export_lines()
    header = json.loads(await anext(lines))
    other = make_engine(db.url, tmp_path)  # another connection writes while the export runs
    await other.run_ddl(
        "INSERT INTO journal_entry (at, actor, action, subject, payload) "
        "VALUES ('2026-11-25 10:00:00+00:00', 'elsewhere', 'test.write', 'x', '{}')"
    )
    rows = [json.loads(line) async for line in lines][:-1]  # the end line is not a row
    assert len(rows) == sum(header["rows"].values())
    assert not any(r["row"].get("actor") == "elsewhere" for r in rows if r["table"] == "journal_entry")
