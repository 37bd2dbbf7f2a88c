"""The search log: what people looked for, and whether they found anything (for the demand report)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from catalog.tables import SearchLog

__all__ = ["normalize_query", "record_searches"]


def normalize_query(query: str) -> str:
    """Lower-case and collapse whitespace, so `PII  Monitor` and `pii monitor` count as one search."""
    return re.sub(r"\s+", " ", query.strip().lower())[:500]


async def record_searches(searches: Sequence[dict[str, Any]]) -> None:
    """Insert a batch of searches (the API buffers them so searching never waits on a write)."""
    if not searches:
        return
    await SearchLog.insert(
        *[
            SearchLog(
                at=s["at"],
                query=s["query"][:500],
                normalized=normalize_query(s["query"]),
                filters=s.get("filters", {}),
                hits=s["hits"],
                took_ms=s["took_ms"],
                source=s.get("source", "api"),
            )
            for s in searches
        ]
    )
