"""Reading a new pilot's problem statement as a person helping it would: the task, what can go wrong, what it
reads, and the words of its domain.

Risks come from what the statement says and from what its task implies: a pilot that summarizes, drafts or
answers can state what its sources do not say (hallucination); one that handles people's records handles
personal data; one that decides for people is overridden by them. The reading is shown with the kit, and the
user can correct it (`patterns=`, `risks=`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from catalog.roles import plain_text
from catalog.vocabulary import INPUTS, PATTERNS, RISKS, Term, normalized, occurrences
from search.analysis import STOPWORDS, words

__all__ = ["CORPUS_PATTERNS", "Reading", "label_of", "read_problem"]

MAX_PATTERNS = 3
CORPUS_PATTERNS = ("answer", "search", "screen")  # tasks that read a body of documents or lists
GENERATIVE = ("summarize", "draft", "answer")
_PEOPLE = re.compile(
    r"(?<!\w)(applicants?|candidates?|patients?|students?|employees?|tenants?|citizens?|customers?'|customer "
    r"(account|records?|data)|personal|job applications?|names, |addresses|account numbers?|medical|health)(?!\w)"
)
# "our chatbot is slow", "our model's answers": a pilot that runs already, asking about what goes wrong with it
_EXISTING = re.compile(
    r"(?<!\w)(our|my|the team's) ([\w-]+ ){0,3}(chatbot|bot|assistant|model|generator|agent|copilot|system|pipeline)"
    r"('s)?(?!\w)|(?<!\w)the (ai|model|assistant|chatbot|bot)'s(?!\w)"
    r"|^(monitor|alert|watch|track) (whether|when|if|how)"
)
_PUBLIC = re.compile(r"(?<!\w)(public-facing|public facing|members of the public|anyone can)(?!\w)")
_LABELS = {t.id: t.label for t in (*PATTERNS, *RISKS, *INPUTS)}


def label_of(term: str) -> str:
    """A vocabulary id as people read it ("extract" -> "extract fields from documents")."""
    return _LABELS.get(term, term)


class Reading(BaseModel):
    """What the kit understood of a problem statement."""

    patterns: list[str] = Field(description="task patterns, the main one first")
    risks: list[str] = Field(description="risks: those the statement names first, then those its task implies")
    stated_risks: list[str] = Field(description="the risks the statement itself names")
    inputs: list[str] = Field(description="what the pilot reads: documents, emails, calls, tickets, chat, images")
    reads_corpus: bool = Field(description="whether the task reads a body of documents (a retrieval pipeline fits)")
    domain_words: list[str] = Field(description="the statement's other words: what its domain is about")
    improves_existing: bool = Field(
        default=False, description="the statement is about what goes wrong with a pilot that runs already"
    )
    corrected: bool = Field(default=False, description="patterns or risks were given by the user, not read")
    summary: str = Field(description='the reading in one line ("read as: ...")')


def _found(terms: tuple[Term, ...], text: str) -> list[str]:
    """The terms the text signals, in the order the text first signals them."""
    first = [(found[0].start(), term.id) for term in terms if (found := occurrences(term, text))]
    return [term for _, term in sorted(first)]


def _implied_risks(patterns: list[str], text: str) -> list[str]:
    implied = []
    if any(p in GENERATIVE for p in patterns):
        implied.append("hallucination")
    if _PEOPLE.search(text) or "redact" in patterns:
        implied.append("pii")
    if "classify" in patterns:  # categories shift, and people correct what is misrouted
        implied += ["drift", "overrides"]
    if "decide" in patterns:
        implied.append("overrides")
    if "extract" in patterns:
        implied.append("format")
    if "act" in patterns or _PUBLIC.search(text):
        implied.append("safety")
    return implied


def _summary(reading: Reading) -> str:
    parts = [f"read as: {'; '.join(label_of(p) for p in reading.patterns) or 'no task pattern recognised'}"]
    if reading.risks:
        parts.append(f"risks: {', '.join(label_of(r) for r in reading.risks)}")
    if reading.inputs:
        parts.append(f"reads: {', '.join(label_of(i) for i in reading.inputs)}")
    if reading.improves_existing:
        parts.append("a running pilot: what covers its named risks")
    return "; ".join(parts)


def read_problem(problem: str, *, patterns: list[str] | None = None, risks: list[str] | None = None) -> Reading:
    """The statement's patterns, risks, inputs and domain words; given `patterns` or `risks` replace what was read."""
    text = normalized(plain_text(problem))
    read_patterns = _found(PATTERNS, text)[:MAX_PATTERNS]
    inputs = _found(INPUTS, text)
    if not read_patterns and "chat" in inputs:  # "an assistant for ...": people ask, it answers
        read_patterns = ["answer"]
    chosen = list(patterns) if patterns is not None else read_patterns
    stated = _found(RISKS, text)
    chosen_risks = list(risks) if risks is not None else list(dict.fromkeys([*stated, *_implied_risks(chosen, text)]))
    signal_words = {w for t in (*PATTERNS, *RISKS, *INPUTS) for m in occurrences(t, text) for w in words(m.group())}
    domain = [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS and w not in signal_words and len(w) > 2]
    reading = Reading(
        patterns=chosen,
        risks=chosen_risks,
        stated_risks=[r for r in stated if r in chosen_risks],
        inputs=[i for i in inputs if i != "corpus"],
        reads_corpus="corpus" in inputs or any(p in CORPUS_PATTERNS for p in chosen),
        domain_words=domain[:20],
        improves_existing=bool(stated and _EXISTING.search(text)),
        corrected=patterns is not None or risks is not None,
        summary="",
    )
    reading.summary = _summary(reading)
    return reading
