"""Relevance floors on the judged query set (seed catalog + generated distractors); figures live in bench/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus import generated_documents
from bench.relevance import Judged, evaluate, load_queries, seed_documents, substring_search
from search.embedded import EmbeddedBackend

pytestmark = pytest.mark.anyio

FLOORS = {
    "exact": 0.95,
    "keyword": 0.9,
    "natural": 0.85,
    "typo": 0.9,
    "prefix": 0.9,
    "synonym": 0.9,
    "filtered": 0.9,
    "starter": 0.7,
    "all": 0.9,
}


async def test_judged_queries_meet_their_floors(tmp_path: Path) -> None:
    queries = load_queries()
    assert len(queries) >= 40 and set(FLOORS) - {"all"} == {q.type for q in queries}
    documents = await seed_documents(tmp_path) + list(generated_documents(1000))
    backend = EmbeddedBackend(tmp_path / "search")
    await backend.upsert(documents)

    async def embedded(judged: Judged) -> list[str]:
        return [h.slug for h in (await backend.search(judged.query())).hits]

    ours = await evaluate(embedded, queries)
    naive = await evaluate(substring_search(documents), queries)
    await backend.close()
    below = {t: round(m["ndcg@10"], 3) for t, m in ours.items() if m["ndcg@10"] < FLOORS[t]}
    assert below == {}, f"nDCG@10 under the floor: {below}"
    for kind in ("typo", "synonym", "natural"):
        assert ours[kind]["ndcg@10"] > naive[kind]["ndcg@10"] + 0.1, kind
