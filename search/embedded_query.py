"""Searching the embedded index: a query as tantivy queries, the page ranked, its facets and highlights.

Ranking works like Meilisearch's: documents matching every word of the query come first (a word may match
exactly, with typos, as a prefix while typing, by its stem or by a synonym); when too few do, a short query
drops its last word, then the one before, and a long one counts the words each document matches. Then text
relevance with field weights (exact above fuzzy), then capped tie-breakers: reuse and freshness; deprecated
assets sink. A query that names an asset exactly puts it first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

import tantivy
from pydantic_core import to_json
from tantivy import Occur, Query

from search.analysis import LAST_WORDS, SNIPPET, Highlighter, Matcher, TermGroup, Word, parse_query, stem, words
from search.analysis import typo_budget as budget
from search.embedded_schema import LOOSE_FIELDS, PHRASE_FIELDS, SCHEMA, STEM_FIELDS, WORD_FIELDS
from search.embedded_view import IndexView, StoredAsset, address_key
from search.interfaces import FACETS, SearchAnswer, SearchQuery, elapsed_ms

__all__ = ["run"]

WORD_MATCH = 10_000.0  # each matched query word outweighs any text relevance
Ranked = tuple[float, float, Any]  # words matched, relevance with tie-breakers, the asset's address
BEST = itemgetter(0, 1)  # the order of Ranked entries, best last
FACET_FIELD = {"tags": "tags", **{f: f for f in FACETS}}
EXACT_TITLES = 5  # best matches of every word whose titles are compared with the query


def _any_of(field: str, terms: tuple[str, ...]) -> Query:
    """Documents holding any of the terms, each scoring 1 (as a fuzzy or prefix query's automaton scores)."""
    return Query.const_score_query(
        Query.boolean_query([(Occur.Should, Query.term_query(SCHEMA, field, t)) for t in terms]), 1.0
    )


def _group_query(group: TermGroup, view: IndexView) -> Query:
    alternatives: list[tuple[Occur, Query]] = []

    def add(query: Query, boost: float) -> None:
        alternatives.append((Occur.Should, Query.boost_query(query, boost)))

    for phrase, weight in [(group.tokens, 1.0), *[(s, 0.8) for s in group.synonyms]]:
        if len(phrase) > 1:
            for field in PHRASE_FIELDS:
                add(Query.phrase_query(SCHEMA, field, list(phrase), slop=3), 2 * WORD_FIELDS[field] * weight)
            continue
        term = phrase[0]
        for field, w in WORD_FIELDS.items():
            add(Query.term_query(SCHEMA, field, term), 2 * w * weight)
        for field, w in STEM_FIELDS.items():
            add(Query.term_query(SCHEMA, field, stem(term)), 1.2 * w * weight)
        if weight == 1.0 and (typos := budget(term)):
            # Any word within the typos, in `vocab` (it holds the title's words too); a word the index does not
            # hold has its closest words scored like real words, title included.
            close = view.typos(term, typos)
            if close is None:
                fuzzy = Query.fuzzy_term_query(SCHEMA, "vocab", term, distance=typos, transposition_cost_one=True)
                add(fuzzy, 0.7 * LOOSE_FIELDS["vocab"])
            elif close:
                add(_any_of("vocab", tuple(word for word, _ in close)), 0.7 * LOOSE_FIELDS["vocab"])
                if not view.searcher.doc_freq("vocab", term):
                    for word, distance in close[:3]:
                        for field, w in WORD_FIELDS.items():
                            add(Query.term_query(SCHEMA, field, word), (1.6 if distance == 1 else 1.2) * w)
        if weight == 1.0 and group.prefix:
            for field, w in LOOSE_FIELDS.items():
                prefixed = view.prefixed(field, term)
                if prefixed is None:
                    add(Query.fuzzy_term_query(SCHEMA, field, term, distance=0, prefix=True), 0.9 * w)
                elif prefixed:
                    add(_any_of(field, prefixed), 0.9 * w)
            if len(term) >= 5:
                typed = view.prefix_typos(term)
                if typed is None:
                    typed_query = Query.fuzzy_term_query(SCHEMA, "vocab", term, distance=1, prefix=True)
                    add(typed_query, 0.5 * LOOSE_FIELDS["vocab"])
                elif typed:
                    add(_any_of("vocab", typed), 0.5 * LOOSE_FIELDS["vocab"])
    return Query.boolean_query(alternatives)


def _counted(word: Query) -> Query:
    """A word's query scoring WORD_MATCH more where it matches, so a sum over words counts the words matched.

    This evaluates the word's query twice: only ranking a long query by how many of its words match needs it.
    """
    return Query.boolean_query([(Occur.Should, Query.const_score_query(word, WORD_MATCH)), (Occur.Should, word)])


def _filters(query: SearchQuery) -> list[tuple[Occur, Query]]:
    pairs = [
        ("kind", query.kind),
        ("owner", query.owner),
        ("origin_pilot", query.origin_pilot),
        ("lifecycle", query.lifecycle),
    ]
    pairs += [("tags", tag.lower()) for tag in query.tags]
    pairs += [("patterns", p) for p in query.patterns] + [("risks", r) for r in query.risks]
    return [(Occur.Must, Query.term_query(SCHEMA, field, value)) for field, value in pairs if value]


TIE_BREAK_MAX = 3.0


REUSE_POINTS = tuple(min(math.log2(1 + reuse), 4.0) * 0.5 for reuse in range(16))  # 15 reuses and more: 2 points
HALF_LIFE = 180 * 86400.0  # seconds


def _tie_break(reuse: float, published_at: float, now: float) -> float:
    """At most 3 points, far below one exact title match: reuse (log-scaled) and freshness (half-life 180 days)."""
    return REUSE_POINTS[min(int(reuse), 15)] + float(0.5 ** (max(0.0, now - published_at) / HALF_LIFE))


def _count(result: tantivy.SearchResult) -> int:
    """How many documents matched."""
    return int(result.count or 0)  # type: ignore[attr-defined]  # tantivy's stub lacks `count`, the runtime has it


def run(view: IndexView, query: SearchQuery, started: float) -> SearchAnswer:
    """One search against one generation of the index: the page, its facets and highlights, and how many match."""
    groups = parse_query(query.q)
    filters = _filters(query)
    if not groups:
        chosen = Query.boolean_query(filters) if filters else Query.all_query()
        page, total = _sorted(view.searcher, chosen, query)
    else:
        page, total, chosen = _by_words(view, query, groups, filters)
    facets = _facets(view.searcher, chosen)
    assets = [view.asset(address) for address in page]
    shown: list[tuple[str, int | None]] = []
    for asset in assets:
        shown += [(asset.title, None), (asset.summary, None)]
        if groups and asset.description:
            shown.append((asset.description, SNIPPET))
    words: set[Word] = set().union(*(asset.words for asset in assets)) if groups else set()
    marked = iter(Highlighter(Matcher(groups), shown, words).marked())
    hits = b",".join(_highlighted(asset, marked, bool(groups)) for asset in assets)
    took_ms = elapsed_ms(started)
    # SearchResult's JSON, written from the stored hits' JSON: building and copying hit objects to encode them
    # again cost a tenth of a search. Web pages decode it, validated, as the API's clients do.
    body = b'{"total":%d,"hits":[%b],"facets":%b,"took_ms":%b}' % (total, hits, to_json(facets), repr(took_ms).encode())
    return SearchAnswer(body, total, took_ms)


def _by_words(
    view: IndexView, query: SearchQuery, groups: list[TermGroup], filters: list[tuple[Occur, Query]]
) -> tuple[list[Any], int, Query]:
    """The page, how many match and the query they match. Assets matching every word come first. When too few
    do, a short query drops its last word, then the one before (Meilisearch's "last" strategy, which the
    production backend asks for too), each step one conjunction: counting the words each asset matches, any of
    them, evaluated every word's query twice and cost a third of a search. A long query (a problem statement)
    still counts them: dropping its commonest words first halved the relevance of problem statements on the
    judged queries (bench/relevance.py), and dropping from the end loses what it says first.
    """
    searcher, wanted = view.searcher, query.offset + query.limit
    clauses = [view.group_query(g, _group_query) for g in groups]
    chosen = Query.boolean_query([(Occur.Must, c) for c in clauses] + filters)
    scored, total = _ranked(searcher, chosen, query, len(groups))
    # A query that names an asset puts it first; the page then fills as for any query, with related assets.
    exact = _exact(view, query, filters, [address for _, _, address in scored])
    if total < wanted and len(groups) > 1:
        if len(query.q.split()) > LAST_WORDS:  # a problem statement: the assets matching most of its words next
            counted = Query.boolean_query([(Occur.Should, _counted(c)) for c in clauses])
            scored, total = _ranked(searcher, Query.boolean_query([(Occur.Must, counted), *filters]), query, None)
            chosen = Query.boolean_query([(Occur.Must, Query.boolean_query([(Occur.Should, c) for c in clauses])),
                                          *filters])  # fmt: skip
        else:  # as typed: the last word is dropped first, then the one before, each step one conjunction
            scored, total, chosen = _dropping_last(searcher, query, clauses, filters, scored, total)
    page = [address for _, _, address in scored]
    if exact is not None:
        page = [exact, *(address for address in page if address_key(address) != address_key(exact))]
        total = max(total, 1)
    return page[query.offset : wanted], total, chosen


def _dropping_last(
    searcher: tantivy.Searcher,
    query: SearchQuery,
    clauses: list[Query],
    filters: list[tuple[Occur, Query]],
    scored: list[Ranked],
    total: int,
) -> tuple[list[Ranked], int, Query]:
    """The matches of every word, then those of all but the last, and so on until the page is full."""
    wanted = query.offset + query.limit
    seen = {address_key(address) for _, _, address in scored}
    kept = list(clauses)
    chosen = Query.boolean_query([(Occur.Must, c) for c in kept] + filters)
    while total < wanted and len(kept) > 1:
        kept.pop()
        chosen = Query.boolean_query([(Occur.Must, c) for c in kept] + filters)
        more, total = _ranked(searcher, chosen, query, len(kept))
        for entry in more:
            if (key := address_key(entry[2])) not in seen:
                seen.add(key)
                scored.append(entry)
    scored.sort(key=BEST, reverse=True)
    return scored, total, chosen


def _exact(view: IndexView, query: SearchQuery, filters: list[tuple[Occur, Query]], best: list[Any]) -> Any:
    """The asset the query names exactly, by slug ("claims-triage-prompt", "claims triage prompt": one term
    lookup) or by title (among the best matches of every word), if any."""
    typed = tuple(words(query.q))
    if query.sort != "relevance" or not typed:
        return None
    named = Query.term_query(SCHEMA, "slug", "-".join(typed))
    found = view.searcher.search(Query.boolean_query([(Occur.Must, named), *filters]), 1)
    if found.hits:
        return found.hits[0][1]
    for address in best[:EXACT_TITLES]:
        if view.asset(address).title_words == typed:
            return address
    return None


def _order(query: SearchQuery) -> str:
    """The fast field a search sorted otherwise than by relevance orders by (most reused without words)."""
    return "published_at" if query.sort == "newest" else "reuse_count"


def _sorted(searcher: tantivy.Searcher, chosen: Query, query: SearchQuery) -> tuple[list[Any], int]:
    """The addresses of the page asked for, newest or most reused first, and how many match."""
    result = searcher.search(chosen, query.limit, count=True, order_by_field=_order(query), offset=query.offset)
    return [address for _, address in result.hits], _count(result)


def _ranked(
    searcher: tantivy.Searcher, chosen: Query, query: SearchQuery, matched: int | None
) -> tuple[list[Ranked], int]:
    """The best matches of a query requiring `matched` words (None: counted by `_counted`), best first, and how
    many match. By relevance, a margin beyond the page: reuse, freshness and deprecation reorder them."""
    wanted = query.offset + query.limit
    if query.sort != "relevance":
        result = searcher.search(chosen, wanted, count=True, order_by_field=_order(query))
        return [(matched or 0, -float(i), address) for i, (_, address) in enumerate(result.hits)], _count(result)
    result = searcher.search(chosen, wanted + 100, count=True)
    hits = result.hits
    deprecated = searcher.fast_field_values("deprecated", [address for _, address in hits])
    active = [score for (score, _), dep in zip(hits, deprecated, strict=True) if not dep]
    if len(active) >= wanted:  # no hit further down can reach the page, whatever its reuse and freshness
        floor = active[wanted - 1] - TIE_BREAK_MAX
        kept = sum(1 for score, _ in hits if score >= floor)
        hits, deprecated = hits[:kept], deprecated[:kept]
    addresses = [address for _, address in hits]
    reuse = searcher.fast_field_values("reuse_count", addresses)
    published = searcher.fast_field_values("published_at", addresses)
    now = time.time()
    scored = []
    for (score, address), r, p, dep in zip(hits, reuse, published, deprecated, strict=True):
        words_matched, relevance = divmod(score, WORD_MATCH) if matched is None else (matched, score)
        if dep:  # deprecated assets sink: below active ones that match one word less
            scored.append((max(words_matched - 1, 1), relevance * 0.5, address))
        else:
            scored.append((words_matched, relevance + _tie_break(r or 0, p or 0, now), address))
    scored.sort(key=BEST, reverse=True)
    return scored, _count(result)


def _facets(searcher: tantivy.Searcher, query: Query) -> dict[str, dict[str, int]]:
    spec = {name: {"terms": {"field": FACET_FIELD[name], "size": 100 if name == "tags" else 50}} for name in FACETS}
    result = searcher.aggregate(query, spec)
    return {
        name: {str(b["key"]): int(b["doc_count"]) for b in result.get(name, {}).get("buckets", [])} for name in FACETS
    }


def _highlighted(asset: StoredAsset, marked: Iterator[str], searched: bool) -> bytes:
    """An asset's hit as JSON with its highlights, taken from the page's marked texts in order."""
    highlights = {"title": next(marked), "summary": next(marked)}
    if searched and asset.description:
        highlights["description"] = next(marked)
    return asset.hit_json + b',"highlights":' + to_json(highlights) + b"}"
