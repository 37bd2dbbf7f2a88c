"""Small builders of valid requests; tests override only what they are about."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from catalog.schemas import SYSTEM, Actor, GateRequest, PilotRequest, parse_manifest
from catalog.services import pilots, publishing

EVIDENCE: dict[int, dict[str, Any]] = {
    1: {},
    2: {
        "metric": "minutes per claim",
        "before": 42,
        "after": 18,
        "workflow": "Triage of motor claims by the Leeds team",
    },
    3: {
        "slo": "p95 latency under 3 seconds and 99.5% availability during business hours",
        "data_lineage": "Claims text flows from the claims DB through the redaction service into the model",
        "incident_response": "On-call rota of the claims platform team with a runbook in the wiki",
        "cost_controls": "Monthly token budget of 2,000 USD with alerts at 80 percent of spend",
        "rollback_plan": "Feature flag routes traffic back to the manual queue within five minutes",
    },
    4: {"active_users": 85, "usage_frequency": "daily", "metric_value": 17.5},
}


def pilot_request(slug: str = "claims-triage-assistant", team: str = "claims-ai", **overrides: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "team": team,
        "budget_owner": "Head of Claims Operations",
        "problem": "Claims handlers spend too long routing incoming claims to the right queue.",
        "baseline": {"metric": "minutes per claim", "value": 42, "unit": "minutes"},
        "target": {"metric": "minutes per claim", "value": 20, "unit": "minutes"},
        "value_per_month": {"amount": 320, "unit": "hours"},
    }
    body.update(overrides)
    return body


def gate(stage: int, decision: str = "commit", **overrides: Any) -> dict[str, Any]:
    body = {
        "stage": stage,
        "decision": decision,
        "decided_by": "AI steering board",
        "notes": "Reviewed at the monthly board.",
        "evidence": copy.deepcopy(EVIDENCE[stage]),
    }
    body.update(overrides)
    return body


async def graduated_pilot(
    slug: str = "claims-triage-assistant", team: str = "claims-ai", actor: Actor = SYSTEM, **overrides: Any
) -> None:
    """A pilot taken through gates 1 to 4 with their evidence."""
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request(slug, team, **overrides)), actor)
    for stage in range(1, 5):
        await pilots.decide_gate(slug, GateRequest.model_validate(gate(stage)), actor)


SPECS: dict[str, dict[str, Any]] = {
    "prompt": {
        "template": "Classify the claim below into one of {{categories}}.\n\nClaim:\n{{claim_text}}",
        "variables": ["categories", "claim_text"],
        "model": {"provider": "openai", "name": "gpt-4o-mini", "parameters": {"temperature": 0}},
    },
    "eval_harness": {
        "metrics": [
            {"name": "faithfulness", "threshold": 0.85},
            {"name": "hallucination_rate", "threshold": 0.05, "higher_is_better": False},
        ],
        "dataset": {"uri": "s3://evals/claims/golden-v3.jsonl", "rows": 420, "description": "Golden claims"},
        "targets": ["prompt"],
        "runner": {"type": "promptfoo", "entry": "promptfooconfig.yaml"},
        "baseline_results": {"faithfulness": 0.91},
    },
    "retrieval_pipeline": {
        "framework": "haystack",
        "components": [
            {"name": "embedder", "type": "SentenceTransformersTextEmbedder", "params": {"model": "bge-small-en"}},
            {"name": "retriever", "type": "InMemoryEmbeddingRetriever", "params": {"top_k": 8}},
        ],
        "chunking": {"size": 512, "overlap": 64},
        "embedder": {"model": "BAAI/bge-small-en-v1.5", "dimensions": 384},
        "retriever": {"k": 8, "hybrid_weights": {"bm25": 0.3, "dense": 0.7}},
        "results": {"recall@8": 0.92},
    },
    "monitor": {
        "signal": "llm_hallucination_rate",
        "condition": {"op": ">", "threshold": 0.05, "window": "1h"},
        "severity": "warning",
        "runbook_url": "https://wiki.example.com/runbooks/hallucination",
        "format": "prometheus",
    },
}


def manifest(
    kind: str = "prompt",
    slug: str = "claims-triage-prompt",
    version: str = "1.0.0",
    *,
    owner: str = "claims-ai",
    origin_pilot: str = "claims-triage-assistant",
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "slug": slug,
        "version": version,
        "title": f"{slug.replace('-', ' ').capitalize()}",
        "summary": "A reusable asset from the claims triage pilot.",
        "description": "Use it when routing incoming claims.",
        "tags": ["claims", "triage"],
        "owner": owner,
        "origin_pilot": origin_pilot,
        "source": {"repo": "https://git.example.com/claims/triage", "commit": "9f1c2e4", "path": "assets"},
        "spec": copy.deepcopy(SPECS.get(kind, {})),
    }
    body.update(overrides)
    return body


CLAIMS = Actor(name="ci", team="claims-ai", scopes=frozenset({"publish", "adopt"}))


FRAUD = Actor(name="ci", team="fraud-ai", scopes=frozenset({"publish", "adopt", "pilots"}))


async def catalog_with_two_versions() -> None:
    await graduated_pilot()
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request("fraud-screening", "fraud-ai")), SYSTEM)
    for version in ("1.0.0", "1.1.0"):
        await publishing.publish_version(parse_manifest(manifest(version=version)), CLAIMS)


CONFIG = """description: Summaries stay faithful
prompts:
  - file://prompts/summarize.txt
