"""The search log stores what was searched exactly, in chunks under the databases' parameter limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from catalog.services.searchlog import record_searches
from catalog.tables import SearchLog

pytestmark = pytest.mark.anyio


async def test_searches_are_stored_as_searched(db: object) -> None:
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    searches = [
        {"at": at + timedelta(seconds=i), "query": f"  PII  Monitor {i}", "hits": i % 3, "took_ms": 1.5,
         "filters": {"kind": "monitor", "tags": ["pii"]}, "source": "web"}
        for i in range(2_500)
    ]  # fmt: skip
    searches.append({"at": at, "query": "'); DROP TABLE search_log; --" + "x" * 600, "hits": 0, "took_ms": 0.0})
    await record_searches(searches)
    rows = await SearchLog.select().order_by(SearchLog.id)
    assert len(rows) == 2_501
    first, last = rows[0], rows[-1]
    assert first["at"] == at and rows[2_499]["at"] == at + timedelta(seconds=2_499)
    assert (first["query"], first["normalized"], first["hits"], first["took_ms"], first["source"]) == (
        "  PII  Monitor 0", "pii monitor 0", 0, 1.5, "web",
    )  # fmt: skip
    filters = first["filters"]
    assert (json.loads(filters) if isinstance(filters, str) else filters) == {"kind": "monitor", "tags": ["pii"]}
    assert last["query"] == ("'); DROP TABLE search_log; --" + "x" * 600)[:500] and last["source"] == "api"
