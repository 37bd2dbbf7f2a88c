"""From an asset to what the index holds: the searchable text of each field, the filters and the ranking signals."""

from __future__ import annotations

from typing import Any

from catalog.roles import searchable_text
from catalog.schemas import AssetDocument
from catalog.vocabulary import PATTERNS, RISKS, VOCABULARY_DIGEST

__all__ = ["DOCUMENT_FORMAT", "index_fields", "roles_text", "spec_text"]

# What an index document holds. An index built with another format is rebuilt at start (index_problem): new
# fields, or patterns and risks derived by another version of the vocabulary.
DOCUMENT_FORMAT = f"2:{VOCABULARY_DIGEST}"
_WORDS = {t.id: f"{t.id} {t.noun} {t.label}" for t in (*PATTERNS, *RISKS)}


def roles_text(patterns: list[str], risks: list[str]) -> str:
    """The searchable words of an asset's patterns and risks."""
    return " ".join(_WORDS.get(term, term) for term in [*patterns, *risks])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def spec_text(kind: str, spec: dict[str, Any]) -> str:
    """The words of a spec worth finding: prompt text, metric names, component types, the monitor signal."""
    parts: list[str] = []
    if kind == "prompt":
        parts.append(spec.get("template") or "")
        parts += [m.get("content", "") for m in spec.get("messages") or []]
        parts += spec.get("variables") or []
        model = spec.get("model") or {}
        parts += [model.get("provider", ""), model.get("name", "")]
    elif kind == "eval_harness":
        parts += [m.get("name", "") for m in spec.get("metrics") or []]
        dataset = spec.get("dataset") or {}
        parts += [dataset.get("description", ""), *(spec.get("targets") or [])]
        parts.append((spec.get("runner") or {}).get("type", ""))
    elif kind == "retrieval_pipeline":
        parts.append(spec.get("framework", ""))
        parts += [f"{c.get('name', '')} {c.get('type', '')}" for c in spec.get("components") or []]
        parts += [(spec.get("embedder") or {}).get("model", ""), (spec.get("reranker") or {}).get("model", "")]
        parts += list((spec.get("results") or {}).keys())
    elif kind == "monitor":
        parts += [spec.get("signal", ""), spec.get("severity", ""), spec.get("format", "")]
    else:
        parts += _strings(spec)
    return searchable_text("\n".join(p for p in parts if isinstance(p, str) and p))


def index_fields(doc: AssetDocument) -> dict[str, Any]:
    """The flat record both backends index: text to search, keywords to filter and facet, numbers to rank."""
    return {
        "slug": doc.slug,
        "kind": doc.kind,
        "title": doc.title,
        "summary": doc.summary,
        "description": searchable_text(doc.description),
        "tags": doc.tags,
        "patterns": doc.patterns,
        "risks": doc.risks,
        "roles_text": roles_text(doc.patterns, doc.risks),
        "owner": doc.owner,
        "origin_pilot": doc.origin_pilot,
        "origin_pilot_name": doc.origin_pilot_name,
        "origin_pilot_problem": doc.origin_pilot_problem,
        "lifecycle": doc.lifecycle,
        "successor": doc.successor,
        "latest_version": doc.latest_version,
        "spec_text": spec_text(doc.kind, doc.spec),
        "reuse_count": doc.reuse_count,
        "published_at": int(doc.published_at.timestamp()),
    }
