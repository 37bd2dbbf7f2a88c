"""A generated catalog for benchmarks and relevance checks: realistic assets from other business domains.

Deterministic for a given seed. The vocabulary deliberately avoids the seed catalog's central topics
(claims, KYC, clinical coding, IT support), so generated assets act as distractors that share generic
words (prompt, eval, monitor, pipeline, summary) without being answers to the judged queries.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from catalog.schemas import AssetDocument

__all__ = ["generated_documents"]

DOMAINS = [
    ("retail", ["product descriptions", "basket analysis", "store returns", "loyalty offers"]),
    ("logistics", ["shipment exceptions", "delivery notes", "route plans", "customs forms"]),
    ("marketing", ["campaign briefs", "ad copy", "audience segments", "brand guidelines"]),
    ("procurement", ["supplier invoices", "purchase orders", "tender documents", "spend categories"]),
    ("legal", ["contract clauses", "court filings", "privacy notices", "legal memos"]),
    ("energy", ["meter readings", "outage reports", "tariff letters", "grid maintenance logs"]),
    ("telecom", ["network tickets", "roaming disputes", "call transcripts", "plan changes"]),
    ("manufacturing", ["quality inspections", "work instructions", "machine logs", "safety incidents"]),
    ("travel", ["booking changes", "itineraries", "visa letters", "hotel reviews"]),
    ("education", ["course outlines", "student essays", "exam questions", "lesson plans"]),
    ("public-sector", ["benefit applications", "council minutes", "planning permits", "citizen letters"]),
    ("finance-ops", ["expense reports", "bank statements", "payment remittances", "ledger entries"]),
]
TASKS = {
    "prompt": ["extraction", "classification", "summary", "rewrite", "translation", "tagging", "question answering"],
    "eval_harness": ["regression suite", "quality eval", "consistency check", "toxicity eval", "format check"],
    "retrieval_pipeline": ["semantic index", "vector store pipeline", "document index", "passage search"],
    "monitor": ["volume monitor", "error rate monitor", "queue depth monitor", "token usage monitor"],
}
FRAMEWORKS = ["haystack", "llamaindex", "langchain", "custom"]
TEAMS = [f"{d}-ai" for d, _ in DOMAINS]


def _spec(kind: str, rng: random.Random, subject: str) -> dict[str, object]:
    if kind == "prompt":
        return {
            "template": f"Read the {subject} below and return the requested fields as JSON.\n\n{{{{document}}}}",
            "variables": ["document"],
        }
    if kind == "eval_harness":
        return {
            "metrics": [
                {"name": rng.choice(["exact_match", "rouge_l", "bleu", "format_valid_rate"]), "threshold": 0.8}
            ],
            "dataset": {"uri": f"s3://evals/{subject.replace(' ', '-')}.jsonl"},
            "runner": {"type": "python", "entry": "run.py"},
        }
    if kind == "retrieval_pipeline":
        return {
            "framework": rng.choice(FRAMEWORKS),
            "components": [{"name": "embedder", "type": "TextEmbedder"}, {"name": "store", "type": "VectorStore"}],
        }
    signal = f"rate({subject.replace(' ', '_')}_total[5m])"
    return {"signal": signal, "condition": {"op": ">", "threshold": 100, "window": "5m"}, "severity": "warning"}


def generated_documents(count: int, *, seed: int = 7) -> Iterator[AssetDocument]:
    """`count` assets of all four kinds across twelve business domains."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    kinds = list(TASKS)
    for i in range(count):
        domain, subjects = DOMAINS[i % len(DOMAINS)]
        kind = kinds[(i // len(DOMAINS)) % len(kinds)]
        subject = rng.choice(subjects)
        task = rng.choice(TASKS[kind])
        title = f"{subject.capitalize()} {task} ({domain}, v{i})"
        yield AssetDocument(
            slug=f"gen-{domain}-{kind.replace('_', '-')}-{i}",
            kind=kind,
            title=title,
            summary=f"A {task} for {subject} in {domain}, built by the {domain} team's pilot number {i % 97}.",
            description=f"Handles {subject} for the {domain} business. Tuned on {rng.randint(200, 5000)} examples; "
            f"see the runbook for limits. Variant {i}.",
            tags=[domain, task.split()[0], subject.split()[0]],
            owner=TEAMS[i % len(TEAMS)],
            origin_pilot=f"{domain}-pilot-{i % 50}",
            origin_pilot_name=f"{domain.capitalize()} pilot {i % 50}",
            lifecycle="deprecated" if i % 17 == 0 else "active",
            successor=None,
            latest_version=f"1.{i % 7}.0",
            spec=_spec(kind, rng, subject),
            reuse_count=rng.choice([0, 0, 0, 1, 1, 2, 3, 5, 8]),
            published_at=start + timedelta(hours=i % 8000),
        )
