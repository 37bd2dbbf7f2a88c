"""Task patterns and risks: the one maintained vocabulary of what AI pilots do and what can go wrong.

A person helping a new pilot asks what the task is (extract fields, summarize, classify and route, answer over
a corpus ...) and what can go wrong (hallucination, personal data, latency, cost ...), then looks for what
solved the same task elsewhere. Assets carry these terms (derived from their content, or set in the manifest),
problem statements are read into them, and the starter kit picks by them.

A signal is a lower-case word or phrase: `*` ends a word's stem (`summar*` matches summary, summarise ...),
spaces match spaces, hyphens or underscores (texts are `normalized` first: every run of them is one space, so
matching never backtracks over long runs). Keep signals specific: a word that many unrelated texts use
(`summary`, `answer`, `question`) belongs only in the phrases that make it specific.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "INPUTS",
    "PATTERNS",
    "RISKS",
    "VOCABULARY_DIGEST",
    "Term",
    "known_ids",
    "matches",
    "normalized",
    "occurrences",
]


@dataclass(frozen=True)
class Term:
    id: str
    label: str  # what it is, as a filter or a facet shows it
    does: str  # what a pilot with it does, as a reason says it: "your pilot {does}"
    noun: str  # an asset serving it: "an {noun} eval"
    signals: tuple[str, ...]  # a signal starting with "!" is a phrase that does not count ("!memory leak*")
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    unless: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exceptions = [s[1:] for s in self.signals if s.startswith("!")]
        object.__setattr__(self, "regex", _compile(s for s in self.signals if not s.startswith("!")))
        object.__setattr__(self, "unless", _compile(exceptions) if exceptions else None)


_SEPARATORS = re.compile(r"[\s_-]+")


def normalized(text: str) -> str:
    """Text as signals are matched against: lower case, each run of spaces, hyphens and underscores one space."""
    return _SEPARATORS.sub(" ", text.lower())


def _compile(signals: Iterable[str]) -> re.Pattern[str]:
    parts = [re.escape(normalized(signal)).replace(r"\*", r"\w*").replace(r"\ ", " ") for signal in signals]
    return re.compile(r"(?<![\w$])(?:" + "|".join(parts) + r")(?!\w)")


def occurrences(term: Term, text: str) -> list[re.Match[str]]:
    """Where the term's signals occur in a `normalized` text, its exceptions left out (blanked, so the positions
    are the text's own)."""
    if term.unless is not None:
        text = term.unless.sub(lambda found: " " * len(found.group()), text)
    return list(term.regex.finditer(text))


def matches(term: Term, text: str) -> int:
    """How many times the term's signals occur in a `normalized` text, its exceptions left out."""
    return len(occurrences(term, text))


