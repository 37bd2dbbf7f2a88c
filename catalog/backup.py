"""Backup: the whole catalog as JSON lines, and its restore into an empty database.

The database is the source of truth, so a backup is every table's rows (the search index is not in it: it is
derived, and rebuilt after a restore). The format is dialect-neutral: a SQLite catalog restores into
PostgreSQL and back. Line 1 is a header naming the format, its version and the schema (last migration) the
rows follow; every other line is `{"table": ..., "row": {...}}`, tables in an order that satisfies their
foreign keys. A restore is one transaction: all rows or none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from typing import Any

from piccolo.columns import Timestamptz
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from catalog.errors import Conflict, FieldProblem, InvalidInput
from catalog.services.journal import now, write_transaction
from catalog.tables import ALL_TABLES, Pilot, SearchIndexState, SearchOutbox

__all__ = ["FORMAT", "TABLES", "export_lines", "restore_lines"]

FORMAT = "asset-registry-backup"
VERSION = 1
# Every table, foreign keys first, but the search outbox and index state: a restore rebuilds the index anyway.
TABLES: tuple[type[Table], ...] = tuple(t for t in ALL_TABLES if t not in (SearchOutbox, SearchIndexState))
BATCH = 500


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a backup")


async def _schema() -> str:
    from piccolo.apps.migrations.tables import Migration

    last = await Migration.select(Migration.name).order_by(Migration._meta.primary_key, ascending=False).first()
    return str(last["name"]) if last else ""


async def export_lines() -> AsyncIterator[str]:
    """Yield the backup line by line (header first), each table in id order and in batches, all from one
    snapshot: a catalog in use while it is exported still gives a backup whose rows fit together."""
    engine = Pilot._meta.db
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):  # SQLite's transaction reads one snapshot already (WAL)
            await Pilot.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        counts = {table._meta.tablename: await table.count() for table in TABLES}
        header = {"format": FORMAT, "version": VERSION, "schema": await _schema(), "exported_at": now(), "rows": counts}
        yield json.dumps(header, default=_encode)
        for table in TABLES:
            pk = table._meta.primary_key
            last = None
            while True:
                query = table.select().order_by(pk).limit(BATCH).output(load_json=True)
                rows = await (query.where(pk > last) if last is not None else query)
                for row in rows:
                    yield json.dumps({"table": table._meta.tablename, "row": row}, default=_encode, ensure_ascii=False)
                if len(rows) < BATCH:
                    break
                last = rows[-1][pk._meta.name]


def _problem(line: int, detail: str, fix: str) -> InvalidInput:
    return InvalidInput(
        f"the backup cannot be restored: line {line}: {detail}", [FieldProblem(f"/line/{line}", detail, fix)]
    )


def _times(table: type[Table]) -> set[str]:
    """The columns whose values are ISO times in the file."""
    return {c._meta.name for c in table._meta.columns if isinstance(c, Timestamptz)}


async def _reset_sequences() -> None:
    """PostgreSQL: continue each id sequence after the restored ids (SQLite does so by itself)."""
    if isinstance(Pilot._meta.db, PostgresEngine):
        for table in TABLES:
            name = table._meta.tablename
            await table.raw(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {name}"  # noqa: S608
            )


async def restore_lines(lines: Iterable[str]) -> dict[str, int]:
    """Load a backup into an empty catalog, in one transaction; returns the rows restored per table."""
    by_name = {table._meta.tablename: table for table in TABLES}
    columns = {name: {c._meta.name for c in table._meta.columns} for name, table in by_name.items()}
    times = {name: _times(table) for name, table in by_name.items()}
    schema = await _schema()
    restored = dict.fromkeys(by_name, 0)
    pending: list[Table] = []
    pending_table: type[Table] | None = None

    async def flush() -> None:
        nonlocal pending
        if pending and pending_table is not None:
            await pending_table.insert(*pending)
            restored[pending_table._meta.tablename] += len(pending)
        pending = []

    async with write_transaction():
        if any([await table.exists() for table in TABLES]):
            raise Conflict(
                "a backup restores into an empty catalog only; this one has data. Point REGISTRY_DATABASE_URL "
                "(or REGISTRY_DATA_DIR) at a new database, run `registry db migrate`, then restore",
                code="catalog-not-empty",
            )
        number = 0
        for number, text in enumerate(lines, start=1):
            try:
                item = json.loads(text)
            except json.JSONDecodeError as error:
                raise _problem(
                    number, f"not JSON ({error.msg})", "restore a file written by `registry backup export`"
                ) from None
            if number == 1:
                _check_header(item, schema)
                continue
            if not isinstance(item, dict) or not isinstance(item.get("row"), dict) or item.get("table") not in by_name:
                raise _problem(
                    number, 'expected {"table": <a catalog table>, "row": {...}}', "restore an unedited backup"
                )
            name, row = item["table"], item["row"]
            table = by_name[name]
            unknown = set(row) - columns[name]
            if unknown:
                raise _problem(number, f"{name} has no column {sorted(unknown)[0]!r}", "restore an unedited backup")
            try:
                values = {
                    k: datetime.fromisoformat(v) if k in times[name] and v is not None else v for k, v in row.items()
                }
            except (TypeError, ValueError) as error:
                raise _problem(
                    number, f"a time in {name} does not parse: {error}", "restore an unedited backup"
                ) from None
            if table is not pending_table or len(pending) >= BATCH:
                await flush()
                pending_table = table
            pending.append(table.from_dict(values))
        if number == 0:
            raise _problem(1, "the file is empty", "restore a file written by `registry backup export`")
        await flush()
        await _reset_sequences()
    return {name: count for name, count in restored.items() if count}


def _check_header(header: Any, schema: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _problem(1, f"not a {FORMAT} header", "restore a file written by `registry backup export`")
    if header.get("version") != VERSION:
        raise _problem(
            1,
            f"backup format version {header.get('version')!r}; this registry reads {VERSION}",
            "restore with the registry version that wrote it",
        )
    if header.get("schema") != schema:
        raise _problem(
            1,
            f"the backup follows schema {header.get('schema')!r}, this database {schema!r}",
            "restore with the registry version that wrote the backup, then upgrade (its migrations move the data)",
        )
