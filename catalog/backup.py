"""Backup: the whole catalog as JSON lines, and its restore into an empty database.

The database is the source of truth, so a backup is every table's rows (the search index is not in it: it is
derived, and rebuilt after a restore). The format is dialect-neutral: a SQLite catalog restores into
PostgreSQL and back. Line 1 is a header naming the format, its version, the schema (last migration) the
rows follow and the row count of each table; then one `{"table": ..., "row": {...}}` per line, tables in an
order that satisfies their foreign keys; the last line is a trailer with the SHA-256 of every line before
it. A restore is one transaction, all rows or none, and refuses a file that is cut short (the trailer or
rows missing) or altered (the checksum).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.columns import Timestamptz
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from catalog.errors import Conflict, FieldProblem, InvalidInput
from catalog.services.journal import now, write_transaction
from catalog.tables import ALL_TABLES, Pilot, SearchIndexState, SearchOutbox, Webhook

__all__ = ["FORMAT", "TABLES", "Restored", "export_lines", "restore_lines"]

FORMAT = "asset-registry-backup"
VERSION = 2  # 2 added the trailer line with the checksum; version 1 files restore with their counts checked
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


async def export_lines(webhook_key: str = "") -> AsyncIterator[str]:
    """Yield the backup line by line (header first), each table in id order and in batches, all from one
    snapshot: a catalog in use while it is exported still gives a backup whose rows fit together.

    `webhook_key` is the fingerprint of the registry's webhook key (never the key), kept in the header so a
    registry restoring the backup can tell whether its subscriptions' signatures will still verify."""
    engine = Pilot._meta.db
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):  # SQLite's transaction reads one snapshot already (WAL)
            await Pilot.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        counts = {table._meta.tablename: await table.count() for table in TABLES}
        header = {"format": FORMAT, "version": VERSION, "schema": await _schema(), "exported_at": now(), "rows": counts}
        if webhook_key:
            header["webhook_key"] = webhook_key
        digest = hashlib.sha256()

        def line(item: dict[str, Any]) -> str:
            text = json.dumps(item, default=_encode, ensure_ascii=False)
            digest.update(text.encode("utf-8", errors="surrogatepass") + b"\n")
            return text

        yield line(header)
        for table in TABLES:
            pk = table._meta.primary_key
            last = None
            while True:
                query = table.select().order_by(pk).limit(BATCH).output(load_json=True)
                rows = await (query.where(pk > last) if last is not None else query)
                for row in rows:
                    yield line({"table": table._meta.tablename, "row": row})
                if len(rows) < BATCH:
                    break
                last = rows[-1][pk._meta.name]
        yield json.dumps({"end": FORMAT, "sha256": digest.hexdigest()})


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


@dataclass
class Restored:
    """What a restore loaded: rows per table, and how many NUL characters it had to replace (a SQLite catalog
    may hold them from before the input boundary refused them; PostgreSQL cannot store them)."""

    rows: dict[str, int]
    nul_replaced: int = 0


def _without_nul(value: Any, counter: list[int]) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            counter[0] += value.count("\x00")
            return value.replace("\x00", "\ufffd")
        return value
    if isinstance(value, dict):
        return {_without_nul(k, counter): _without_nul(v, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v, counter) for v in value]
    return value


