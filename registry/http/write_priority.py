"""Writes first: a worker runs a few reads at a time, and while a write is in flight new reads wait.

A worker's CPU is one interpreter lock shared by its event loop and threads (search, SQLite, the SQLite
writer). Under a flood of reads every runnable thread takes its turn, so a publish that needs 7 ms of CPU
got a tenth of the lock and took 70 ms inside the service, 0.7 s end to end with 32 readers (1.4 publishes
a second). Bounding the reads in flight (`reads`, REGISTRY_READS_IN_FLIGHT) keeps the others queued,
cheaply, outside; holding new reads while a write runs lets it finish nearly alone. A read waits at most
`max_wait` seconds for writes, so a stream of writes cannot starve reads. Probes and metrics never wait.
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["WritesFirst"]

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_NEVER_WAIT = ("/healthz", "/readyz", "/metrics", "/static/")


class WritesFirst:
    """The gate of one worker: writes enter at once; reads wait (up to `max_wait`) while a write is in flight.

    Litestar builds middleware per route; `middleware` wraps each route's app with this one shared gate.
    """

    def __init__(self, reads: int = 4, max_wait: float = 0.25) -> None:
        self.reads = reads
        self.max_wait = max_wait
        self.writing = 0
        self._idle: asyncio.Event | None = None  # set when no write is in flight; made on the worker's loop
        self._slots: asyncio.Semaphore | None = None

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
            self._slots = asyncio.Semaphore(self.reads)
        return self._idle

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def gated(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_NEVER_WAIT):
                await app(scope, receive, send)
                return
            idle = self._event()
            if scope.get("method") in _WRITES:
                self.writing += 1
                idle.clear()
                try:
                    await app(scope, receive, send)
                finally:
                    self.writing -= 1
                    if not self.writing:
                        idle.set()
                return
            if self.writing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(idle.wait(), self.max_wait)
            assert self._slots is not None
            async with self._slots:
                await app(scope, receive, send)

        return gated
