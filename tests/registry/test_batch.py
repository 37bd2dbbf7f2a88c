"""Batch publishing over HTTP on SQLite and PostgreSQL: each item answered alone, all or nothing per item."""

from __future__ import annotations

import asyncio
from typing import Any

from catalog.tables import AssetVersion, JournalEntry, SearchOutbox
from tests.conftest import Api
from tests.factories import graduated_pilot, manifest
from tests.registry.test_api import assert_problem


def counts() -> tuple[int, int, int]:
    async def read() -> tuple[int, int, int]:
        journal = await JournalEntry.count().where(JournalEntry.action == "asset.publish")
        return await AssetVersion.count(), journal, await SearchOutbox.count()

    return asyncio.run(read())


def test_each_item_is_answered_and_a_failure_leaves_nothing(api: Api) -> None:
    asyncio.run(graduated_pilot())
    harness = manifest("eval_harness", slug="claims-faithfulness-eval")
    prompt = manifest(depends_on=[{"slug": "claims-faithfulness-eval", "version": ">=1.0,<2"}])
    typo = manifest(slug="typo-prompt", kind="promt", version=1.0)
    foreign = manifest(slug="fraud-prompt", owner="fraud-ai")
    body: dict[str, Any] = {"manifests": [harness, typo, prompt, foreign]}
    answer = api.client.post("/api/v1/assets/batch", json=body, headers=api.auth("claims"))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["created"], result["unchanged"], result["failed"]) == (2, 0, 2)
    assert [r["status"] for r in result["results"]] == ["created", "failed", "created", "failed"]
    problem = result["results"][1]["problem"]
    assert {e["pointer"] for e in problem["errors"]} >= {"/kind", "/version"}
    assert result["results"][3]["problem"]["status"] == 403
    assert counts() == (2, 2, 2)  # the failed items wrote nothing; the others are journaled and queued for search

    again = api.client.post("/api/v1/assets/batch", json=body, headers=api.auth("claims")).json()
    assert [r["status"] for r in again["results"]] == ["unchanged", "failed", "unchanged", "failed"]
    changed = {**harness, "summary": "Different content under the same version."}
    conflict = api.client.post("/api/v1/assets/batch", json={"manifests": [changed]}, headers=api.auth("claims"))
    assert conflict.json()["results"][0]["problem"]["code"] == "version-exists"
    assert counts() == (2, 2, 2)


def test_batch_limits_and_auth(api: Api) -> None:
    assert_problem(api.client.post("/api/v1/assets/batch", json={"manifests": []}), 401)
    empty = api.client.post("/api/v1/assets/batch", json={"manifests": []}, headers=api.auth("claims"))
    assert_problem(empty, 422)
    many = {"manifests": [{"slug": f"x{i}"} for i in range(1001)]}
    too_many = assert_problem(api.client.post("/api/v1/assets/batch", json=many, headers=api.auth("claims")), 422)
    assert too_many["errors"][0]["pointer"] == "/manifests"
    assert_problem(api.client.post("/api/v1/assets/batch", json={"manifests": [1]}, headers=api.auth("claims")), 422)
    reader = api.client.post("/api/v1/assets/batch", json={"manifests": [manifest()]}, headers=api.auth("reader"))
    assert_problem(reader, 403)
