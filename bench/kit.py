"""The starter kit judged on new-pilot problems: nDCG@10, precision and recall of the picks, per task pattern.

    .venv/bin/python -m bench.kit              # bench/kit_queries.yaml over the seed plus ../shared/corpora
    .venv/bin/python -m bench.kit --show       # and every problem's picks, marked by their grade

The kit's picks are taken in the order it gives them (section by section, each in rank order). Precision is
the share of picks judged relevant (grade 1 or 2); recall is the share of the grade-2 assets ("should clearly
take") that were picked; a problem with no pick has precision 0.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.kit_catalog import kit_catalog
from bench.relevance import ndcg_at
from catalog.services.indexing import asset_documents
from search.embedded import EmbeddedBackend
from search.starter_kit import StarterKit, starter_kit

__all__ = ["KitJudged", "load_problems", "score"]

PROBLEMS = Path(__file__).with_name("kit_queries.yaml")


@dataclass(frozen=True)
class KitJudged:
    problem: str
    pattern: str
    relevant: dict[str, int]


def load_problems(path: Path = PROBLEMS) -> list[KitJudged]:
    return [KitJudged(i["problem"], i["pattern"], dict(i["relevant"])) for i in yaml.safe_load(path.read_text())]


def picks(kit: StarterKit) -> list[str]:
    return [item.slug for section in kit.sections for item in section.assets]


def score(ranked: list[str], relevant: dict[str, int]) -> tuple[float, float, float]:
    """nDCG@10, precision and recall of the grade-2 assets, for one problem."""
    hits = [s for s in ranked if relevant.get(s, 0) > 0]
    ideal = [s for s, g in relevant.items() if g == 2]
    precision = len(hits) / len(ranked) if ranked else 0.0
    recall = len([s for s in ideal if s in ranked]) / len(ideal) if ideal else 1.0
    return ndcg_at(ranked, relevant), precision, recall


async def main(show: bool = False) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        documents, refused = await kit_catalog(Path(tmp))
        if refused:
            print(f"{len(refused)} corpus files could not be published:", *refused, sep="\n  ", file=sys.stderr)
        backend = EmbeddedBackend(Path(tmp) / "search")
        await backend.upsert(documents)

        async def details(slugs: Any) -> list[Any]:
            return (await asset_documents(slugs))[0]

        rows: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        took: list[float] = []
        for judged in load_problems():
            started = time.perf_counter()
            kit = await starter_kit(backend, judged.problem, details=details)
            took.append((time.perf_counter() - started) * 1000)
            ranked = picks(kit)
            figures = score(ranked, judged.relevant)
            rows[judged.pattern].append(figures)
            rows["all"].append(figures)
            if show:
                print(f"\n{judged.problem}\n  {kit.reading.summary}")
                for section in kit.sections:
                    marks = [f"{i.slug}[{judged.relevant.get(i.slug, 0)}]" for i in section.assets]
                    print(f"  {section.kind:18} {' '.join(marks)}{'  -- ' + section.note if section.note else ''}")
                missed = [s for s, g in judged.relevant.items() if g == 2 and s not in ranked]
                print(f"  missed: {' '.join(missed)}" if missed else "  missed: none")
        await backend.close()
    print(f"\n{'pattern':<12} {'problems':>8} {'nDCG@10':>8} {'precision':>9} {'recall':>7}")
    for pattern in sorted(rows, key=lambda p: (p == "all", p)):
        v = rows[pattern]
        means = [sum(x[i] for x in v) / len(v) for i in range(3)]
        print(f"{pattern:<12} {len(v):>8} {means[0]:>8.3f} {means[1]:>9.3f} {means[2]:>7.3f}")
    took.sort()
    print(f"\n{len(documents)} assets; a kit in-process (reading, searches, picks, reasons): "
          f"p50 {took[len(took) // 2]:.1f} ms, max {took[-1]:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(show="--show" in sys.argv)))
