"""Publishing many versions in one request: each validated and answered on its own, all-or-nothing per asset
version (a savepoint each), one transaction per chunk so a catalog migration does not pay a commit per asset.

Items are published in the order given, so a dependency earlier in the batch resolves for the items after it
(`registry publish` sends dependencies first).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import asyncpg

from catalog.errors import CatalogError, Conflict, InvalidInput
from catalog.schemas import Actor, BatchItemResult, BatchResult, parse_manifest
from catalog.services.journal import now, write_transaction
from catalog.services.publishing import check_publisher, content_digest, publish_in_transaction, resolve_dependencies
from catalog.tables import JournalEntry
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


async def _one(index: int, data: Any, actor: Actor, at: datetime) -> BatchItemResult:
    """Publish one item inside the chunk's transaction, under its own savepoint."""
    manifest = parse_manifest(data)
    check_publisher(manifest, actor)
    digest = content_digest(manifest)
    try:
        resolved: list[dict[str, str]] | InvalidInput = await resolve_dependencies(manifest)
    except InvalidInput as unresolved:
        resolved = unresolved
    result = await publish_in_transaction(manifest, digest, resolved, actor, at)
    return BatchItemResult(index=index, **result.model_dump())


async def _chunk(items: list[tuple[int, Any]], actor: Actor, at: datetime) -> list[BatchItemResult]:
    results = []
    async with write_transaction():
        transaction = JournalEntry._meta.db.current_transaction.get()
        assert transaction is not None  # write_transaction opened it
        for index, data in items:
            savepoint = await transaction.savepoint()
            try:
                results.append(await _one(index, data, actor, at))
            except CatalogError as error:
                await savepoint.rollback_to()
                results.append(_failed(index, data, error))
                continue
            except (sqlite3.IntegrityError, asyncpg.exceptions.UniqueViolationError):
                await savepoint.rollback_to()
                conflict = Conflict("a concurrent request published the same version first; retry this item",
                                    code="concurrent-write")  # fmt: skip
                results.append(_failed(index, data, conflict))
                continue
            await savepoint.release()
    return results


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
