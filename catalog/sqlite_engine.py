"""Piccolo's SQLite engine without its per-query costs, which made most of a read's and a write's time.

Piccolo opens a new connection, and with it a new thread, for every query outside a transaction and for every
transaction; a new connection then parses the whole schema on its first statement (together about 0.6 ms a
query and 1-2 ms of CPU a transaction). Inside a transaction it sends `PRAGMA foreign_keys = 1` before every
statement, a second round trip. Here connections are opened once, kept in a pool, and lent to one query or one
transaction at a time; statements run on a few long-lived threads (sqlite releases the GIL while it works).

A thread that only writes (the catalog's writer) runs the statements of its transactions in place instead:
each hop to a pool thread and back cost about 0.1 ms of CPU, a quarter of a publish's 13 statements. Only
statements after BEGIN: the write lock is then held, so none of them waits for another writer, while BEGIN
may wait for one in another process, and statements outside a transaction may wait for this one's lock (run
in place, they would block the thread the transaction needs to finish).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

__all__ = ["SQLite", "run_statements_here"]

THREADS = 8  # statements in flight at once, reads and transactions together
IDLE = 8  # connections kept open between uses
_here = threading.local()  # `blocking` is set on threads that run their transactions' statements in place


def run_statements_here() -> None:
    """Run the statements of this thread's transactions in place: only for a thread that does nothing but write."""
    _here.blocking = True


def _in_place(sql: str) -> bool:
    return getattr(_here, "blocking", False) and not sql.startswith("BEGIN")


class _Lent:
    """A pooled connection lent to one transaction: what Piccolo's transaction calls on its connection."""

    def __init__(self, engine: SQLite, raw: sqlite3.Connection) -> None:
        self.engine = engine
        self.raw = raw

    async def execute(self, sql: str, args: list[Any] | None = None) -> list[dict[str, Any]]:
        return await self.engine._run(self.raw, sql, args or [], in_place=_in_place(sql))

    async def close(self) -> None:
        self.engine._give_back(self.raw)


class _Transaction(SQLiteTransaction):
    async def get_connection(self) -> _Lent:
        engine = self.engine
        assert isinstance(engine, SQLite)
        return _Lent(engine, await engine._borrow())


class SQLite(SQLiteEngine):
    """SQLite for the catalog: pooled connections (autocommit, foreign keys on, as Piccolo opens them)."""

    def __init__(self, path: str, *, timeout: float = 30) -> None:
        super().__init__(path=path, timeout=timeout)
        self._threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="sqlite")
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self.statements = 0  # statements run since start: what a read costs is kept in tests by this count

    def _open(self) -> sqlite3.Connection:
        raw: sqlite3.Connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
        raw.row_factory = dict_factory
        raw.execute("PRAGMA foreign_keys = 1")
        return raw

    async def _borrow(self) -> sqlite3.Connection:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        raw: sqlite3.Connection = await asyncio.get_running_loop().run_in_executor(self._threads, self._open)
        return raw

    def _give_back(self, raw: sqlite3.Connection) -> None:
        """Keep a connection for the next use, unless enough are idle or it is left inside a transaction."""
        with self._idle_lock:
            if len(self._idle) < IDLE and not raw.in_transaction:
                self._idle.append(raw)
                return
        raw.close()

    async def _run(
        self, raw: sqlite3.Connection, sql: str, args: list[Any], *, in_place: bool = False
    ) -> list[dict[str, Any]]:
        self.statements += 1
        if in_place:
            here: list[dict[str, Any]] = raw.execute(sql, args).fetchall()
            return here

        def run() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = raw.execute(sql, args).fetchall()
            return rows

        return await asyncio.get_running_loop().run_in_executor(self._threads, run)

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> list[dict[str, Any]]:
        raw = await self._borrow()
        try:
            return await self._run(raw, query, args or [])
        finally:
            self._give_back(raw)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> list[dict[str, Any]]:
        assert isinstance(connection, _Lent)  # every transaction of this engine lends one
        return await self._run(connection.raw, query, args or [], in_place=_in_place(query))

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _Transaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)
