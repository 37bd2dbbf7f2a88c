"""The journal (append-only history), the search outbox, and the transaction every write runs in."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.select import Select

from catalog.errors import ConcurrentWrite
from catalog.schemas import Actor
from catalog.services import events
from catalog.tables import JournalEntry, SearchOutbox

__all__ = ["enqueue_search", "for_update", "journal_turn", "now", "record", "write_transaction"]

Q = TypeVar("Q", bound=Select[Any])


_JOURNAL_TURN_KEY = 0x6A6F75726E616C73  # pg_advisory_xact_lock key: "journals"


def now() -> datetime:
    return datetime.now(UTC)


_UNIQUE_VIOLATIONS = (sqlite3.IntegrityError, asyncpg.exceptions.UniqueViolationError)
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _sqlite_writer_lock() -> asyncio.Lock:
    """SQLite has one writer at a time: this process's writers queue here, in order, instead of polling the
    file lock (its busy handler sleeps up to 100 ms between tries, which starves writers under load)."""
    loop = asyncio.get_running_loop()
    lock = _sqlite_writers.get(loop)
    if lock is None:
        lock = _sqlite_writers[loop] = asyncio.Lock()
    return lock


def _is_unique_violation(error: BaseException) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return str(error).startswith("UNIQUE constraint failed")
    return isinstance(error, asyncpg.exceptions.UniqueViolationError)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One transaction for a whole operation; on SQLite it takes the write lock up front (no upgrade deadlocks).

    A unique key that a concurrent request took first ends the transaction as a `Conflict` (409) the caller
    can retry, never as a server error.
    """
    engine = JournalEntry._meta.db
    try:
        if isinstance(engine, SQLiteEngine):
            async with _sqlite_writer_lock(), engine.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with engine.transaction():
                yield
    except _UNIQUE_VIOLATIONS as error:
        if not _is_unique_violation(error):
            raise
        raise ConcurrentWrite(
            "a concurrent request wrote the same record first; nothing of this request was stored. "
            "Read the current state and retry if it is still needed"
        ) from error


def for_update(query: Q) -> Q:
    """Lock the selected rows until the transaction ends, so concurrent writers to one asset take turns.

    PostgreSQL needs it (READ COMMITTED); SQLite's immediate transactions already serialize writers.
    """
    if isinstance(JournalEntry._meta.db, PostgresEngine):
        return query.lock_rows(of=(query.table,))  # only the queried table, not its joined ones
    return query


async def journal_turn() -> None:
    """On PostgreSQL, transactions that journal an event take turns from here to their commit, so entries and
    the webhook deliveries queued with them commit in the order of their ids: a delivery worker never sends
    one before an earlier one has committed. (SQLite has a single writer already.)"""
    if isinstance(JournalEntry._meta.db, PostgresEngine):
        await JournalEntry.raw("SELECT pg_advisory_xact_lock({})", _JOURNAL_TURN_KEY)


async def record(
    action: str,
    subject: str,
    actor: Actor,
    payload: dict[str, Any],
    at: datetime,
    *,
    team: str | None = None,
    pilot: str | None = None,
) -> None:
    """Journal one state change, and queue its webhook deliveries in the same transaction.

    `team` owns the subject; `pilot` is the pilot the change concerns when the subject does not name it (an
    adoption's adopting pilot, a publish's origin pilot).
    """
    kind, _, name = subject.partition(":")
    asset = name.partition("@")[0] if kind == "asset" else None
    pilot = name if kind == "pilot" else pilot
    entry = JournalEntry(
        at=at, actor=actor.label, action=action, subject=subject, payload=payload, asset=asset, pilot=pilot, team=team
    )
    if events.event_types_of(action, payload):
        await journal_turn()
    await JournalEntry.insert(entry)
    await events.fan_out(entry)


async def enqueue_search(asset_slug: str, reason: str) -> None:
    """Tell the search sync worker that this asset's document must be rebuilt (due at once, in real time)."""
    at = now()
    await SearchOutbox.insert(SearchOutbox(asset_slug=asset_slug, reason=reason, created_at=at, next_attempt_at=at))
