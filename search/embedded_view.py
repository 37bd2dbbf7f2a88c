"""One generation of the embedded index as a search reads it: its searcher, and what the searches of that
generation read again and again, cached (bounded by bytes, forgotten with the generation).

The words a typed word reaches by a typo or as a prefix are looked up in tantivy's term dictionary once and
then searched as plain terms. tantivy builds a Levenshtein automaton for a fuzzy query on every pass over the
index (the page, a pass without the last word, the facets): 20 µs for a word allowed one typo, 100 µs for two,
two thirds of a search's time in tantivy. The words they reach are few and the same from one search to the next,
and a disjunction of them, scored as a constant like the automaton's query, costs 2-6 µs.

A typed word is compared with the words sharing its first letter (a typo there counts as two, as in Meilisearch).
Where more than MAX_POOL words share it, comparing them one by one costs more than the automaton (28 ms for the
10,000 version numbers `v0001`... of a generated catalog): the automaton is used, which also forgives a typo on
the first letter.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis import SNIPPET, TermGroup, Word, shown_words, typed_heads, typos_allowed, words
from search.cache import LoadingCache
from search.embedded_schema import LISTS
from search.interfaces import SearchHit

__all__ = ["IndexView", "StoredAsset", "address_key", "lookup_cost", "stored_cost"]

MAX_PREFIXED = 64  # words from one prefix beyond which one automaton costs less than their disjunction
MAX_POOL = 1000  # words sharing a first letter beyond which comparing each with a typed word costs more than it saves
MAX_TYPOS = 100  # closest words a typo may reach; more would only add noise to the page
FIRST_LETTERS = string.ascii_lowercase + string.digits  # the index folds words to ASCII
Typo = tuple[str, int]  # a word of the index and its distance from the typed word


@dataclass(frozen=True, slots=True)
class StoredAsset:
    """An asset as a result page shows it: its hit as JSON without highlights, the texts a page marks, and the
    words of what a page shows of it (as written, normalized, stemmed)."""

    hit_json: bytes  # the hit's JSON object, open: a page adds `,"highlights":{...}}` (copying hits cost 60 µs)
    title: str
    summary: str
    description: str
    words: frozenset[Word]
    title_words: tuple[str, ...]  # as the index holds them: a query typing the title exactly names the asset


def stored_cost(asset: StoredAsset) -> int:
    """About the bytes a stored asset takes in the cache (its words are references to records shared by all)."""
    parts = [asset.hit_json, asset.title, asset.summary, asset.description]
    return 300 + sys.getsizeof(asset.words) + sum(sys.getsizeof(p) for p in parts)


def address_key(address: Any) -> tuple[int, int]:
    """A document's address in this generation of the index, as a hashable key."""
    return address.segment_ord, address.doc


@dataclass(frozen=True, slots=True)
class IndexView:
    """A searcher of index `generation`, with the stored fields and term lookups of that generation cached."""

    searcher: tantivy.Searcher
    generation: int
    stored: LoadingCache
    terms: LoadingCache

    def asset(self, address: Any) -> StoredAsset:
        """A stored document's fields and shown words."""
        return self.stored.get(address_key(address), self.generation, partial(_load, self.searcher, address))

    def typos(self, term: str, typos: int) -> tuple[Typo, ...] | None:
        """The words of `vocab` within `typos` edits of `term` (itself included), closest and commonest first; None
        when too many words share its first letter to compare them one by one (tantivy's automaton then)."""

        def load() -> tuple[Typo, ...] | None:  # the letter's words only on a miss: a costly lookup
            return _typos(self.searcher, self.starting_like(term), term, typos)

        return self.terms.get(("typos", term, typos), self.generation, load)

    def starting_like(self, term: str) -> tuple[str, ...] | None:
        """The words of `vocab` sharing the first letter of `term`, commonest first; None when there are too many
        (walking them cost 1-2 ms for a letter shared by 10,000 words, so the answer is kept too)."""
        load = partial(_starting_like, self.searcher, term[:1])
        return self.terms.get(("letter", term[:1]), self.generation, load)

    def prefixed(self, field: str, term: str) -> tuple[str, ...] | None:
        """The words of `field` that begin with `term`, or None when there are too many to search one by one."""
        load = partial(_prefixed, self.searcher, field, term)
        return self.terms.get(("prefix", field, term), self.generation, load)

    def group_query(self, group: TermGroup, build: Callable[[TermGroup, IndexView], tantivy.Query]) -> tantivy.Query:
        """The query of one word or phrase the user typed, built once per generation: the same words come back
        from one search to the next (as-you-type repeats all but the last), and building one took 30 µs."""
        load = partial(_built, build, group, self)
        return self.terms.get(("query", group), self.generation, load).query

    def prefix_typos(self, term: str) -> tuple[str, ...] | None:
        """The words of `vocab` that begin with `term` give or take one typo, or None when there are too many."""

        def load() -> tuple[str, ...] | None:
            return _prefix_typos(self.starting_like(term), term)

        return self.terms.get(("prefix-typo", term), self.generation, load)


