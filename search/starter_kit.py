"""The starter kit: for a new pilot's problem statement, the best few assets of each kind, and why each."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from catalog.schemas import KINDS
from search.analysis import STOPWORDS, words
from search.interfaces import QUERY_LIMIT, SearchBackend, SearchHit, SearchQuery

__all__ = ["KitItem", "StarterKit", "problem_query", "starter_kit"]

_MARKED = re.compile(r"<mark>(.*?)</mark>")


class KitItem(BaseModel):
    slug: str
    kind: str
    title: str
    summary: str
    latest_version: str
    origin_pilot: str
    reuse_count: int
    why: list[str] = Field(description="the reasons this asset was picked, in plain words")


class KitSection(BaseModel):
    kind: str
    assets: list[KitItem]


class StarterKit(BaseModel):
    problem: str
    sections: list[KitSection]


def _reasons(hit: SearchHit) -> list[str]:
    reasons = []
    for field, label in (("title", "title"), ("summary", "summary"), ("description", "description")):
        words = sorted({w.lower() for w in _MARKED.findall(hit.highlights.get(field, ""))})
        if words:
            reasons.append(f"matches {', '.join(words[:6])} in its {label}")
            break
    if hit.reuse_count:
        reasons.append(f"already reused by {hit.reuse_count} other pilot{'s' if hit.reuse_count != 1 else ''}")
    reasons.append(f"proven in production by the graduated pilot {hit.origin_pilot}")
    return reasons


def problem_query(problem: str, limit: int = QUERY_LIMIT) -> str:
    """The search text of a problem statement: its distinct words without stop words, up to a query's length.

    A statement may be four times longer than a query; repeated and filler words would only crowd out the
    words that tell assets apart.
    """
    kept: list[str] = []
    size = 0
    for word in dict.fromkeys(words(problem)):
        if word in STOPWORDS:
            continue
        if size + len(word) + 1 > limit:
            break
        kept.append(word)
        size += len(word) + 1
    return " ".join(kept) or problem[:limit]


async def starter_kit(backend: SearchBackend, problem: str, *, per_kind: int = 3) -> StarterKit:
    """Search each kind for the problem; only active assets, ranked by match then reuse."""
    sections = []
    for kind in KINDS:
        result = await backend.search(
            SearchQuery(q=problem_query(problem), kind=kind, lifecycle="active", limit=per_kind)
        )
        items = [
            KitItem(
                slug=h.slug,
                kind=h.kind,
                title=h.title,
                summary=h.summary,
                latest_version=h.latest_version,
                origin_pilot=h.origin_pilot,
                reuse_count=h.reuse_count,
                why=_reasons(h),
            )
            for h in result.hits
            if any("<mark>" in v for v in h.highlights.values())
        ]
        sections.append(KitSection(kind=kind, assets=items))
    return StarterKit(problem=problem, sections=sections)
