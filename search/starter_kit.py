"""The starter kit: for a new pilot's problem, the assets of each kind that fit its task and risks, and why.

It picks as a person helping the pilot would. The problem is read into task patterns and risks
(`search/problem.py`); each kind is picked by its role: evals that measure the pattern's output or cover its
risks, prompts of the same pattern, a retrieval pipeline only when the task reads a corpus, monitors for each
risk. The same task from another domain ranks above the same domain with another task: a pattern or risk match
outweighs the shared words. Proof (reuse by other pilots) and the problem's words break ties, picks are spread
over origin pilots, and nothing is padded: a kind with nothing fitting says so.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from catalog.schemas import KINDS, AssetDocument
from search.analysis import STOPWORDS, words
from search.interfaces import QUERY_LIMIT, SearchBackend, SearchHit, SearchQuery
from search.kit_reasons import reasons
from search.problem import CORPUS_PATTERNS, Reading, label_of, read_problem

__all__ = ["SECTION_TITLES", "Details", "KitItem", "KitSection", "StarterKit", "problem_query", "starter_kit"]

SECTION_TITLES = {  # how the page and the CLI head each kind's section
    "eval_harness": "Eval harnesses",
    "prompt": "Prompts",
    "retrieval_pipeline": "Retrieval pipelines",
    "monitor": "Monitors",
}
Details = Callable[[Sequence[str]], Awaitable[list[AssetDocument]]]  # the picked assets' documents, for reasons
CANDIDATES = 100  # per pattern and per risk, most reused first
PATTERN, RISK, QUALITY = 10.0, 8.0, 5.0  # a matched pattern, a covered risk, a monitor of the task's quality
IMPLIED = 0.75  # a risk the task implies counts this much of one the statement names
FOREIGN = 1.0  # per pattern an asset serves that the problem does not have: it was built for another task
SAME_ORIGIN = 1.5  # per pick of the section already from the same origin pilot
RELATIVE_BAR = 0.5  # a pick must score at least this share of its section's best
MITIGATES = {"redact": "pii"}  # prompts whose task removes a risk: offered when the statement names the risk
RELATED = {"search": ("answer",), "answer": ("search",)}  # for evals: tasks whose evals measure each other's output


class KitItem(BaseModel):
    slug: str
    kind: str
    title: str
    summary: str
    latest_version: str
    origin_pilot: str
    reuse_count: int
    serves: list[str] = Field(default_factory=list, description="the problem's task patterns it serves")
    covers: list[str] = Field(default_factory=list, description="the problem's risks it covers")
    fit: float = Field(description="how well it fills its role (pattern, risks, proof, shared words); higher first")
    why: list[str] = Field(description="the reasons this asset was picked, in plain words")


class KitSection(BaseModel):
    kind: str
    assets: list[KitItem]
    note: str | None = Field(default=None, description="why the kind has no pick, or fewer than asked")


class StarterKit(BaseModel):
    problem: str
    reading: Reading = Field(description="what the kit understood of the problem; correct it with patterns= and risks=")
    sections: list[KitSection]


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


@dataclass
class _Fit:
    hit: SearchHit
    serves: list[str]
    covers: list[str]
    score: float


def _fit(kind: str, hit: SearchHit, reading: Reading, text_rank: dict[str, float]) -> _Fit | None:
    """How well an asset fills its kind's role for this problem (None: it does not)."""
    serves = [p for p in reading.patterns if p in hit.patterns]
    if kind == "eval_harness":  # an eval of answers over a corpus measures its retrieval too, and the reverse
        serves += [p for p in reading.patterns if p not in serves and set(RELATED.get(p, ())) & set(hit.patterns)]
    covers = [r for r in reading.risks if r in hit.risks]
    mitigates = [p for p, r in MITIGATES.items() if p in hit.patterns and r in reading.stated_risks]
    if kind == "prompt" and mitigates and not serves:
        covers, serves = [MITIGATES[p] for p in mitigates], []
    elif reading.improves_existing:  # only what covers the risks it names
        if kind not in ("eval_harness", "monitor") or not (covers := [r for r in covers if r in reading.stated_risks]):
            return None
        serves = []
    elif kind == "retrieval_pipeline":
        serves = [p for p in serves if p in CORPUS_PATTERNS]
        if not (reading.reads_corpus and serves):
            return None
        covers = []
    elif kind == "prompt" and not serves and not mitigates:
        return None
    elif kind == "monitor":
        serves = [p for p in serves if p == "answer"]  # a monitor of answering: deflection, resolution
        if not (serves or covers):
            return None
    elif kind == "eval_harness" and not (serves or covers):
        return None
    pattern = max(
        ((1.0 - 0.2 * reading.patterns.index(p)) * (1.0 if p in hit.patterns else 0.6) for p in serves), default=0.0
    )
    risk = sum(1.0 if r in reading.stated_risks else IMPLIED for r in covers[:2])
    foreign = len([p for p in hit.patterns if p not in reading.patterns])
    weight = RISK if kind != "prompt" or mitigates else 0.5  # a prompt's risk words are a bonus, not its role
    score = (QUALITY if kind == "monitor" else PATTERN) * pattern + weight * risk
    score += -FOREIGN * min(foreign, 2) + min(hit.reuse_count, 3) * 1.0 + text_rank.get(hit.slug, 0.0)
    return _Fit(hit, serves, covers, score)


