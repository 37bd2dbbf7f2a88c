"""Batch publishing over HTTP on SQLite and PostgreSQL: each item answered alone, all or nothing per item."""

from __future__ import annotations

import asyncio
from typing import Any

from catalog.tables import AssetVersion, JournalEntry, SearchOutbox
from tests.conftest import Api
from tests.factories import graduated_pilot, manifest
from tests.helpers import assert_problem


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


def test_a_batch_decides_in_order_as_one_publish_after_another(api: Api) -> None:
    """Versions of one asset, a dependency and an identity change inside one batch answer as if sent one by one."""
    asyncio.run(graduated_pilot())
    items = [
        manifest(version="1.0.0", title="First title"),
        manifest(version="1.2.0", title="Newest title", tags=["claims", "newest"]),
        manifest(version="1.1.0", title="Older title"),
        manifest("monitor", version="2.0.0"),  # the same slug as another kind
        manifest("eval_harness", slug="claims-eval", depends_on=[{"slug": "claims-triage-prompt", "version": "^1.1"}]),
        manifest(version="1.0.0", title="First title"),  # sent twice: the second is unchanged
        manifest(version="1.1.0", title="Changed after all"),  # same version, other content
    ]
    answer = api.client.post("/api/v1/assets/batch", json={"manifests": items}, headers=api.auth("claims")).json()
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["created", "created", "created", "failed", "created", "unchanged", "failed"]
    assert answer["results"][3]["problem"]["code"] == "asset-identity-mismatch"
    assert answer["results"][6]["problem"]["code"] == "version-exists"
    shown = api.client.get("/api/v1/assets/claims-triage-prompt").json()
    assert (shown["latest_version"], shown["title"], shown["tags"]) == ("1.2.0", "Newest title", ["claims", "newest"])
    harness = api.client.get("/api/v1/assets/claims-eval/versions/1.0.0").json()
    assert harness["depends_on"][0]["resolved"] == "1.2.0"
    assert counts() == (4, 4, 2)  # four versions journaled; each asset queued for search once

    one_by_one = [api.client.post("/api/v1/assets", json=m, headers=api.auth("claims")) for m in items]
    assert [r.status_code for r in one_by_one] == [200, 200, 200, 409, 200, 200, 409]  # the same answers, later
