"""The words a typo or a prefix reaches are looked up once per index generation and match as the automata did."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.embedded_view import MAX_POOL, MAX_PREFIXED
from search.interfaces import SearchQuery
from tests.search.conftest import doc

pytestmark = pytest.mark.anyio


async def test_lookups_are_kept_for_a_generation_and_a_busy_prefix_still_matches_everything(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    many = [doc(f"signal-{n}", title=f"S{n:03d}word monitor") for n in range(MAX_PREFIXED + 10)]
    await backend.upsert([*many, doc("invoice-monitor", title="Invoice matching monitor")])

    found = await backend.search(SearchQuery(q="s", limit=100))  # more words than a disjunction takes
    assert found.total == len(many)
    assert (await backend.search(SearchQuery(q="invoise matc"))).hits[0].slug == "invoice-monitor"
    kept = len(backend.terms)
    assert kept >= 3  # the typo, the prefix on the title and on every word, the prefix with a typo
    await backend.search(SearchQuery(q="invoise match"))
    assert len(backend.terms) > kept  # a new prefix; the typo's lookup was kept

    await backend.upsert([doc("invoize-register", title="Invoize register")])  # a new generation, a new word
    found = await backend.search(SearchQuery(q="invoise "))
    assert {h.slug for h in found.hits} == {"invoice-monitor", "invoize-register"}
    await backend.close()


async def test_a_letter_shared_by_many_words_is_left_to_the_automaton(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    await backend.upsert([doc(f"release-{n}", title=f"Release v{n:04d}") for n in range(MAX_POOL + 5)])
    view = backend._opened()
    assert view.starting_like("v0500") is None and view.typos("v0500x", 1) is None
    assert (await backend.search(SearchQuery(q="v0500"))).hits[0].slug == "release-500"
    assert [h.slug for h in (await backend.search(SearchQuery(q="v0500x "))).hits] == ["release-500"]  # one typo
    await backend.close()
