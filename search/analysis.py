"""Text analysis shared by indexing, querying and highlighting, so all three see the same words.

Words are split on non-alphanumerics, lower-cased and ASCII-folded (tantivy's own analyzers, so the
query side matches the index exactly); a second analysis adds English stemming for recall.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.synonyms import SYNONYM_GROUPS

__all__ = [
    "LAST_WORDS",
    "SNIPPET",
    "STOPWORDS",
    "Highlighter",
    "Matcher",
    "TermGroup",
    "Word",
    "parse_query",
    "shown_words",
    "stem",
    "typed_heads",
    "typo_budget",
    "typos_allowed",
    "words",
]

WORDS = "words"
STEMS = "stems"


def _analyzer(stemmed: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stemmed:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


WORD_ANALYZER = _analyzer(stemmed=False)
STEM_ANALYZER = _analyzer(stemmed=True)

# Words that carry no meaning in a search for assets ("what should a new pilot start with for ...").
_STOPWORD_TEXT = """a an the and or of for to in on with by at from as is are be was were been that this these those
    what which who how why when where should could would can do does did i we you our my me your their
    its into about any some use using used need needs want find looking look start starting get make
    new pilot pilots our team please help me something thing things over goes go keep let like just
    whether there here them they been have has had will shall may might must"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(text: str) -> list[str]:
    """The normalized words of a text, exactly as the index splits them."""
    return list(WORD_ANALYZER.analyze(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    out = STEM_ANALYZER.analyze(word)
    return out[0] if out else word


@lru_cache(maxsize=65536)
def _normal(raw: str) -> str:
    out = WORD_ANALYZER.analyze(raw)
    return out[0] if out else ""


def typo_budget(word: str) -> int:
    """Typos a word may have and still match, as Meilisearch allows: one from 5 letters, two from 9."""
    if word.isdigit() or len(word) < 5:
        return 0
    return 1 if len(word) < 9 else 2


def typos_allowed(word: str, term: str, typos: int) -> int:
    """The edits `word` may be from `term`: a typo on the first letter counts as two, as in Meilisearch (it
    also keeps the typo lookups in the term dictionary to the words sharing the first letter)."""
    return typos if word[:1] == term[:1] else typos - 1


def typed_heads(word: str, term: str) -> tuple[str, ...]:
    """The beginnings of `word` that a prefix typed with one typo is compared with: as long as `term`, or one
    letter shorter or longer (a letter left out or typed twice)."""
    n = len(term)
    return word[: n - 1], word[:n], word[: n + 1]


Phrase = tuple[str, ...]
Word = tuple[str, str, str]  # a word as written, as the index holds it, and its stem


def _synonym_index() -> dict[Phrase, frozenset[Phrase]]:
    index: dict[Phrase, set[Phrase]] = {}
    for group in SYNONYM_GROUPS:
        phrases = {p for p in (tuple(w for w in words(term) if w not in STOPWORDS) for term in group) if p}
        for phrase in phrases:
            index.setdefault(phrase, set()).update(phrases - {phrase})
    return {k: frozenset(v) for k, v in index.items()}


SYNONYMS = _synonym_index()
_LONGEST_SYNONYM = max(len(p) for p in SYNONYMS)


@dataclass(frozen=True)
class TermGroup:
    """One thing the user asked for: a word (or a phrase the synonym list knows) and what else it may match."""

    tokens: Phrase
    synonyms: frozenset[Phrase]
    prefix: bool  # the last word while typing: also matches words that start with it


MAX_QUERY_WORDS = 32  # words a query is matched on; more only cost time (Meilisearch stops at 10)


def parse_query(text: str) -> list[TermGroup]:
    """Split a query into term groups: stopwords out, synonym phrases recognized, the last word a prefix."""
    all_words = words(text)
    kept = ([w for w in all_words if w not in STOPWORDS] or all_words)[:MAX_QUERY_WORDS]
    typing = bool(text) and not text[-1].isspace() and bool(all_words) and kept[-1] == all_words[-1]
    groups: list[TermGroup] = []
    i = 0
    while i < len(kept):
        for n in range(min(_LONGEST_SYNONYM, len(kept) - i), 0, -1):
            phrase = tuple(kept[i : i + n])
            if n == 1 or phrase in SYNONYMS:
                groups.append(TermGroup(phrase, SYNONYMS.get(phrase, frozenset()), prefix=False))
                i += n
                break
    if groups and typing and len(groups[-1].tokens) == 1:
        last = groups[-1]
        groups[-1] = TermGroup(last.tokens, last.synonyms, prefix=True)
    return groups


# When too few assets match every word of a query of up to this many words, its last word is dropped, then the
# one before (Meilisearch's "last" matching strategy); a longer one, a problem statement, is matched on most words.
LAST_WORDS = 4


class Matcher:
    """Decides whether a word of a document matches the query, the way the index matched it.

    Built once per search.
    """

    def __init__(self, groups: list[TermGroup]) -> None:
        self.exact: set[str] = set()
        self.phrase_words: set[str] = set()
        self.fuzzy: list[tuple[str, int]] = []
        self.prefixes: list[str] = []
        for group in groups:
            for phrase in (group.tokens, *group.synonyms):
                if len(phrase) > 1:
                    self.phrase_words.update(phrase)
                else:
                    self.exact.add(phrase[0])
            if len(group.tokens) == 1:
                term = group.tokens[0]
                if typos := typo_budget(term):
                    self.fuzzy.append((term, typos))
                if group.prefix:
                    self.prefixes.append(term)
        self.stems = {stem(w) for w in self.exact}

    def __bool__(self) -> bool:
        return bool(self.exact or self.phrase_words)

    def matching(self, shown: set[Word]) -> set[str]:
        """The words (as written) of a page that match, decided together: the typo and prefix distances are
        computed by rapidfuzz over the whole page in one call per query word instead of one call per pair."""
        hits = {word for _, word, stemmed in shown if word in self.exact or word in self.phrase_words
                or stemmed in self.stems}  # fmt: skip
        if self.fuzzy or self.prefixes:
            words = sorted({word for _, word, _ in shown})
            for term, typos in self.fuzzy:
                found = process.extract(term, words, scorer=OSA.distance, score_cutoff=typos, limit=None)
                hits.update(w for w, distance, _ in found if distance <= typos_allowed(w, term, typos))
            for term in self.prefixes:
                hits.update(w for w in words if w.startswith(term))
                if len(term) >= 5:
                    same_start = [w for w in words if w[:1] == term[:1]]
                    for k in range(3):  # heads one letter shorter, as long, one longer
                        heads = [typed_heads(w, term)[k] for w in same_start]
                        found = process.extract(term, heads, scorer=OSA.distance, score_cutoff=1, limit=None)
                        hits.update(same_start[i] for _, _, i in found)
        return {raw for raw, word, _ in shown if word in hits}


_TOKEN = re.compile(r"[^\W_]+")
_WORD_CHAR = re.compile(r"[^\W_]")
_SEPARATOR = "\x1e"  # ASCII record separator: not a word character, left alone by HTML escaping
SNIPPET = 200  # characters of a description shown around its first match


@lru_cache(maxsize=16384)
def _word(raw: str) -> Word:
    """One shared record per word as written, so the stored assets that show it hold a reference, not a copy."""
    normal = _normal(raw)
    return raw, normal, stem(normal) if normal else ""


def shown_words(texts: list[tuple[str, int | None]]) -> frozenset[Word]:
    """The words of the parts of texts a page can show (a text given a crop: its first four crops), as written,
    normalized and stemmed.

    Kept with each asset's stored fields: splitting a page's texts into words and normalizing them cost half of
    highlighting it. A set, so that the union of a page's sets reuses the hashes it holds (a quarter of the time of
    a union of tuples)."""
    raw = set(_TOKEN.findall(" ".join(text if crop is None else text[: crop * 4] for text, crop in texts)))
    return frozenset(word for word in map(_word, raw) if word[1])


def _starts_word(body: str, start: int) -> bool:
    """Whether a word found at `start` of escaped text begins a word there, outside an entity (&amp;, &#x27;)."""
    return not start or not (
        _WORD_CHAR.match(body, start - 1) or body[start - 1] == "&" or body.endswith("&#", 0, start)
    )


class Highlighter:
    """Marks the query's words in the texts of one result page: HTML-escaped, every matching word in <mark>,
    typo and prefix matches included; a text given a crop is cut to about that many characters around its
    first match (or its start).

    The matching words of all the page's texts (`words`, from `shown_words`) are decided once, and the texts are
    escaped and marked in one pass, joined by a separator: Python work per word took 8 ms for 100 hits, and a
    call into the regex engine per text cost more than the marking itself. A found word is a whole word, so its
    places are found by `str.find` and checked at both ends: a pattern of the found words cost 60-75 µs to
    compile, and a distinct search seldom finds the same words as the one before.
    """

    def __init__(self, matcher: Matcher, texts: list[tuple[str, int | None]], words: set[Word]) -> None:
        self.texts = [(text if crop is None else text[: crop * 4], crop) for text, crop in texts]  # what can show
        self._found = matcher.matching(words) if matcher else set()

    def marked(self) -> list[str]:
        """The texts marked, in order."""
        parts = [self._cut(text, crop) for text, crop in self.texts]
        marked = self._marked(_SEPARATOR.join(body for _, body, _ in parts)).split(_SEPARATOR)
        if len(marked) != len(parts):  # a text held the separator itself
            marked = [self._marked(body) for _, body, _ in parts]
        return [before + body + after for (before, _, after), body in zip(parts, marked, strict=True)]

    def _marked(self, text: str) -> str:
        body = html.escape(text)
        places = []
        for word in self._found:
            start = body.find(word)
            while start >= 0:
                end = start + len(word)
                if _starts_word(body, start) and not _WORD_CHAR.match(body, end):
                    places.append((start, end))
                start = body.find(word, end)  # a whole word cannot begin inside this one
        if not places:
            return body
        places.sort()
        parts, done = [], 0
        for start, end in places:
            parts += [body[done:start], "<mark>", body[start:end], "</mark>"]
            done = end
        parts.append(body[done:])
        return "".join(parts)

    def _cut(self, text: str, crop: int | None) -> tuple[str, str, str]:
        """The part of a text shown, with an ellipsis before and after where it was cut."""
        if crop is None or len(text) <= crop:
            return "", text, ""
        first = next((m.start() for m in _TOKEN.finditer(text) if m.group() in self._found), 0)
        start = max(0, first - crop // 4)
        if start:
            start = text.find(" ", start) + 1 or start
        end = min(len(text), start + crop)
        if end < len(text):
            end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
        return ("…" if start else ""), text[start:end], ("…" if end < len(text) else "")
