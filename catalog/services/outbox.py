"""The search outbox: changes committed with the catalog write, claimed by sync workers after commit.

Workers lease rows (claim sets the next attempt a short lease ahead, and a working worker renews it), so
several can run in parallel and a dead worker's rows come back within a lease; on PostgreSQL the claim skips
rows another worker holds (`FOR UPDATE SKIP LOCKED`). The catalog also keeps what it knows of the index it
feeds (`SearchIndexState`), so an index that was replaced, lost or restored from an older copy is noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from catalog.schemas import utc
from catalog.services.journal import now, write_transaction
from catalog.tables import SearchIndexState, SearchOutbox

__all__ = [
    "CatalogIndexRecord",
    "OutboxStatus",
    "applied_after",
    "claim",
    "complete",
    "fail",
    "high_water_mark",
    "index_record",
    "prune",
    "reclaim",
    "record_rebuild",
    "renew",
    "requeue_after",
    "status",
]

LEASE = timedelta(seconds=15)  # renewed every LEASE / 3 while a worker applies the rows


@dataclass(frozen=True)
class Claimed:
    ids: list[int]
    slugs: list[str]


_CLAIM = (
    "UPDATE search_outbox SET attempts = attempts + 1, next_attempt_at = {} "
    "WHERE id IN (SELECT id FROM search_outbox WHERE done_at IS NULL AND next_attempt_at <= {} "
    "ORDER BY id LIMIT {}) RETURNING id, asset_slug"
)
_CLAIM_SKIP_LOCKED = _CLAIM.replace("LIMIT {})", "LIMIT {} FOR UPDATE SKIP LOCKED)")


async def claim(limit: int = 200) -> Claimed:
    """Lease up to `limit` due rows; a worker that dies loses its lease and the rows come back."""
    at = now()
    sql = _CLAIM_SKIP_LOCKED if isinstance(SearchOutbox._meta.db, PostgresEngine) else _CLAIM
    async with write_transaction():
        rows: list[dict[str, Any]] = await SearchOutbox.raw(sql, at + LEASE, at, limit)
    rows.sort(key=lambda r: r["id"])
    return Claimed(ids=[r["id"] for r in rows], slugs=list(dict.fromkeys(r["asset_slug"] for r in rows)))


async def renew(ids: list[int]) -> None:
    """Keep the lease on rows a live worker is still applying (its heartbeat)."""
    if ids:
        await SearchOutbox.update({SearchOutbox.next_attempt_at: now() + LEASE}).where(
            SearchOutbox.id.is_in(ids) & SearchOutbox.done_at.is_null()
        )


async def reclaim() -> int:
    """Make every pending row due now: called by the only worker there is (the embedded index's leader) when it
    starts, since any lease still running belongs to a process that is gone."""
    rows = (
        await SearchOutbox.update({SearchOutbox.next_attempt_at: now()})
        .where(SearchOutbox.done_at.is_null() & (SearchOutbox.next_attempt_at > now()))
        .returning(SearchOutbox.id)
    )
    return len(rows)


async def complete(ids: list[int]) -> None:
    if ids:
        await SearchOutbox.update({SearchOutbox.done_at: now(), SearchOutbox.last_error: None}).where(
            SearchOutbox.id.is_in(ids)
        )


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))


async def fail(ids: list[int], error: str) -> None:
    """Put the rows back for a later attempt, further away each time."""
    if not ids:
        return
    at = now()
    rows = await SearchOutbox.select(SearchOutbox.id, SearchOutbox.attempts).where(SearchOutbox.id.is_in(ids))
    async with write_transaction():
        for row in rows:
            await SearchOutbox.update(
                {SearchOutbox.last_error: error[:2000], SearchOutbox.next_attempt_at: at + backoff(row["attempts"])}
            ).where(SearchOutbox.id == row["id"])


async def high_water_mark() -> int:
    """The newest outbox id: a reindex replays everything after it once the new index is in place."""
    row = await SearchOutbox.select(SearchOutbox.id).order_by(SearchOutbox.id, ascending=False).first()
    return int(row["id"]) if row else 0


async def requeue_after(mark: int) -> int:
    """Make rows newer than `mark` due again (they may have gone to an index that was just replaced)."""
    rows = (
        await SearchOutbox.update({SearchOutbox.done_at: None, SearchOutbox.next_attempt_at: now()})
        .where(SearchOutbox.id > mark)
        .returning(SearchOutbox.id)
    )
    return len(rows)


async def prune(older_than: timedelta = timedelta(days=7)) -> None:
    """Forget applied rows after a while; the journal keeps the history. An index older than what was
    forgotten can no longer catch up (it is rebuilt instead), so the highest forgotten id is kept."""
    async with write_transaction():
        gone = (
            await SearchOutbox.delete()
            .where(SearchOutbox.done_at.is_not_null() & (SearchOutbox.done_at < now() - older_than))
            .returning(SearchOutbox.id)
        )
        if gone:
            through = max(r["id"] for r in gone)
            await SearchIndexState.update({SearchIndexState.pruned_through: through}).where(
                SearchIndexState.pruned_through < through
            )


@dataclass(frozen=True)
class CatalogIndexRecord:
    generation: str
    pruned_through: int


async def index_record() -> CatalogIndexRecord | None:
    """The generation of the index the catalog last built, or None if it never built one (new or restored)."""
    row = await SearchIndexState.select().order_by(SearchIndexState.id, ascending=False).first()
    return CatalogIndexRecord(row["generation"], row["pruned_through"]) if row else None


async def record_rebuild(generation: str) -> None:
    """Remember the generation of the index just built (history before it no longer matters to it)."""
    async with write_transaction():
        pruned = await index_record()
        await SearchIndexState.delete(force=True)
        await SearchIndexState.insert(
            SearchIndexState(
                generation=generation, rebuilt_at=now(), pruned_through=pruned.pruned_through if pruned else 0
            )
        )


async def applied_after(mark: int) -> bool:
    """Whether changes newer than `mark` were applied: an index that holds only up to `mark` lost them."""
    return bool(await SearchOutbox.exists().where((SearchOutbox.id > mark) & SearchOutbox.done_at.is_not_null()))


@dataclass(frozen=True)
class OutboxStatus:
    backlog: int
    failing: int
    oldest_pending_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


async def status() -> OutboxStatus:
    pending = SearchOutbox.done_at.is_null()
    oldest = await SearchOutbox.select(SearchOutbox.created_at).where(pending).order_by(SearchOutbox.id).first()
    error = (
        await SearchOutbox.select(SearchOutbox.last_error, SearchOutbox.next_attempt_at)
        .where(pending & SearchOutbox.last_error.is_not_null())
        .order_by(SearchOutbox.id, ascending=False)
        .first()
    )
    return OutboxStatus(
        backlog=await SearchOutbox.count().where(pending),
        failing=await SearchOutbox.count().where(pending & SearchOutbox.last_error.is_not_null()),
        oldest_pending_at=utc(oldest["created_at"]) if oldest else None,
        last_error=error["last_error"] if error else None,
        last_error_at=utc(error["next_attempt_at"]) if error else None,
    )
