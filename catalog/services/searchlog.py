"""The search log: what people looked for, and whether they found anything (for the demand report)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from catalog.tables import SearchLog

__all__ = ["normalize_query", "record_searches"]

_TABLE = SearchLog._meta.tablename
_COLUMNS = ("at", "query", "normalized", "filters", "hits", "took_ms", "source")
_ROWS_PER_STATEMENT = 1000  # 7,000 bound parameters, under both databases' limits


def normalize_query(query: str) -> str:
    """Lower-case and collapse whitespace, so `PII  Monitor` and `pii monitor` count as one search."""
    return re.sub(r"\s+", " ", query.strip().lower())[:500]


async def record_searches(searches: Sequence[dict[str, Any]]) -> None:
    """Insert a batch of searches (the API buffers them so searching never waits on a write).

    One multi-row INSERT per thousand searches: built through Piccolo's row objects, the log cost 55 µs of CPU
    a search, a twentieth of the search itself.
    """
    for start in range(0, len(searches), _ROWS_PER_STATEMENT):
        chunk = searches[start : start + _ROWS_PER_STATEMENT]
        row = "(" + ", ".join(["{}"] * len(_COLUMNS)) + ")"
        values: list[Any] = []
        for s in chunk:
            values += [s["at"], s["query"][:500], normalize_query(s["query"]), json.dumps(s.get("filters", {})),
                       s["hits"], s["took_ms"], s.get("source", "api")]  # fmt: skip
        statement = f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES {', '.join([row] * len(chunk))}"  # noqa: S608
        await SearchLog.raw(statement, *values)  # names are constants; every value is a bound parameter
