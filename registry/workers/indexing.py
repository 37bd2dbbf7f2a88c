"""Keeping search in step with the catalog: the backend chosen by settings, the outbox sync worker, reindex.

The database is the source of truth. Writes add outbox rows in their own transaction; this worker
applies them after commit, retrying with backoff while the backend is down, so a search outage never
fails or loses a publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from catalog.services import indexing, outbox
from catalog.services.journal import now
from registry.settings import Settings
from registry.workers.process_locks import ProcessLock, held_when_free
from search.documents import DOCUMENT_FORMAT
from search.embedded import EmbeddedBackend
from search.errors import SearchError
from search.interfaces import IndexState, SearchBackend
from search.meili import MeilisearchBackend

__all__ = ["IndexProblem", "SearchSync", "index_problem", "make_backend", "reindex", "run_as_leader"]

log = logging.getLogger("registry.search")


def make_backend(settings: Settings) -> SearchBackend:
    """The backend REGISTRY_SEARCH_BACKEND names."""
    if settings.search_backend == "meilisearch":
        if not settings.meilisearch_url:
            raise ValueError("REGISTRY_SEARCH_BACKEND=meilisearch needs MEILISEARCH_URL (and MEILISEARCH_API_KEY)")
        key = settings.meilisearch_api_key.get_secret_value() if settings.meilisearch_api_key else None
        return MeilisearchBackend(settings.meilisearch_url, key, index_uid=settings.meilisearch_index)
    return EmbeddedBackend(settings.data_dir / "search", cache_bytes=settings.search_cache_mb * 2**20)


class SearchSync:
    """Applies outbox rows to the backend: claim, build documents from the database, write, acknowledge."""

    def __init__(
        self,
        backend: SearchBackend,
        *,
        batch_size: int = 200,
        idle_seconds: float = 0.2,
        settle_seconds: float = 0.1,
        verify_seconds: float = 10.0,
    ) -> None:
        self.backend = backend
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        # After a round that was not full, let changes gather: under a stream of publishes one round (two
        # small transactions and one index commit) then serves many of them, not each one.
        self.settle_seconds = settle_seconds
        self.verify_seconds = verify_seconds
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.verified_at = -math.inf  # when the index was last checked (the app checks it once at start)

    async def run_once(self) -> int:
        """Apply one batch; returns how many outbox rows it handled (0 when nothing was due)."""
        claimed = await outbox.claim(self.batch_size)
        if not claimed.ids:
            return 0
        heartbeat = asyncio.create_task(_keep_leased(claimed.ids))
        try:
            documents, gone = await indexing.asset_documents(claimed.slugs)
            await self.backend.upsert(documents)
            await self.backend.delete(gone)
            await self.backend.mark_applied(max(claimed.ids))
        except SearchError as err:
            self.last_error, self.last_error_at = err.detail, now()
            log.warning("search sync failed for %d changes, will retry: %s", len(claimed.ids), err.detail)
            await outbox.fail(claimed.ids, err.detail)
            raise
        finally:
            heartbeat.cancel()
        await outbox.complete(claimed.ids)
        self.last_error = None
        return len(claimed.ids)

    async def drain(self) -> int:
        """Apply everything that is due now (tests and `registry search sync --once`)."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def verify(self) -> str | None:
        """Check the index against the catalog and repair it: catch up an index that lost recent changes,
        rebuild one that is missing, replaced or too old. Returns what was wrong (None: nothing)."""
        self.verified_at = time.monotonic()
        problem = await index_problem(self.backend)
        if problem is None:
            return None
        if problem.kind == "behind":
            replayed = await outbox.requeue_after(problem.applied_through)
            log.warning("search index: %s; re-applying %d changes", problem.detail, replayed)
        elif problem.kind == "new":
            log.info("building the search index from the database")
            await reindex(self.backend)
        else:
            log.warning("search index: %s; rebuilding it from the database", problem.detail)
            await reindex(self.backend)
        return problem.detail

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The worker loop: apply due rows, pause briefly when idle or failing, check the index against the
        catalog every few seconds (and repair it), prune old rows now and then.

        It stops between rounds when `stop` is set, never in the middle of a database call.
        """
        rounds = 0
        while not stop.is_set():
            if time.monotonic() - self.verified_at >= self.verify_seconds:
                try:
                    await self.verify()
                except SearchError as err:  # check again soon: a repair should follow search's return closely
                    self.last_error, self.last_error_at = err.detail, now()
                    self.verified_at -= self.verify_seconds - min(1.0, self.verify_seconds)
                except Exception:  # the loop must survive a database hiccup; the error is logged
                    log.exception("search index check failed")
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
            if handled < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settle_seconds if handled else self.idle_seconds)


async def run_as_leader(sync: SearchSync, lock: ProcessLock, stop: asyncio.Event, retry_seconds: float = 1.0) -> None:
    """Run the sync loop in exactly one of several server workers on this machine (the embedded index has one
    writer); the others wait and take over if the leader's process ends. The new leader takes back at once
    the rows its dead predecessor had claimed: there is no other worker that could hold them."""
    try:
        if not await held_when_free(lock, stop, retry_seconds):
            return
        if reclaimed := await outbox.reclaim():
            log.info("took back %d search changes a previous worker had claimed", reclaimed)
        await sync.run_forever(stop)
    finally:
        lock.release()


async def _keep_leased(ids: list[int]) -> None:
    """Renew the lease of rows being applied, for as long as it takes (cancelled when done)."""
    while True:
        await asyncio.sleep(outbox.LEASE.total_seconds() / 3)
        await outbox.renew(ids)


@dataclass(frozen=True)
class IndexProblem:
    kind: Literal["new", "missing", "foreign", "behind", "too-old", "outdated"]
    detail: str
    applied_through: int = 0  # for "behind": the newest change the index holds


async def index_problem(backend: SearchBackend) -> IndexProblem | None:
    """What is wrong with the live index, judged against the catalog (None: it holds what it should).

    Raises SearchUnavailable when the index cannot be read at all."""
    state = await backend.state()
    record = await outbox.index_record()
    if record is None:  # a new install, or a restored catalog: nothing went wrong, the index is built now
        return IndexProblem("new", "the catalog has not built its search index yet")
    if state is None:
        return IndexProblem("missing", "the index has no identity (lost, or replaced by one this registry "
                            "did not build)")  # fmt: skip
    if state.generation != record.generation:
        return IndexProblem(
            "foreign", f"the index is build {state.generation[:12]}, the catalog last built {record.generation[:12]}"
        )
    if state.documents != DOCUMENT_FORMAT:
        return IndexProblem(
            "outdated", f"the index holds documents of format {state.documents or 'unrecorded'!r}, this registry "
            f"writes {DOCUMENT_FORMAT!r} (a new version: new fields, or a changed vocabulary of patterns and risks)"
        )  # fmt: skip
    if state.applied_through < record.pruned_through:
        return IndexProblem(
            "too-old", f"the index stops at change {state.applied_through}, older than the history kept"
        )
    if await outbox.applied_after(state.applied_through):
        return IndexProblem(
            "behind",
            f"the index misses changes after {state.applied_through} (restored from an older copy?)",
            state.applied_through,
        )
    return None


async def reindex(backend: SearchBackend) -> int:
    """Rebuild the index from the database into a fresh index, swap it in, then replay what changed meanwhile."""
    mark = await outbox.high_water_mark()
    generation = uuid.uuid4().hex
    count = await backend.rebuild(indexing.all_asset_documents(), IndexState(generation, mark, DOCUMENT_FORMAT))
    await outbox.record_rebuild(generation)
    replayed = await outbox.requeue_after(mark)
    log.info("reindexed %d assets; %d changes made during the rebuild will be re-applied", count, replayed)
    return count