# fmt: off
PATTERNS: tuple[Term, ...] = (
    Term("extract", "extract fields from documents", "extracts fields from documents", "extraction", (
        "extract*", "clause*", "key fields", "fields from", "field-level", "field level", "entity extraction",
        "named entit*", "pull", "pull out", "pull * out", "capture data", "data capture", "data entry", "fill in",
        "fills in", "populate*", "line items", "structured data from", "return * fields", "beneficial owner*",
        "ubo*", "key information", "key dates", "renewal dates", "ner", "!flexible-extract",
    )),
    Term("summarize", "summarize", "summarizes documents", "summarization", (
        "summar*", "condens*", "digest*", "tl;dr", "tldr", "chain of density", "handover note*", "briefing*",
        "key points", "recap*", "synopsis", "abstracts", "!discharge summar*", "!summary of changes",
    )),
    Term("draft", "draft replies and documents", "drafts replies and documents", "drafting", (
        "draft*", "compose*", "write* repl*", "write* letter*", "write* email*", "write* response*",
        "write* a weekly", "write* a report", "write* report*", "generat* text", "generat* repl*",
        "generat* letter*", "generat* descriptions", "generat* * descriptions", "email writer", "letter writer",
        "copy writer", "copywrit*", "ad copy", "marketing copy", "writ* * descriptions", "writ* descriptions",
        "first repl*", "respond to customers", "reply to", "replies to", "response letter*", "claims letters",
        "!ai-drafted",
    )),
    Term("classify", "classify and route", "classifies and routes items", "classification", (
        "classif*", "categori*", "triage*", "rout*", "tag*", "label* each", "prioriti*", "priority", "sentiment*",
        "intent detection", "assign* * to", "assign* to", "send them to", "queue*", "reason code*", "by theme",
        "by topic", "diagnosis codes", "code suggestion*", "suggest* * codes", "codes for", "icd-10", "icd10",
        "hs codes", "tariff codes", "coding accuracy", "positive, negative",
    )),
    Term("answer", "answer questions over a corpus", "answers questions from a body of documents",
         "question answering", (
        "question answering", "answer* questions", "answer* * questions", "answer* their questions",
        "questions about", "questions from", "questions over", "q&a", "qna", "rag", "retrieval-augmented",
        "retrieval augmented", "knowledge base*", "chatbot*", "chat bot*", "self-service", "faq*", "answer quality",
        "answer relevance", "answer-relevance", "context recall", "context-recall", "answers grounded",
        "answers are grounded", "written answers", "answers to", "answers", "deflection", "resolution accuracy",
    )),
    Term("search", "find relevant documents", "finds relevant documents and records", "retrieval", (
        "retriev*", "semantic search", "vector search", "hybrid search", "find similar", "similar past",
        "find the right", "find relevant", "look up", "lookup", "search* * documents", "search* * records", "bm25",
        "embedding retriever", "rerank*", "re-rank*", "!no-retriever",
    )),
    Term("screen", "screen and match against lists", "screens and matches names against lists", "screening", (
        "screen*", "!pre-screen*", "!pre screen*", "sanction*", "watchlist*", "watch list*", "pep",
        "politically exposed", "export-control", "export control", "adverse media", "vendor master", "master data",
        "fuzzy match*", "name match*", "match* * names", "match* names", "match* * to our", "deduplicat*",
        "denied part*",
    )),
    Term("decide", "decide or recommend automatically", "decides or recommends automatically", "decision", (
        "decide which", "decides which", "decide automatically", "automated decision*", "automatic decision*",
        "decisioning", "approve or reject", "approve or decline", "eligib*", "adjudicat*", "pre-screen*",
        "recommendation*", "recommender*", "risk scor*", "credit scor*", "underwrit*", "paid without",
        "without a person", "must-have criteria", "shortlist*", "next best action", "suggestions over time",
        "route suggestions", "need an audit", "needs an audit",
    )),
    Term("redact", "redact personal data", "removes personal data from text", "redaction", (
        "redact*", "de-identif*", "deidentif*", "anonymi*", "pseudonymi*", "mask* personal", "mask* pii",
        "remove* personal data", "remove personal", "strip* personal",
    )),
    Term("translate", "translate", "translates text", "translation", (
        "translat*", "into german", "into french", "into spanish", "localis*", "localiz*",
    )),
    Term("act", "act with tools (agents)", "acts by calling tools and APIs", "agent", (
        "ai agent*", "an agent", "agent prompt", "agent that", "agent which", "agentic", "agent-redteam",
        "tool call*", "tools call*", "tools-call", "function call*", "calling tools", "calling our", "call* * apis",
        "tool use", "with tools", "access to tools", "react", "mcp",
    )),
)

