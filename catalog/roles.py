"""What an asset serves: the task patterns it is for and the risks it covers, read from its content.

Derived when the asset is indexed, from the latest version, so an improved vocabulary reaches every asset with
the next index build. A team that sets `patterns` or `risks` in its manifest is taken at its word for that list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.vocabulary import PATTERNS, RISKS, Term, matches, normalized

__all__ = ["Roles", "asset_roles", "plain_text", "row_roles", "searchable_text"]

# How much a signal counts by where it occurs. A term needs THRESHOLD in all, STRONG of it from what says what
# the asset is (title, tags, summary, the spec's defining parts): one mention in the title or the tags is
# enough; mentions in the description alone are not (descriptions name inputs and neighbours: "use with the
# faithfulness eval", "redacted claim files").
WEIGHTS = {"title": 3, "tags": 3, "summary": 2, "spec": 2, "dataset": 1, "description": 1}
STRONG_FIELDS = ("title", "tags", "summary", "spec")
THRESHOLD = 3
STRONG = 2
DOMINANCE = 0.3
SHORT_PROMPT = 400  # characters
READ_CHARS = 20_000  # of each field: what an asset is for is said early; this bounds the work on a huge prompt
# Operations risks count for monitors only when they watch a model: a Redis or Kubernetes latency alert is not
# an AI pilot's latency monitor.
OPS_RISKS = {"latency", "cost", "errors"}
_AI = re.compile(
    r"(?<!\w)(llms?|models?|gpt\w*|genai|ai|inference|tokens?|prompts?|litellm|openai|anthropic|embeddings?|"
    r"chatbots?|assistants?|generat\w*|judge)(?!\w)"
)
_PLACEHOLDERS = (("{{", "}}"), ("{%", "%}"), ("{#", "#}"))  # template placeholders ({{ $labels.instance }})
_ANNOTATION_KEY = re.compile(r"\*\*[\w ]{1,40}\*\*:")  # annotation keys of imported files (**summary**:)
_NOISE = (
    re.compile(r"```.*?(?:```|$)", re.S),  # code blocks: templates, PromQL, jinja shown as examples
    re.compile(r"`[^`\n]*`"),  # inline code: class paths, alert and file names
    re.compile(r"https?://\S+"),
)


def _without(text: str, opener: str, closer: str) -> str:
    """The text with every `opener ... closer` span blanked, in one pass (an unclosed opener keeps the rest:
    a lazy regular expression would rescan to the end from every one of 49,000 unclosed `{{`)."""
    kept: list[str] = []
    at = 0
    while (start := text.find(opener, at)) != -1 and (end := text.find(closer, start + len(opener))) != -1:
        kept += [text[at:start], " "]
        at = end + len(closer)
    kept.append(text[at:])
    return "".join(kept)


def searchable_text(text: str) -> str:
    """Text without template placeholders and annotation keys, which are no words of its subject: an alert's
    `**summary**:` or `{{ $labels.instance }}` must not make it a match for "summary" or "instance"."""
    for opener, closer in _PLACEHOLDERS:
        text = _without(text, opener, closer)
    return _ANNOTATION_KEY.sub(" ", text)


def plain_text(text: str) -> str:
    """Prose without what imported files carry besides it: code, placeholders, annotation keys, links.

    Those are not words of the asset's subject: `**summary**:` in an alert is no summarization asset."""
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    return searchable_text(text)


@dataclass(frozen=True)
class Roles:
    patterns: list[str]
    risks: list[str]


def _dataset_text(kind: str, spec: dict[str, Any]) -> str:
    dataset = spec.get("dataset") if kind == "eval_harness" else None
    return plain_text(str(dataset.get("description") or "")).lower() if isinstance(dataset, dict) else ""


