"""The journal (append-only history), the search outbox, and the transaction every write runs in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from catalog.schemas import Actor
from catalog.tables import JournalEntry, SearchOutbox

__all__ = ["enqueue_search", "now", "record", "write_transaction"]


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


async def record(action: str, subject: str, actor: Actor, payload: dict[str, Any], at: datetime) -> None:
    """Journal one state change."""
    await JournalEntry.insert(JournalEntry(at=at, actor=actor.label, action=action, subject=subject, payload=payload))


async def enqueue_search(asset_slug: str, reason: str, at: datetime) -> None:
    """Tell the search sync worker that this asset's document must be rebuilt."""
    await SearchOutbox.insert(SearchOutbox(asset_slug=asset_slug, reason=reason, created_at=at, next_attempt_at=at))
