"""The starter kit over HTTP on the seed catalog (and the imported corpora), SQLite and PostgreSQL alike: picks by
task and risk, reasons by role, no padding, corrections, feedback and the demand report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from catalog.db import use_engine
from catalog.schemas import KINDS
from catalog.seeding import seed_catalog
from catalog.tables import SearchLog
from registry.app import create_app
from registry.settings import SEED_DIR
from tests.conftest import BACKENDS, Api, Database, _database, _empty, make_tokens, settings_for
from tests.helpers import assert_problem, wait_until

CONTRACTS = "Summarize supplier contracts and flag risky clauses for procurement"
HR = "Triage HR policy questions from the employee handbook and answer the simple ones"


def kit(client: TestClient, problem: str, **params: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    response = client.get("/api/v1/starter-kit", params={"problem": problem, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def picks(body: dict[str, Any]) -> dict[str, list[str]]:
    return {s["kind"]: [a["slug"] for a in s["assets"]] for s in body["sections"]}


def notes(body: dict[str, Any]) -> dict[str, str | None]:
    return {s["kind"]: s["note"] for s in body["sections"]}


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, databases: dict[str, Database], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The app on the seed catalog, its index built; once per database for the module (the tests only add
    search log rows and feedback, each about its own problem or asset)."""
    database = _database(request.param, databases, tmp_path_factory.mktemp(request.param))
    use_engine(database.engine)
    asyncio.run(_empty(database.engine))
    asyncio.run(seed_catalog(SEED_DIR))
    tokens = asyncio.run(make_tokens())
    app = create_app(settings_for(database, tmp_path_factory.mktemp("kit")), start_tasks=False)
    with TestClient(app=app) as client:
        assert wait_until(lambda: client.get("/api/v1/search").json()["total"] == 24)
        yield Api(client, tokens, database)
    use_engine(database.engine)


def test_a_contracts_problem_gets_extraction_and_faithfulness_evals_and_a_hallucination_monitor(seeded: Api) -> None:
    body = kit(seeded.client, CONTRACTS)
    assert body["reading"]["patterns"] == ["summarize", "extract"]
    chosen = picks(body)
    assert {"claims-faithfulness-eval", "kyc-extraction-accuracy-eval"} <= set(chosen["eval_harness"])
    assert chosen["monitor"][0] == "hallucination-rate-monitor"
    assert "claims-summary-prompt" in chosen["prompt"]
    everything = [slug for slugs in chosen.values() for slug in slugs]
    assert "llm-latency-slo-monitor" not in everything and "rag-groundedness-eval" not in everything  # deprecated
    assert chosen["retrieval_pipeline"] == []
    assert notes(body)["retrieval_pipeline"] == "no retrieval pipeline: the task reads no corpus"
    for section in body["sections"]:
        for item in section["assets"]:
            assert "your pilot" in item["why"][0] and f"from {item['origin_pilot']}" in item["why"][0], item
            assert not any("matches" in reason for reason in item["why"]), item
    extraction = next(a for s in body["sections"] for a in s["assets"] if a["slug"] == "kyc-extraction-accuracy-eval")
    assert extraction["why"][0].startswith("an extraction eval (") and "field f1" in extraction["why"][0]
    assert extraction["serves"] == ["extract"]
    # Sections come best-fitting kind first, each pick with its fit.
    fits = [max(a["fit"] for a in s["assets"]) for s in body["sections"] if s["assets"]]
    assert fits == sorted(fits, reverse=True)


