"""The result cache is bounded by bytes and forgets everything when the index changes."""

from __future__ import annotations

from datetime import UTC, datetime

from search.cache import LoadingCache, ResultCache
from search.interfaces import SearchHit, SearchResult


def result(n: int, text: str = "x") -> SearchResult:
    hits = [
        SearchHit(slug=f"a-{i}", kind="prompt", title=text * 50, summary=text * 100, tags=["t"], owner="o",
                  origin_pilot="p", latest_version="1.0.0", reuse_count=0, lifecycle="active",
                  published_at=datetime(2026, 1, 1, tzinfo=UTC), highlights={"title": text})
        for i in range(n)
    ]  # fmt: skip
    return SearchResult(total=n, hits=hits, facets={"kind": {"prompt": n}}, took_ms=1.0)


def put(cache: ResultCache, key: str, generation: int, stored: SearchResult) -> None:
    cache.put(key, generation, stored.model_dump_json().encode(), stored.total)


def kept(cache: ResultCache, key: str, generation: int) -> SearchResult | None:
    """What the cache answers for `key`, decoded (each answer says it took 1 ms, as `result` does)."""
    found = cache.get_json(key, generation, 1.0)
    return None if found is None else SearchResult.model_validate_json(found[0])


def test_bounded_by_bytes_least_recently_used_first() -> None:
    one = len(result(10).model_dump_json()) + len("q0")
    cache = ResultCache(max_bytes=one * 3, max_entry_bytes=one * 2)
    for i in range(3):
        put(cache, f"q{i}", 1, result(10))
    assert kept(cache, "q0", 1) == result(10)  # q0 is now the most recently used
    put(cache, "q3", 1, result(10))
    assert kept(cache, "q1", 1) is None and kept(cache, "q0", 1) is not None
    assert cache.size <= cache.max_bytes and len(cache) == 3
    for i in range(1000):
        put(cache, f"many-{i}", 1, result(10))
    assert cache.size <= cache.max_bytes and 2 <= len(cache) <= 3


def test_an_answer_from_the_cache_is_the_stored_json_with_its_own_time() -> None:
    cache = ResultCache(max_bytes=100_000)
    stored = result(3, text='"<&>"')
    put(cache, "q", 1, stored)
    body, total = cache.get_json("q", 1, 0.07) or (b"", 0)
    assert total == 3 and SearchResult.model_validate_json(body) == stored.model_copy(update={"took_ms": 0.07})
    assert cache.get_json("q", 2, 0.07) is None


def test_oversized_results_are_not_kept_and_an_index_change_empties_it() -> None:
    cache = ResultCache(max_bytes=10_000, max_entry_bytes=1_000)
    put(cache, "huge", 1, result(100))
    assert kept(cache, "huge", 1) is None and cache.size == 0
    put(cache, "small", 1, result(1))
    assert kept(cache, "small", 1) is not None
    assert kept(cache, "small", 2) is None and cache.size == 0 and len(cache) == 0


def test_stored_fields_are_bounded_by_bytes_and_forgotten_when_the_index_changes() -> None:
    cache = LoadingCache(max_bytes=16 * 2_000, cost=lambda fields: sum(len(v) for v in fields.values()))
    loads: list[int] = []

    def load(n: int) -> dict[str, object]:
        loads.append(n)
        return {"slug": f"a-{n}", "title": "x" * 100}

    assert cache.get((0, 1), 1, lambda: load(1))["slug"] == "a-1"
    assert cache.get((0, 1), 1, lambda: load(1))["slug"] == "a-1" and loads == [1]  # kept
    for n in range(1_000):
        cache.get((0, n), 1, lambda n=n: load(n))
    assert cache.size <= cache.max_bytes and 0 < len(cache) < 1_000
    assert cache.get((0, 1), 2, lambda: load(-1))["slug"] == "a--1" and len(cache) == 1  # a new generation
    assert cache.get((0, 2), 2, lambda: {"title": "y" * 10_000})["title"] == "y" * 10_000 and len(cache) == 1
