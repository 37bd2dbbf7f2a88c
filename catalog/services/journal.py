"""The journal (append-only history), the search outbox, and the transaction every write runs in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.query.methods.select import Select

from catalog.schemas import Actor
from catalog.tables import JournalEntry, SearchOutbox

__all__ = ["enqueue_search", "for_update", "now", "record", "write_transaction"]

Q = TypeVar("Q", bound=Select[Any])


def now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One transaction for a whole operation; on SQLite it takes the write lock up front (no upgrade deadlocks)."""
    engine = JournalEntry._meta.db
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


def for_update(query: Q) -> Q:
    """Lock the selected rows until the transaction ends, so concurrent writers to one asset take turns.

    PostgreSQL needs it (READ COMMITTED); SQLite's immediate transactions already serialize writers.
    """
    if isinstance(JournalEntry._meta.db, PostgresEngine):
        return query.lock_rows(of=(query.table,))  # only the queried table, not its joined ones
    return query


async def record(action: str, subject: str, actor: Actor, payload: dict[str, Any], at: datetime) -> None:
    """Journal one state change."""
    await JournalEntry.insert(JournalEntry(at=at, actor=actor.label, action=action, subject=subject, payload=payload))


async def enqueue_search(asset_slug: str, reason: str) -> None:
    """Tell the search sync worker that this asset's document must be rebuilt (due at once, in real time)."""
    at = now()
    await SearchOutbox.insert(SearchOutbox(asset_slug=asset_slug, reason=reason, created_at=at, next_attempt_at=at))