RISKS: tuple[Term, ...] = (
    Term("hallucination", "hallucination", "must not make things up", "hallucination", (
        "hallucinat*", "faithful*", "grounded*", "groundedness", "factual*", "unsupported claim*", "made up",
        "making things up", "make things up", "fabricat*", "confabulat*", "invent*", "cite* * source*", "citations",
        "context-faithfulness", "model-graded-closedqa",
    )),
    Term("pii", "personal data", "handles personal data", "personal-data", (
        "pii", "phi", "personal data", "personal information", "personally identifiable", "privacy", "gdpr", "hipaa",
        "redact*", "de-identif*", "anonymi*", "data leak*", "pii leak*", "leak* personal", "leaking", "leak monitor",
        "account numbers", "protected health", "names and addresses", "!memory leak*", "!leak via",
    )),
    Term("latency", "latency", "must answer quickly", "latency", (
        "latenc*", "response time*", "slow", "slo", "real-time", "real time", "p95", "p99", "burn-rate",
        "take more than * seconds", "few seconds",
    )),
    Term("cost", "cost", "must keep model spend in budget", "cost", (
        "cost*", "!cost cent*", "!cost code*", "spend", "spending", "budget*", "finops", "token usage",
        "token spend", "expensive", "cheap*",
    )),
    Term("drift", "drift", "must notice when quality drifts", "drift", (
        "drift*", "getting worse", "degrad*", "over time", "since the * changed",
    )),
    Term("overrides", "people overriding it", "has people reviewing and overriding its output", "human-review", (
        "human-in-the-loop", "human in the loop", "human review", "human sign-off", "sign-off", "override*",
        "acceptance rate", "accept* * suggestions", "still accept", "reviewer*", "to review", "review backlog",
        "backlog", "a person checking", "without a person", "recruiters", "for * to review",
    )),
    Term("safety", "harmful output and jailbreaks", "must resist jailbreaks and harmful requests", "red-team", (
        "jailbreak*", "red team*", "red-team*", "redteam*", "harmful", "toxic*", "prompt injection*",
        "memory-poisoning", "memory poisoning", "guardrail*", "abuse",
    )),
    Term("format", "malformed output", "must return output other systems can load", "output-format", (
        "structured json", "json", "is-json", "structured output", "structured-output", "output schema",
        "schema valid*", "malformed", "valid json", "system can load", "systems can load",
    )),
    Term("errors", "failed model calls", "depends on model calls that can fail", "error-rate", (
        "failed requests", "failed responses", "error rate", "errors rate", "provider outage*", "model outage*",
        "5xx",
    )),
)

# What a pilot reads: the retrieval pipeline is offered only when the task reads a corpus.
INPUTS: tuple[Term, ...] = (
    Term("corpus", "a body of documents", "reads a body of documents", "corpus", (
        "knowledge base*", "handbook*", "manual*", "guidance", "guideline*", "policies", "policy documents",
        "documentation", "wiki*", "intranet", "formulary", "knowledge articles", "support articles", "help articles",
        "corpus", "archive*", "past incidents", "past cases", "years of", "published guidance", "tender documents",
        "planograms", "sanctions lists", "watchlists", "lists", "vendor master", "master data",
    )),
    Term("documents", "documents", "reads documents", "document", (
        "document*", "contract*", "agreement*", "invoice*", "letter*", "pdf*", "scanned", "filings", "reports",
        "forms", "statements", "bills of lading", "transcripts", "spec sheets", "logs",
    )),
    Term("emails", "emails", "reads emails", "email", (
        "email*", "e-mail*", "inbox", "messages",
    )),
    Term("calls", "calls", "reads call transcripts", "call", (
        "call-centre", "call center", "calls", "phone", "voice",
    )),
    Term("tickets", "tickets", "reads tickets", "ticket", (
        "ticket*", "work orders", "requests", "incidents",
    )),
    Term("chat", "chat", "talks with people in a chat", "chat", (
        "chat*", "conversation*", "assistant",
    )),
    Term("images", "images", "reads images", "image", (
        "image*", "photo*", "scan*", "ocr",
    )),
)
# fmt: on

VOCABULARY_DIGEST = hashlib.sha256(
    repr([(t.id, t.signals) for t in (*PATTERNS, *RISKS, *INPUTS)]).encode()
).hexdigest()[:12]  # a change to the vocabulary rebuilds the search index (terms are derived at indexing)


def known_ids(values: list[str], terms: tuple[Term, ...], what: str) -> list[str]:
    """Vocabulary ids as a manifest or a query gives them: lower-cased, each once; an unknown one is a ValueError
    that names the closest known id and lists them all."""
    ids = [t.id for t in terms]
    out: list[str] = []
    for raw in values:
        value = raw.strip().lower()
        if value not in ids:
            close = difflib.get_close_matches(value, ids, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{raw!r} is not a known {what}{hint} Known: {', '.join(ids)}")
        if value not in out:
            out.append(value)
    return out
