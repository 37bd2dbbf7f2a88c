"""Why the starter kit picked an asset, as a person would say it: its role for the new pilot's task, where it
comes from, what proves it. Never "matches summary in its description"."""

from __future__ import annotations

from typing import Any

from catalog.schemas import AssetDocument
from catalog.vocabulary import PATTERNS, RISKS, Term
from search.interfaces import SearchHit

__all__ = ["reasons"]

_TERMS: dict[str, Term] = {t.id: t for t in (*PATTERNS, *RISKS)}
_KIND = {"eval_harness": "eval", "prompt": "prompt", "retrieval_pipeline": "pipeline", "monitor": "monitor"}


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _metrics(spec: dict[str, Any]) -> str:
    names = [str(m.get("name", "")) for m in spec.get("metrics") or [] if isinstance(m, dict)]
    names = [n.replace("_", " ") for n in names if n and n != "pass_rate"]
    return ", ".join(names[:3])


def _detail(kind: str, spec: dict[str, Any]) -> str:
    """What the asset is made of, in a few words: an eval's metrics, a pipeline's parts, a monitor's signal."""
    if kind == "eval_harness":
        return _metrics(spec)
    if kind == "prompt":
        return "returns JSON to a schema" if spec.get("output_schema") else ""
    if kind == "retrieval_pipeline":
        parts = [str(spec.get("framework") or "")]
        types = " ".join(str(c.get("type", "")) for c in spec.get("components") or [] if isinstance(c, dict)).lower()
        parts += [name for name, marker in (("hybrid", "bm25"), ("reranker", "ranker")) if marker in types]
        return ", ".join(p for p in parts if p)
    if kind == "monitor":
        signal = str(spec.get("signal") or "")
        return signal if len(signal) <= 60 else signal[:57] + "..."
    return ""


def reasons(hit: SearchHit, document: AssetDocument | None, serves: list[str], covers: list[str]) -> list[str]:
    """The role first ("an extraction eval (field f1) from kyc-document-review: your pilot extracts fields from
    documents"), then each risk it covers, then its proof."""
    kind = _KIND.get(hit.kind, hit.kind)
    detail = _detail(hit.kind, document.spec) if document is not None else ""
    detail = f" ({detail})" if detail else ""
    out = []
    if hit.kind == "monitor" and covers:  # a monitor is there for a risk; the task it watches comes second
        serves = []
    if serves:
        term = _TERMS[serves[0]]
        out.append(f"{_a(term.noun)} {kind}{detail} from {hit.origin_pilot}: your pilot {term.does}")
        detail = ""
    for risk in covers:
        term = _TERMS[risk]
        if not out:
            out.append(f"{_a(term.noun)} {kind}{detail} from {hit.origin_pilot}: your pilot {term.does}")
        else:
            out.append(f"covers {term.label}: your pilot {term.does}")
    if hit.reuse_count:
        out.append(f"already reused by {hit.reuse_count} other pilot{'s' if hit.reuse_count != 1 else ''}")
    out.append(f"proven in production by the graduated pilot {hit.origin_pilot}")
    return out