@dataclass(frozen=True, slots=True)
class BuiltQuery:
    """A typed word's query as kept in the lookups cache, with what it is counted as there."""

    query: tantivy.Query
    cost: int  # about the bytes it holds in Rust: its terms and boosts


def _built(build: Callable[[TermGroup, IndexView], tantivy.Query], group: TermGroup, view: IndexView) -> BuiltQuery:
    words = [*group.tokens, *(w for phrase in group.synonyms for w in phrase)]
    return BuiltQuery(build(group, view), 2000 + 200 * sum(len(w) for w in words))


def lookup_cost(value: object) -> int:
    """About the bytes a looked-up value takes: a built query, or a list of words (with distances)."""
    if isinstance(value, BuiltQuery):
        return value.cost
    items = value if isinstance(value, tuple) else ()
    return sys.getsizeof(value) + sum(sys.getsizeof(item) + 60 for item in items)


def _load(searcher: tantivy.Searcher, address: Any) -> StoredAsset:
    stored = searcher.doc(address).to_dict()
    doc: dict[str, Any] = {name: values if name in LISTS else values[0] for name, values in stored.items() if values}
    title, summary, description = (str(doc.get(name, "")) for name in ("title", "summary", "description"))
    # Built without validation: every value comes typed from the index; it is only encoded, once.
    hit = SearchHit.model_construct(
        slug=doc.get("slug", ""),
        kind=doc.get("kind", ""),
        title=title,
        summary=summary,
        tags=list(doc.get("tags", [])),
        patterns=list(doc.get("patterns", [])),
        risks=list(doc.get("risks", [])),
        owner=doc.get("owner", ""),
        origin_pilot=doc.get("origin_pilot", ""),
        latest_version=doc.get("latest_version", ""),
        reuse_count=int(doc.get("reuse_count", 0)),
        lifecycle=doc.get("lifecycle", ""),
        successor=doc.get("successor") or None,
        published_at=datetime.fromtimestamp(int(doc.get("published_at", 0)), UTC),
    )
    shown = shown_words([(title, None), (summary, None), (description, SNIPPET)])
    hit_json = hit.model_dump_json(exclude={"highlights"}).encode()[:-1]
    return StoredAsset(hit_json, title, summary, description, shown, tuple(words(title)))


def _starting_like(searcher: tantivy.Searcher, letter: str) -> tuple[str, ...] | None:
    found = searcher.terms_with_prefix("vocab", letter, limit=MAX_POOL + 1)
    return None if len(found) > MAX_POOL else tuple(word for word, _ in found)


def _typos(searcher: tantivy.Searcher, pool: tuple[str, ...] | None, term: str, typos: int) -> tuple[Typo, ...] | None:
    if pool is None:
        return None
    found = process.extract(term, pool, scorer=OSA.distance, score_cutoff=typos, limit=MAX_TYPOS)
    close = [(str(word), int(distance)) for word, distance, _ in found]
    if typos >= 2:  # a typo on the first letter counts as two: allowed alone, as a word of 9 letters or more
        heads = {term[1:], term[1:2] + term[:1] + term[2:]}
        heads.update(c + rest for c in FIRST_LETTERS for rest in (term[1:], term))
        for word in sorted(heads):
            if word and typos_allowed(word, term, typos) == 1 and searcher.doc_freq("vocab", word):
                close.append((word, 1))
        close.sort(key=lambda typo: typo[1])
    return tuple(close[:MAX_TYPOS])


def _prefixed(searcher: tantivy.Searcher, field: str, term: str) -> tuple[str, ...] | None:
    found = searcher.terms_with_prefix(field, term, limit=MAX_PREFIXED + 1)
    return None if len(found) > MAX_PREFIXED else tuple(word for word, _ in found)


def _prefix_typos(candidates: tuple[str, ...] | None, term: str) -> tuple[str, ...] | None:
    if candidates is None:
        return None
    found: set[str] = set()
    for k in range(3):  # beginnings one letter shorter than the term, as long, one longer
        heads = [typed_heads(word, term)[k] for word in candidates]
        found.update(candidates[i] for _, _, i in process.extract(term, heads, scorer=OSA.distance, score_cutoff=1,
                                                                   limit=None))  # fmt: skip
        if len(found) > MAX_PREFIXED:
            return None
    return tuple(sorted(found))
