"""A long query (a problem statement) ranks the embedded backend's assets by how many of its words they match."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.interfaces import SearchQuery
from tests.search.conftest import doc

pytestmark = pytest.mark.anyio


async def test_a_long_query_ranks_by_the_words_matched_any_of_them(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    await backend.upsert(
        [
            doc("three", title="Extraction regression monitor"),
            doc("two", title="Invoice regression eval"),
            doc("one", title="Regression suite"),
            doc("none", title="Summary prompt"),
        ]
    )
    found = await backend.search(SearchQuery(q="invoice extraction regression quality monitor"))
    # Dropping words from the end would keep "invoice" last and lose "three" and "one"; a problem statement is
    # matched on most of its words wherever they stand.
    assert [hit.slug for hit in found.hits] == ["three", "two", "one"]
    assert found.total == 3
    await backend.close()
