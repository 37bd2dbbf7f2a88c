"""Every search is logged for the demand report; writes are batched so a search never waits on the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from catalog.services.journal import now
from catalog.services.searchlog import record_searches
from search.interfaces import SearchQuery

__all__ = ["SearchLogBuffer"]

log = logging.getLogger("registry.search")


class SearchLogBuffer:
    """Collects searches in memory and writes them in one insert about once a second (and at shutdown)."""

    def __init__(self, *, max_pending: int = 10_000) -> None:
        self._pending: list[dict[str, Any]] = []
        self.max_pending = max_pending

    def add(self, query: SearchQuery, hits: int, took_ms: float, source: str = "api") -> None:
        if len(self._pending) >= self.max_pending:
            return  # the database is not keeping up; searching must not slow down for the log
        self._pending.append(
            {
                "at": now(),
                "query": query.q,
                "filters": query.filters(),
                "hits": hits,
                "took_ms": took_ms,
                "source": source,
            }
        )

    async def flush(self) -> int:
        batch, self._pending = self._pending, []
        if batch:
            try:
                await record_searches(batch)
            except Exception:  # keep serving; the entries are lost, which the log says
                log.exception("could not write %d search log entries", len(batch))
                return 0
        return len(batch)

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Flush about once a second until `stop` is set (the caller flushes once more at shutdown)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            await self.flush()
