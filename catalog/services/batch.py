"""Publishing many versions in one request: each validated and answered on its own, all-or-nothing per asset
version, one transaction per chunk so a catalog migration pays neither a commit nor a round trip per asset.

Items are published in the order given, so a dependency earlier in the batch resolves for the items after it
(`registry publish` sends dependencies first). A chunk is a `Plan`: its reads and writes are a handful of
statements whatever its size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.errors import CatalogError, ConcurrentWrite, Conflict
from catalog.schemas import Actor, BatchItemResult, BatchResult, PublishResult, parse_manifest
from catalog.services.journal import now, write_transaction
from catalog.services.publish_plan import Plan, Prepared
from catalog.services.publishing import prepare
from catalog.writer import writes

__all__ = ["CHUNK", "MAX_BATCH", "publish_batch"]

MAX_BATCH = 1000
CHUNK = 100  # items per transaction: long enough to amortize commits, short enough not to hold the writer long
ATTEMPTS = 3  # a chunk a concurrent writer got in the way of is planned again from what it committed


def _failed(index: int, data: Any, error: CatalogError) -> BatchItemResult:
    named = data if isinstance(data, dict) else {}
    return BatchItemResult(
        index=index,
        status="failed",
        asset=str(named.get("slug")) if named.get("slug") is not None else None,
        version=str(named.get("version")) if named.get("version") is not None else None,
        problem=error.as_problem(),
    )


def _answer(index: int, data: Any, outcome: PublishResult | CatalogError) -> BatchItemResult:
    if isinstance(outcome, CatalogError):
        return _failed(index, data, outcome)
    return BatchItemResult(index=index, **outcome.model_dump())


async def _chunk(items: list[tuple[int, Any]], actor: Actor, at: datetime) -> list[BatchItemResult]:
    """Plan and write one chunk in one transaction; items refused without the database are answered first."""
    outcomes: dict[int, PublishResult | CatalogError] = {}
    prepared: list[tuple[int, Prepared]] = []
    for index, data in items:
        try:
            prepared.append((index, prepare(parse_manifest(data), actor)))
        except CatalogError as error:
            outcomes[index] = error
    for _attempt in range(ATTEMPTS if prepared else 0):
        decided: dict[int, PublishResult | CatalogError] = {}
        try:
            async with write_transaction():
                plan = await Plan.load([p for _, p in prepared], actor, at)
                for index, item in prepared:
                    try:
                        decided[index] = plan.decide(item)
                    except CatalogError as error:
                        decided[index] = error
                await plan.write()
        except ConcurrentWrite:
            continue
        outcomes.update(decided)
        break
    else:  # every attempt met a concurrent writer (or nothing was left to write)
        conflict = Conflict("a concurrent request published the same versions first; retry this item",
                            code="concurrent-write")  # fmt: skip
        outcomes.update({index: conflict for index, _ in prepared})
    return [_answer(index, data, outcomes[index]) for index, data in items]


@writes
async def publish_batch(items: list[Any], actor: Actor, *, at: datetime | None = None) -> BatchResult:
    """Publish up to MAX_BATCH manifests; each item is answered (created, unchanged or failed with its problem)."""
    at = at or now()
    results: list[BatchItemResult] = []
    numbered = list(enumerate(items))
    for start in range(0, len(numbered), CHUNK):
        results.extend(await _chunk(numbered[start : start + CHUNK], actor, at))
    counts = {status: sum(r.status == status for r in results) for status in ("created", "unchanged", "failed")}
    return BatchResult(results=results, **counts)