def _spec_text(kind: str, spec: dict[str, Any]) -> str:
    """The parts of a spec that say what the asset is for (not its plumbing)."""
    parts: list[str] = []
    if kind == "prompt":
        parts.append(str(spec.get("template") or ""))
        parts += [str(m.get("content", "")) for m in spec.get("messages") or [] if isinstance(m, dict)]
        parts += [str(v) for v in spec.get("variables") or []]
        if spec.get("output_schema"):
            parts.append("output schema")
    elif kind == "eval_harness":
        parts += [str(m.get("name", "")) for m in spec.get("metrics") or [] if isinstance(m, dict)]
    elif kind == "retrieval_pipeline":
        parts += [str(c.get("type", "")) for c in spec.get("components") or [] if isinstance(c, dict)]
        if spec.get("reranker"):
            parts.append("reranker")
    elif kind == "monitor":
        parts.append(str(spec.get("signal") or ""))
    return plain_text("\n".join(parts)[: READ_CHARS * 2]).lower()


def _pipeline_patterns(spec: dict[str, Any]) -> list[str]:
    """A pipeline's task from its components: a retriever finds documents; with a generator it answers."""
    types = " ".join(str(c.get("type", "")) for c in spec.get("components") or [] if isinstance(c, dict)).lower()
    if "retriever" not in types and not spec.get("retriever"):
        return []
    return ["answer", "search"] if "generator" in types or "llm" in types else ["search"]


def _found(terms: Iterable[Term], fields: dict[str, str], weights: dict[str, int]) -> list[str]:
    """The terms whose signals count enough, enough of it in the fields that say what the asset is, and at least
    DOMINANCE of the strongest term's: an extraction prompt that "drafts records" is no drafting prompt."""
    found: dict[str, int] = {}
    for term in terms:
        scores = {f: weights[f] * min(matches(term, text), 2) for f, text in fields.items() if text}
        if sum(scores.values()) >= THRESHOLD and sum(scores.get(f, 0) for f in STRONG_FIELDS) >= STRONG:
            found[term.id] = sum(scores.values())
    top = max(found.values(), default=0)
    return [term for term, score in found.items() if score >= DOMINANCE * top]


def asset_roles(
    kind: str,
    *,
    title: str,
    summary: str,
    description: str,
    tags: list[str],
    spec: dict[str, Any],
    declared: Mapping[str, Any] | None = None,
) -> Roles:
    """The asset's patterns and risks: what its team declared, else what its content says, in vocabulary order."""
    fields = {
        "title": normalized(plain_text(title)),
        "tags": normalized(" ; ".join(tags)),
        "summary": normalized(plain_text(summary)),
        "spec": normalized(_spec_text(kind, spec)[:READ_CHARS]),
        "dataset": normalized(_dataset_text(kind, spec)[:READ_CHARS]),
        "description": normalized(plain_text(description[: READ_CHARS * 2])[:READ_CHARS]),
    }
    # A short prompt is its instruction: each word says what it does. In a long one a word may be incidental.
    weights = {**WEIGHTS, "spec": 3} if kind == "prompt" and len(fields["spec"]) < SHORT_PROMPT else WEIGHTS
    patterns = _found(PATTERNS, fields, weights)
    if kind == "retrieval_pipeline":
        patterns = sorted(set(patterns) | set(_pipeline_patterns(spec)), key=[t.id for t in PATTERNS].index)
    elif kind == "monitor":  # a monitor watches a risk or a quality signal; what it reads is not its task
        patterns = [p for p in patterns if p == "answer"]
    risks = _found(RISKS, fields, weights)
    if kind == "monitor" and not _AI.search(" ".join(fields.values())):
        risks = [r for r in risks if r not in OPS_RISKS]
    declared = declared or {}
    chosen_patterns, chosen_risks = declared.get("patterns"), declared.get("risks")
    return Roles(
        patterns=list(chosen_patterns) if chosen_patterns is not None else patterns,
        risks=list(chosen_risks) if chosen_risks is not None else risks,
    )


def row_roles(asset: Mapping[str, Any], manifest: Mapping[str, Any]) -> Roles:
    """The roles of an asset row (kind, title, summary, description, tags) with its latest version's manifest:
    what the index and the asset read both show."""
    return asset_roles(
        asset["kind"], title=asset["title"], summary=asset["summary"], description=asset["description"],
        tags=list(asset["tags"] or []), spec=manifest.get("spec") or {}, declared=manifest,
    )  # fmt: skip
