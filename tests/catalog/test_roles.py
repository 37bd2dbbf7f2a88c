"""Every seed asset and every corpus import gets the task patterns and risks its content says, and nothing from
placeholders, annotation keys or infrastructure alerts; what a manifest declares wins."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from catalog.manifests import load_manifest
from catalog.native.importing import ImportOptions, import_paths
from catalog.roles import asset_roles, plain_text, searchable_text
from registry.settings import SEED_DIR

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
# slug: (patterns, risks) for every asset that has any; every other asset has none.
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "adverse-media-summary-prompt": (["summarize", "screen"], ["hallucination"]),
    "claims-document-retrieval": (["search"], []),
    "claims-faithfulness-eval": (["answer"], ["hallucination"]),
    "claims-summary-prompt": (["summarize"], ["hallucination"]),
    "claims-triage-prompt": (["classify"], ["format"]),
    "clinical-guidelines-rag-pipeline": (["classify", "answer", "search"], []),
    "coding-drift-monitor": ([], ["drift", "overrides"]),
    "hallucination-rate-monitor": (["answer"], ["hallucination"]),
    "icd10-code-suggestion-prompt": (["classify"], ["hallucination", "format"]),
    "icd10-coding-accuracy-eval": (["classify"], []),
    "kb-article-retrieval": (["answer", "search"], ["hallucination"]),
    "kyc-entity-extraction-prompt": (["extract"], ["format"]),
    "kyc-extraction-accuracy-eval": (["extract"], []),
    "kyc-review-backlog-monitor": ([], ["overrides"]),
    "llm-cost-budget-monitor": ([], ["cost"]),
    "llm-latency-slo-monitor": ([], ["latency"]),
    "phi-redaction-prompt": (["redact"], ["pii"]),
    "pii-leak-monitor": ([], ["pii"]),
    "rag-answer-quality-eval": (["answer"], ["hallucination"]),
    "rag-groundedness-eval": (["answer"], ["hallucination"]),
    "resolution-accuracy-eval": (["answer"], []),
    "sanctions-list-hybrid-retrieval": (["search", "screen"], []),
    "ticket-deflection-rate-monitor": (["answer"], []),
    "ticket-routing-prompt": (["classify"], ["format"]),
    "deepset-ai-hayhooks-tests-test-files-mixed-basic-rag-pipeline": (["answer", "search"], []),
    "deepset-ai-hayhooks-tests-test-files-yaml-working-pipelines": (["search"], []),
    "deepset-ai-hayhooks-tests-test-files-yaml-working-pipelines-st": (["search"], []),
    "deepset-ai-haystack-experimental-examples-tracing-pipeline-runs": (["answer", "search"], []),
    "litellm-provider-spend-over-budget": ([], ["cost"]),
    "litellm-proxy-failed-requests-rate-high": ([], ["errors"]),
    "litellm-request-latency-p95-high": ([], ["latency"]),
    "deepset-question-answering-with-references": (["answer"], []),
    "deepset-sentiment-analysis": (["classify"], []),
    "deepset-summarization-chain-of-density": (["summarize"], ["format"]),
    "deepset-zero-shot-react": (["answer", "act"], []),
    "adaline-gateway-model-grading-example": ([], ["hallucination"]),
    "claude-3-5-vs-gpt-4o": ([], ["latency", "cost"]),
    "json-object-evals": ([], ["format"]),
    "promptfoo-promptfoo-examples-openai-tools-call-promptfooconfig": (["act"], ["format"]),
    "promptfoo-promptfoo-examples-rag-eval-promptfooconfig": (["answer"], ["hallucination"]),
    "agent-redteam": (["act"], ["safety"]),
    "red-team-starter": ([], ["safety"]),
    "a-translator-built-with-llm": (["translate"], []),
    "promptfoo-promptfoo-examples-summarization-promptfooconfig": (["summarize"], []),
    "qna-groundedness-evaluation": (["answer"], ["hallucination"]),
    "quick-prompt": (["summarize"], []),
    "mcp-tools": (["act"], []),
    "basic-prompt": (["answer"], []),
    "structured-output": (["extract"], ["format"]),
    "function-tools": (["act"], []),
    "openai-agent": (["act"], []),
    "llama-ask-you-to-think-about-it": (["answer"], []),
}


def _catalog() -> dict[str, dict[str, Any]]:
    manifests = {}
    for path in sorted((SEED_DIR / "assets").glob("*/asset.yaml")):
        manifest = load_manifest(path)
        manifests[manifest["slug"]] = manifest
    options = ImportOptions(owner="oss", pilot="open-source-examples", allow_missing_includes=True)
    for folder in sorted(p for p in CORPORA.iterdir() if p.is_dir() and p.name != "folders"):
        for item in import_paths([folder], options).imported:
            manifests[item.manifest["slug"]] = item.manifest
    return manifests


def _roles(m: dict[str, Any]) -> tuple[list[str], list[str]]:
    roles = asset_roles(m["kind"], title=m["title"], summary=m["summary"], description=m.get("description", ""),
                        tags=m.get("tags", []), spec=m.get("spec", {}), declared=m)  # fmt: skip
    return roles.patterns, roles.risks


def test_every_seed_and_corpus_asset_gets_the_patterns_and_risks_its_content_says() -> None:
    catalog = _catalog()
    assert len(catalog) == 187  # 24 seed assets, 163 imported from the flat corpus folders
    found = {slug: _roles(m) for slug, m in catalog.items() if any(_roles(m))}
    assert found == EXPECTED
    # The infrastructure alerts (Redis, Kubernetes, containers, ...) watch no AI pilot's risk: only LiteLLM's do.
    monitors = [s for s, m in catalog.items() if m["kind"] == "monitor" and m["owner"] == "oss"]
    litellm = [
        "litellm-provider-spend-over-budget",
        "litellm-proxy-failed-requests-rate-high",
        "litellm-request-latency-p95-high",
    ]
    assert sorted(s for s in monitors if s in found) == litellm


def test_placeholders_and_annotation_keys_are_not_words_of_the_asset() -> None:
    alert = "**summary**: Redis down (instance {{ $labels.instance }})\n\n**description**: Redis instance is down"
    assert "summary" not in searchable_text(alert) and "instance }}" not in searchable_text(alert)
    assert "Redis down" in searchable_text(alert)
    eval_description = "Dataset: gsm8k.\n\n```jinja\nQuestion: {{question}}\nAnswer:\n```\n`doc_to_text` is used."
    assert "Question" not in plain_text(eval_description) and "doc_to_text" not in plain_text(eval_description)
    roles = asset_roles("monitor", title="Redis down", summary="Redis instance is down", description=alert,
                        tags=["prometheus"], spec={"signal": "redis_up"})  # fmt: skip
    assert (roles.patterns, roles.risks) == ([], [])
    # A latency alert on infrastructure is not a model's latency monitor; on an LLM endpoint it is.
    infra = asset_roles("monitor", title="Kubernetes API server latency", summary="99th percentile latency",
                        description="", tags=[], spec={"signal": "apiserver_request_duration_seconds"})  # fmt: skip
    llm = asset_roles("monitor", title="LLM latency SLO", summary="p95 latency of the LLM endpoint",
                      description="", tags=[], spec={"signal": "llm_request_seconds"})  # fmt: skip
    assert (infra.risks, llm.risks) == ([], ["latency"])


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"patterns": ["classify"], "risks": None}, (["classify"], ["hallucination"])),  # declared patterns win
        ({"patterns": None, "risks": []}, (["summarize"], [])),  # an empty list declared means none
        ({}, (["summarize"], ["hallucination"])),  # nothing declared: read from the content
    ],
)
def test_what_a_team_declares_wins(declared: dict[str, Any], expected: tuple[list[str], list[str]]) -> None:
    roles = asset_roles("prompt", title="Claim summary prompt", summary="Summarises a claim file, citing sources.",
                        description="Every fact cites its document.", tags=["summarization", "faithfulness"],
                        spec={"template": "Summarise {{claim}}"}, declared=declared)  # fmt: skip
    assert (roles.patterns, roles.risks) == expected


@pytest.mark.parametrize(
    "hostile",
    ["{{" * 49_000, "{%" * 49_000, "write " + "-" * 20_000, "answer " + " " * 20_000 + "x", "**" * 50_000],
)
def test_reading_hostile_text_is_linear(hostile: str) -> None:
    """Unclosed placeholders and long separator runs once took minutes (a lazy pattern rescanning to the end from
    every `{{`, a signal backtracking over spaces); the bound is generous, the real time is a tenth of a second."""
    start = time.perf_counter()
    asset_roles("prompt", title="t", summary="s", description=hostile, tags=[], spec={"template": hostile})
    assert time.perf_counter() - start < 2
