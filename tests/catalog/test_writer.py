"""The SQLite writer thread runs its transactions' statements in place; that must never stall other writes."""

from __future__ import annotations

import asyncio
import threading

import pytest

from catalog.services.journal import now, write_transaction
from catalog.sqlite_engine import SQLite
from catalog.tables import SearchOutbox
from catalog.writer import writes
from tests.conftest import BACKENDS, Database

pytestmark = pytest.mark.anyio


@writes
async def _slow_transaction(started: threading.Event) -> None:
    """A transaction that holds the write lock across an await (the writer loop runs something else meanwhile)."""
    async with write_transaction():
        at = now()
        await SearchOutbox.insert(SearchOutbox(asset_slug="slow", reason="publish", created_at=at, next_attempt_at=at))
        started.set()
        await asyncio.sleep(0.3)


@writes
async def _autocommit_write() -> None:
    """A write outside any transaction: it waits for the lock the slow transaction holds."""
    await SearchOutbox.update({SearchOutbox.reason: "touched"}).where(SearchOutbox.asset_slug == "slow")


@pytest.mark.parametrize("db", [BACKENDS[0]], indirect=True)
async def test_a_write_waiting_for_the_lock_does_not_block_the_transaction_holding_it(db: Database) -> None:
    """Run in place on the writer thread, the waiting write would block that thread in SQLite's busy handler,
    and the transaction holding the lock could never resume to commit: both stalled for the 30 s timeout."""
    assert isinstance(db.engine, SQLite)
    started = threading.Event()  # set on the writer thread
    slow = asyncio.ensure_future(_slow_transaction(started))
    await asyncio.to_thread(started.wait, 10)
    await asyncio.wait_for(asyncio.gather(slow, _autocommit_write()), timeout=10)
    assert await SearchOutbox.select(SearchOutbox.reason).where(SearchOutbox.asset_slug == "slow") == [
        {"reason": "touched"}
    ]
