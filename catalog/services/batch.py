"""Publishing many versions in one request: each validated and answered on its own, all-or-nothing per asset
version, one transaction per chunk so a catalog migration pays neither a commit nor a round trip per asset.

Items are published in the order given, so a dependency earlier in the batch resolves for the items after it
(`registry publish` sends dependencies first). A chunk is a `Plan`: its reads and writes are a handful of
statements whatever its size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio

from catalog.errors import CatalogError, Conflict
from catalog.schemas import Actor, BatchItemResult, BatchResult, parse_manifest
from catalog.services.journal import now
from catalog.services.publish_plan import Outcome, Prepared, publish_planned
from catalog.services.publishing import prepare
from catalog.writer import writes

__all__ = ["CHUNK", "MAX_BATCH", "publish_batch"]

MAX_BATCH = 1000
CHUNK = 100  # items per transaction: long enough to amortize commits, short enough not to hold the writer long


def _failed(index: int, data: Any, error: CatalogError) -> BatchItemResult:
    named = data if isinstance(data, dict) else {}
    return BatchItemResult(
        index=index,
        status="failed",
        asset=str(named.get("slug")) if named.get("slug") is not None else None,
        version=str(named.get("version")) if named.get("version") is not None else None,
        problem=error.as_problem(),
    )


def _answer(index: int, data: Any, outcome: Outcome) -> BatchItemResult:
    if isinstance(outcome, CatalogError):
        return _failed(index, data, outcome)
    return BatchItemResult(index=index, **outcome.model_dump())


def _validated(items: list[tuple[int, Any]], actor: Actor) -> tuple[dict[int, Outcome], list[tuple[int, Prepared]]]:
    """Each item validated and prepared, in a worker thread: templates are parsed, and a chunk can be megabytes."""
    outcomes: dict[int, Outcome] = {}
    prepared: list[tuple[int, Prepared]] = []
    for index, data in items:
        try:
            prepared.append((index, prepare(parse_manifest(data), actor)))
        except CatalogError as error:
            outcomes[index] = error
    return outcomes, prepared


async def _chunk(items: list[tuple[int, Any]], actor: Actor, at: datetime) -> list[BatchItemResult]:
    """One chunk: items refused without the database are answered first, the rest in one transaction."""
    outcomes, prepared = await anyio.to_thread.run_sync(_validated, items, actor)
    if prepared:
        decided = await publish_planned([p for _, p in prepared], actor, at)
        if decided is None:
            conflict = Conflict("a concurrent request published the same versions first; retry this item",
                                code="concurrent-write")  # fmt: skip
            decided = [conflict] * len(prepared)
        outcomes.update({index: outcome for (index, _), outcome in zip(prepared, decided, strict=True)})
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
