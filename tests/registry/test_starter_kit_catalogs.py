"""The starter kit over HTTP on catalogs a test builds: declared patterns and risks, and the seed with the
imported public corpora; SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar.testing import TestClient

from bench.kit_catalog import load_kit_catalog
from registry.app import create_app
from tests.conftest import Api, Database, settings_for
from tests.factories import manifest
from tests.helpers import assert_problem, graduate, wait_until
from tests.registry.test_starter_kit import CONTRACTS, HR, kit, picks


def test_declared_patterns_win_and_are_filters_and_facets(api: Api) -> None:
    graduate(api)
    body = manifest(title="Claims letter translator", summary="Turns claim letters into plain English for customers.",
                    patterns=["translate"], risks=["hallucination"])  # fmt: skip
    assert api.client.post("/api/v1/assets", json=body, headers=api.auth("claims")).status_code == 201
    found = wait_until(lambda: api.client.get("/api/v1/search", params={"pattern": "translate"}).json()["hits"])
    assert [h["slug"] for h in found] == ["claims-triage-prompt"]
    assert found[0]["patterns"] == ["translate"] and found[0]["risks"] == ["hallucination"]
    facets = api.client.get("/api/v1/search").json()["facets"]
    assert facets["patterns"] == {"translate": 1} and facets["risks"] == {"hallucination": 1}
    asset = api.client.get("/api/v1/assets/claims-triage-prompt").json()
    assert (asset["patterns"], asset["risks"]) == (["translate"], ["hallucination"])
    assert picks(kit(api.client, "Translate customer letters into Spanish"))["prompt"] == ["claims-triage-prompt"]
    wrong = manifest(slug="other-prompt", patterns=["translat"], risks=["PII", "gremlins"])
    problem = assert_problem(api.client.post("/api/v1/assets", json=wrong, headers=api.auth("claims")), 422)
    details = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert "did you mean 'translate'?" in details["/patterns"]
    assert "'gremlins' is not a known risk" in details["/risks"]
    assert api.client.get("/api/v1/assets/other-prompt").status_code == 404


def test_with_the_public_corpora_an_hr_question_gets_policy_qa_not_a_maths_eval(db: Database, tmp_path: Path) -> None:
    assert asyncio.run(load_kit_catalog()) == []  # every corpus file is published
    with TestClient(app=create_app(settings_for(db, tmp_path), start_tasks=False)) as client:
        assert wait_until(lambda: client.get("/api/v1/search").json()["total"] >= 180, seconds=60)
        chosen = picks(kit(client, HR))
        assert "kb-article-retrieval" in chosen["retrieval_pipeline"]
        assert "rag-answer-quality-eval" in chosen["eval_harness"]
        everything = {slug for slugs in chosen.values() for slug in slugs}
        assert not everything & {"gsm8k", "arc-easy", "hellaswag", "mmlu", "triviaqa"}
        contracts = picks(kit(client, CONTRACTS))
        assert "promptfoo-promptfoo-examples-summarization-promptfooconfig" in contracts["eval_harness"]
        assert not {s for s in contracts["monitor"] if s.startswith(("litellm", "redis", "kubernetes"))}