providers: [openai:gpt-4o-mini]
tests:
  - vars:
      article: file://articles/*
      notes: file://../outside.txt
    assert:
      - type: llm-rubric
        value: stays faithful to the article
"""


TASK = """task: claims_qa
dataset_path: acme/claims-qa
include: _default_template.yaml
test_split: test
output_type: generate_until
doc_to_text: "{{question}}"
metric_list:
  - metric: exact_match
"""


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


async def pilot_on(slug: str, created: str, **overrides: Any) -> None:
    body = pilot_request(slug, "claims-ai", created_at=at(created).isoformat(), **overrides)
    await pilots.create_pilot(PilotRequest.model_validate(body), SYSTEM)


async def gate_on(slug: str, stage: int, decision: str, day: str, **evidence: Any) -> None:
    body = gate(stage, decision, decided_at=at(day).isoformat(), notes="Decided at the board after review.")
    if evidence:
        body["evidence"] = {**body["evidence"], **evidence}
    await pilots.decide_gate(slug, GateRequest.model_validate(body), SYSTEM)


async def portfolio_scenario() -> None:
    """alpha stalled at gate 2, bravo circling, charlie killed, delta graduated with nothing extracted, echo new."""
    await pilot_on("alpha", "2026-01-01", value_per_month={"amount": 1000, "unit": "hours"})
    await gate_on("alpha", 1, "commit", "2026-01-21")
    five, fifteen = {"metric": "m", "value": 5, "unit": "u"}, {"metric": "m", "value": 15, "unit": "u"}
    await pilot_on("bravo", "2026-02-01", value_per_month={"amount": 600, "unit": "usd"}, baseline=five, target=fifteen)
    await gate_on("bravo", 1, "commit", "2026-02-11")
    for day in ("2026-03-01", "2026-03-15", "2026-04-01"):
        await gate_on("bravo", 2, "iterate", day)
    await pilot_on("charlie", "2026-01-10")
    await gate_on("charlie", 1, "commit", "2026-01-20")
    await gate_on("charlie", 2, "kill", "2026-02-19")
    await pilot_on("delta", "2025-10-01", baseline={"metric": "m", "value": 20, "unit": "u"},
                 target={"metric": "m", "value": 10, "unit": "u"})  # fmt: skip
    await gate_on("delta", 1, "commit", "2025-10-21")
    await gate_on("delta", 2, "commit", "2025-12-20", after=14)
    await gate_on("delta", 3, "commit", "2026-01-19")
    await gate_on("delta", 4, "commit", "2026-02-18", metric_value=11)
    await pilot_on("echo", "2026-05-20")
