"""Keeping search in step with the catalog: the backend chosen by settings, the outbox sync worker, reindex.

The database is the source of truth. Writes add outbox rows in their own transaction; this worker
applies them after commit, retrying with backoff while the backend is down, so a search outage never
fails or loses a publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from catalog.services import indexing, outbox
from catalog.services.journal import now
from registry.process_locks import ProcessLock
from registry.settings import Settings
from search.embedded import EmbeddedBackend
from search.errors import SearchError
from search.interfaces import SearchBackend
from search.meili import MeilisearchBackend

__all__ = ["SearchSync", "make_backend", "reindex", "run_as_leader"]

log = logging.getLogger("registry.search")


def make_backend(settings: Settings) -> SearchBackend:
    """The backend REGISTRY_SEARCH_BACKEND names."""
    if settings.search_backend == "meilisearch":
        if not settings.meilisearch_url:
            raise ValueError("REGISTRY_SEARCH_BACKEND=meilisearch needs MEILISEARCH_URL (and MEILISEARCH_API_KEY)")
        key = settings.meilisearch_api_key.get_secret_value() if settings.meilisearch_api_key else None
        return MeilisearchBackend(settings.meilisearch_url, key, index_uid=settings.meilisearch_index)
    return EmbeddedBackend(settings.data_dir / "search")


class SearchSync:
    """Applies outbox rows to the backend: claim, build documents from the database, write, acknowledge."""

    def __init__(self, backend: SearchBackend, *, batch_size: int = 200, idle_seconds: float = 0.2) -> None:
        self.backend = backend
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None

    async def run_once(self) -> int:
        """Apply one batch; returns how many outbox rows it handled (0 when nothing was due)."""
        claimed = await outbox.claim(self.batch_size)
        if not claimed.ids:
            return 0
        try:
            documents, gone = await indexing.asset_documents(claimed.slugs)
            await self.backend.upsert(documents)
            await self.backend.delete(gone)
        except SearchError as err:
            self.last_error, self.last_error_at = err.detail, now()
            log.warning("search sync failed for %d changes, will retry: %s", len(claimed.ids), err.detail)
            await outbox.fail(claimed.ids, err.detail)
            raise
        await outbox.complete(claimed.ids)
        self.last_error = None
        return len(claimed.ids)

    async def drain(self) -> int:
        """Apply everything that is due now (tests and `registry search sync --once`)."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The worker loop: apply due rows, pause briefly when idle or failing, prune old rows now and then.

        It stops between rounds when `stop` is set, never in the middle of a database call.
        """
        rounds = 0
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except SearchError:
                handled = 0
            except Exception:  # the loop must survive a database hiccup; the error is logged
                log.exception("search sync round failed")
                handled = 0
            rounds += 1
            if rounds % 3000 == 0:
                await outbox.prune()
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_seconds)


async def run_as_leader(sync: SearchSync, lock: ProcessLock, stop: asyncio.Event, retry_seconds: float = 5.0) -> None:
    """Run the sync loop in exactly one of several server workers on this machine (the embedded index has one
    writer); the others wait and take over if the leader's process ends."""
    try:
        while not lock.try_acquire():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_seconds)
            if stop.is_set():
                return
        await sync.run_forever(stop)
    finally:
        lock.release()


async def reindex(backend: SearchBackend) -> int:
    """Rebuild the index from the database into a fresh index, swap it in, then replay what changed meanwhile."""
    mark = await outbox.high_water_mark()
    count = await backend.rebuild(indexing.all_asset_documents())
    replayed = await outbox.requeue_after(mark)
    log.info("reindexed %d assets; %d changes made during the rebuild will be re-applied", count, replayed)
    return count