class _Reader:
    """Checks a backup line by line: header first, rows, then the trailer whose checksum covers them all."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.digest = hashlib.sha256()
        self.version = 0
        self.expected: dict[str, int] = {}
        self.ended_at = 0
        self.webhook_key = ""

    def header(self, item: Any) -> None:
        if not isinstance(item, dict) or item.get("format") != FORMAT:
            raise _problem(1, f"not a {FORMAT} header", "restore a file written by `registry backup export`")
        if item.get("version") not in (1, VERSION):
            raise _problem(
                1,
                f"backup format version {item.get('version')!r}; this registry reads 1 and {VERSION}",
                "restore with the registry version that wrote it",
            )
        if item.get("schema") != self.schema:
            raise _problem(
                1,
                f"the backup follows schema {item.get('schema')!r}, this database {self.schema!r}",
                "restore with the registry version that wrote the backup, then upgrade (its migrations move the data)",
            )
        rows = item.get("rows")
        if not isinstance(rows, dict) or not all(isinstance(v, int) for v in rows.values()):
            raise _problem(1, "the header has no row counts", "restore an unedited backup")
        self.version, self.expected = item["version"], rows
        self.webhook_key = str(item.get("webhook_key") or "")

    def trailer(self, number: int, item: dict[str, Any]) -> None:
        if item.get("end") != FORMAT or item.get("sha256") != self.digest.hexdigest():
            raise _problem(
                number,
                "the checksum does not match the lines before it: the file was altered",
                "restore the file exactly as `registry backup export` wrote it",
            )
        self.ended_at = number

    def finish(self, number: int, restored: dict[str, int]) -> None:
        if number == 0:
            raise _problem(1, "the file is empty", "restore a file written by `registry backup export`")
        if self.version >= 2 and not self.ended_at:
            raise _problem(
                number,
                "the file ends without its end line: it was cut short after this line",
                "restore the complete file",
            )
        for name, count in sorted(self.expected.items()):
            if restored.get(name, 0) != count:
                raise _problem(
                    number,
                    f"the file holds {restored.get(name, 0)} rows of {name}, its header says {count}: rows are missing "
                    "or were added",
                    "restore the complete, unedited file",
                )


async def restore_lines(lines: Iterable[str]) -> Restored:
    """Load a backup into an empty catalog, in one transaction; returns the rows restored per table."""
    by_name = {table._meta.tablename: table for table in TABLES}
    columns = {name: {c._meta.name for c in table._meta.columns} for name, table in by_name.items()}
    times = {name: _times(table) for name, table in by_name.items()}
    reader = _Reader(await _schema())
    restored = dict.fromkeys(by_name, 0)
    nul = [0]
    pending: list[Table] = []
    pending_table: type[Table] | None = None
    pending_from = 0

    async def flush() -> None:
        nonlocal pending
        if pending and pending_table is not None:
            try:
                await pending_table.insert(*pending)
            except Exception as error:  # a damaged value the database refuses: say where, never a traceback
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise _problem(
                    pending_from, f"a {pending_table._meta.tablename} row from here on cannot be stored: {reason}",
                    "restore an unedited backup",
                ) from None  # fmt: skip
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
        for number, raw in enumerate(lines, start=1):
            text = raw.rstrip("\r\n")
            try:
                item = json.loads(text)
            except json.JSONDecodeError as error:
                raise _problem(
                    number, f"not JSON ({error.msg})", "restore a file written by `registry backup export`"
                ) from None
            if reader.ended_at:
                raise _problem(number, "there is more after the end line", "restore an unedited backup")
            if number == 1:
                reader.header(item)
            elif isinstance(item, dict) and "end" in item:
                reader.trailer(number, item)
                continue
            reader.digest.update(text.encode("utf-8", errors="surrogatepass") + b"\n")
            if number == 1:
                continue
            if not isinstance(item, dict) or not isinstance(item.get("row"), dict) or item.get("table") not in by_name:
                raise _problem(
                    number, 'expected {"table": <a catalog table>, "row": {...}}', "restore an unedited backup"
                )
            name, row = item["table"], _without_nul(item["row"], nul)
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
                pending_table, pending_from = table, number
            pending.append(table.from_dict(values))
        await flush()
        reader.finish(number, restored)
        await _reset_sequences()
        if reader.webhook_key:  # subscriptions from before fingerprints were kept: the header names their key
            await Webhook.update({Webhook.key_fingerprint: reader.webhook_key}).where(Webhook.key_fingerprint == "")
    return Restored({name: count for name, count in restored.items() if count}, nul[0])
