"""Relevance of search on the judged query set: recall@5, MRR@10 and nDCG@10 per query type.

    .venv/bin/python -m bench.relevance            # seed catalog + 1,000 generated distractors

Prints the embedded backend beside a naive substring search (the baseline the search issue measured).
"""

from __future__ import annotations

import asyncio
import math
import sys
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.corpus import generated_documents
from catalog.db import make_engine, migrate
from catalog.schemas import AssetDocument
from catalog.seeding import seed_catalog
from catalog.services.indexing import all_asset_documents
from registry.settings import SEED_DIR
from search.embedded import EmbeddedBackend
from search.interfaces import SearchQuery

__all__ = ["Judged", "evaluate", "load_queries", "seed_documents", "substring_search"]

QUERIES = Path(__file__).with_name("judged_queries.yaml")
TYPES = ("exact", "keyword", "natural", "typo", "prefix", "synonym", "filtered", "starter")


@dataclass(frozen=True)
class Judged:
    type: str
    q: str
    relevant: dict[str, int]
    filters: dict[str, Any] = field(default_factory=dict)

    def query(self, limit: int = 10) -> SearchQuery:
        return SearchQuery(q=self.q, limit=limit, **self.filters)


def load_queries(path: Path = QUERIES) -> list[Judged]:
    out = []
    for item in yaml.safe_load(path.read_text()):
        filters = {k: item[k] for k in ("kind", "tags", "owner", "origin_pilot", "lifecycle") if k in item}
        out.append(Judged(type=item["type"], q=item["q"], relevant=dict(item["relevant"]), filters=filters))
    return out


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 5) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def mrr_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    return next((1 / (i + 1) for i, slug in enumerate(ranked[:k]) if slug in relevant), 0.0)


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(slug, 0) - 1) / math.log2(i + 2) for i, slug in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


Search = Callable[[Judged], Awaitable[list[str]]]


async def evaluate(search: Search, queries: Sequence[Judged]) -> dict[str, dict[str, float]]:
    """Mean recall@5, MRR@10 and nDCG@10 per query type and over all queries."""
    rows: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for judged in queries:
        ranked = await search(judged)
        scores = (recall_at(ranked, judged.relevant), mrr_at(ranked, judged.relevant), ndcg_at(ranked, judged.relevant))
        rows[judged.type].append(scores)
        rows["all"].append(scores)
    return {
        t: {
            "queries": len(v),
            "recall@5": sum(s[0] for s in v) / len(v),
            "mrr@10": sum(s[1] for s in v) / len(v),
            "ndcg@10": sum(s[2] for s in v) / len(v),
        }
        for t, v in rows.items()
    }


def substring_search(documents: Sequence[AssetDocument]) -> Search:
    """The naive baseline: count query words found as substrings of the asset's text, filters applied."""

    async def search(judged: Judged) -> list[str]:
        words = [w for w in judged.q.lower().split() if len(w) > 2]
        scored = []
        for d in documents:
            f = judged.filters
            if (f.get("kind") and d.kind != f["kind"]) or (f.get("owner") and d.owner != f["owner"]):
                continue
            if any(t not in d.tags for t in f.get("tags", [])):
                continue
            text = " ".join([d.slug, d.title, d.summary, d.description, " ".join(d.tags)]).lower()
            score = sum(w in text for w in words) if words else 1
            if score:
                scored.append((-score, -d.reuse_count, d.slug))
        return [slug for _, _, slug in sorted(scored)[:10]]

    return search


async def seed_documents(workdir: Path) -> list[AssetDocument]:
    """The seed catalog's documents, built by the real seeding and indexing code on a scratch SQLite file."""
    await migrate(make_engine(None, workdir))
    await seed_catalog(SEED_DIR)
    return [d async for batch in all_asset_documents() for d in batch]


async def main(distractors: int = 1000) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        documents = await seed_documents(Path(tmp)) + list(generated_documents(distractors))
        backend = EmbeddedBackend(Path(tmp) / "search")
        await backend.upsert(documents)

        async def embedded(judged: Judged) -> list[str]:
            return [h.slug for h in (await backend.search(judged.query())).hits]

        queries = load_queries()
        ours = await evaluate(embedded, queries)
        naive = await evaluate(substring_search(documents), queries)
        await backend.close()
    print(f"{len(queries)} judged queries over {len(documents)} assets ({distractors} generated distractors)\n")
    print(f"{'type':<10}{'n':>4}  {'recall@5':>9}{'MRR@10':>9}{'nDCG@10':>9}   {'substring nDCG@10':>18}")
    for t in (*TYPES, "all"):
        if t in ours:
            m, b = ours[t], naive[t]
            figures = f"{m['recall@5']:>9.3f}{m['mrr@10']:>9.3f}{m['ndcg@10']:>9.3f}"
            print(f"{t:<10}{m['queries']:>4.0f}  {figures}   {b['ndcg@10']:>18.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