def test_a_problem_nothing_fits_says_so_and_counts_as_unmet_demand(seeded: Api) -> None:
    body = kit(seeded.client, "Translate product manuals into Japanese")
    assert body["reading"]["patterns"] == ["translate"]
    assert all(not assets for assets in picks(body).values())  # no padding with whatever shares a word
    assert notes(body)["prompt"].startswith("nothing fits translate")
    query = SearchLog.select(SearchLog.hits, SearchLog.filters, SearchLog.source).where(
        (SearchLog.source == "starter-kit") & (SearchLog.normalized == "translate product manuals into japanese")
    )
    found = wait_until(lambda: (rows := asyncio.run(query.run())) and len(rows) == 5 and rows)
    rows = [
        {**r, "filters": json.loads(r["filters"]) if isinstance(r["filters"], str) else r["filters"]} for r in found
    ]
    assert {"hits": 0, "filters": {}, "source": "starter-kit"} in rows
    assert sorted(r["filters"].get("kind", "") for r in rows)[1:] == sorted(KINDS)  # each kind with nothing fitting
    demand = seeded.client.get("/api/v1/reports/reuse").json()["demand"]
    assert any(d["query"] == "translate product manuals into japanese" for d in demand)


def test_the_reading_can_be_corrected_and_a_wrong_term_is_a_422(seeded: Api) -> None:
    body = kit(seeded.client, "Help our teams with their documents", pattern="extract", risk=["pii"])
    assert body["reading"]["patterns"] == ["extract"] and body["reading"]["risks"] == ["pii"]
    assert body["reading"]["corrected"] is True
    assert picks(body)["prompt"][0] == "kyc-entity-extraction-prompt"
    assert "pii-leak-monitor" in picks(body)["monitor"]
    problem = assert_problem(
        seeded.client.get("/api/v1/starter-kit", params={"problem": "x" * 5, "pattern": "sumarize"}), 422
    )
    assert problem["errors"][0]["pointer"] == "/query/pattern" and "did you mean 'summarize'" in problem["detail"]
    assert_problem(seeded.client.get("/api/v1/starter-kit", params={"problem": "xyz", "risk": "gremlins"}), 422)
    vocabulary = seeded.client.get("/api/v1/vocabulary").json()
    assert [t["id"] for t in vocabulary["patterns"]][:3] == ["extract", "summarize", "draft"]
    assert "hallucination" in [t["id"] for t in vocabulary["risks"]]


def test_feedback_on_a_pick_is_recorded_and_reported(seeded: Api) -> None:
    body = {"problem": CONTRACTS, "slug": "llm-cost-budget-monitor", "useful": False, "note": "batch job, no budget"}
    assert_problem(seeded.client.post("/api/v1/starter-kit/feedback", json=body), 401)
    assert_problem(seeded.client.post("/api/v1/starter-kit/feedback", json=body, headers=seeded.auth("reader")), 403)
    unknown = {**body, "slug": "no-such-asset"}
    problem = assert_problem(
        seeded.client.post("/api/v1/starter-kit/feedback", json=unknown, headers=seeded.auth("claims")), 422
    )
    assert problem["errors"][0]["pointer"] == "/slug"
    for _ in range(2):
        r = seeded.client.post("/api/v1/starter-kit/feedback", json=body, headers=seeded.auth("claims"))
        assert r.status_code == 201, r.text
        assert r.json()["given_by"].startswith("claims-ai/")
    useful = {**body, "slug": "hallucination-rate-monitor", "useful": True}
    assert (
        seeded.client.post("/api/v1/starter-kit/feedback", json=useful, headers=seeded.auth("fraud")).status_code == 201
    )
    report = seeded.client.get("/api/v1/reports/reuse").json()
    assert [(u["slug"], u["times"], u["last_note"]) for u in report["unhelpful_picks"]] == [
        ("llm-cost-budget-monitor", 2, "batch job, no budget")
    ]
    csv = seeded.client.get("/api/v1/reports/reuse", params={"format": "csv", "section": "unhelpful_picks"}).text
    assert csv.splitlines()[0] == "slug,problem,times,last_note,last_marked_at"
    journal = seeded.client.get("/api/v1/journal", params={"action": "kit.feedback"}, headers=seeded.auth("admin"))
    assert len(journal.json()["items"]) == 3