def _gain(kind: str, fit: _Fit, chosen: list[_Fit], covered: set[str], twice: set[str], stated: list[str]) -> float:
    """What a fit adds to the section: its score, less for an origin pilot already picked. A monitor must cover
    a risk not yet covered (or a named risk a second time); an eval that serves none of the problem's tasks must
    cover a risk no pick covers yet."""
    repeats = not fit.serves and not (set(fit.covers) - covered)
    if kind == "monitor" and repeats and (not set(fit.covers) & set(stated) or twice & set(fit.covers)):
        return -math.inf
    if kind == "eval_harness" and repeats:  # a second eval for a risk only, built for another task: noise
        return -math.inf
    return fit.score - SAME_ORIGIN * sum(1 for c in chosen if c.hit.origin_pilot == fit.hit.origin_pilot)


def _choose(kind: str, fits: list[_Fit], per_kind: int, stated: list[str]) -> list[_Fit]:
    """The best fits, spread over origin pilots; monitors one per risk (a second alert on a covered risk adds
    little, unless the statement names the risk), everything at least RELATIVE_BAR of the best."""
    chosen: list[_Fit] = []
    left = sorted(fits, key=lambda f: (-f.score, f.hit.slug))
    covered: set[str] = set()
    twice: set[str] = set()
    while left and len(chosen) < per_kind:
        gains = [_gain(kind, fit, chosen, covered, twice, stated) for fit in left]
        best = max(range(len(left)), key=gains.__getitem__)
        if gains[best] == -math.inf or (chosen and gains[best] < RELATIVE_BAR * chosen[0].score):
            break
        fit = left.pop(best)
        chosen.append(fit)
        twice |= covered & set(fit.covers)
        covered |= set(fit.covers)
    return chosen


def _note(kind: str, reading: Reading, chosen: list[_Fit], closest: SearchHit | None) -> str | None:
    if reading.improves_existing and kind in ("prompt", "retrieval_pipeline") and not chosen:
        return "your pilot runs already: the kit offers the evals and monitors that cover the risks you name"
    if kind == "retrieval_pipeline" and not reading.reads_corpus:
        return "no retrieval pipeline: the task reads no corpus"
    if chosen:
        return None
    needs = [label_of(p) for p in reading.patterns]
    if kind in ("eval_harness", "monitor"):
        needs += [label_of(r) for r in reading.risks]
    what = ", ".join(needs) or "this problem (no task pattern recognised: name one with pattern=)"
    hint = f"; closest: {closest.title} ({closest.slug})" if closest else ""
    return f"nothing fits {what}{hint}"


def _item(fit: _Fit, document: AssetDocument | None) -> KitItem:
    h = fit.hit
    return KitItem(
        slug=h.slug, kind=h.kind, title=h.title, summary=h.summary, latest_version=h.latest_version,
        origin_pilot=h.origin_pilot, reuse_count=h.reuse_count, serves=fit.serves, covers=fit.covers,
        fit=round(fit.score, 2), why=reasons(h, document, fit.serves, fit.covers),
    )  # fmt: skip


async def _candidates(backend: SearchBackend, reading: Reading) -> dict[str, SearchHit]:
    found: dict[str, SearchHit] = {}
    queries = [SearchQuery(patterns=[p]) for p in reading.patterns] + [SearchQuery(risks=[r]) for r in reading.risks]
    for query in queries:
        query = query.model_copy(update={"lifecycle": "active", "sort": "reuse", "limit": CANDIDATES})
        for hit in (await backend.search(query)).hits:
            found.setdefault(hit.slug, hit)
    return found


async def starter_kit(
    backend: SearchBackend,
    problem: str,
    *,
    per_kind: int = 3,
    patterns: list[str] | None = None,
    risks: list[str] | None = None,
    details: Details | None = None,
) -> StarterKit:
    """The kit for a problem: read it (or take the user's patterns and risks), then pick each kind by its role."""
    reading = read_problem(problem, patterns=patterns, risks=risks)
    candidates = await _candidates(backend, reading)
    text_rank: dict[str, float] = {}
    by_words: list[SearchHit] = []
    if reading.domain_words:
        query = SearchQuery(q=problem_query(" ".join(reading.domain_words)), lifecycle="active", limit=CANDIDATES)
        by_words = (await backend.search(query)).hits
        text_rank = {h.slug: 2.0 / (1 + i / 5) for i, h in enumerate(by_words)}  # the best match 2, the 6th 1
    picked: dict[str, list[_Fit]] = {}
    for kind in KINDS:
        fits = [f for h in candidates.values() if h.kind == kind if (f := _fit(kind, h, reading, text_rank))]
        picked[kind] = _choose(kind, fits, per_kind, reading.stated_risks)
    documents: dict[str, AssetDocument] = {}
    if details is not None and (slugs := [f.hit.slug for fits in picked.values() for f in fits]):
        documents = {d.slug: d for d in await details(slugs)}
    sections = []
    for kind in KINDS:
        closest = next((h for h in by_words if h.kind == kind and (h.patterns or h.risks)), None)
        items = [_item(f, documents.get(f.hit.slug)) for f in picked[kind]]
        sections.append(KitSection(kind=kind, assets=items, note=_note(kind, reading, picked[kind], closest)))
    # The kind with the best fitting pick first: read in order, the kit is close to one ranking of all picks.
    sections.sort(key=lambda s: -max((i.fit for i in s.assets), default=-math.inf))
    return StarterKit(problem=problem, reading=reading, sections=sections)
