"""What a read costs the database, kept by count: a change that adds a query per row or per label shows here.

Counted on SQLite, whose engine counts the statements it runs; a timing would be a flaky test, a count is not.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from catalog.seeding import seed_catalog
from catalog.sqlite_engine import SQLite
from catalog.tables import Asset
from registry.settings import SEED_DIR
from tests.conftest import Api
from tests.factories import manifest

# The most statements each read may take on the seed catalog (the counts measured when they were set).
BUDGET = {
    "/api/v1/assets/claims-triage-prompt": 5,  # the latest manifest: its patterns and risks
    "/api/v1/assets/claims-triage-prompt/versions/1.1.0": 2,
    "/assets/claims-triage-prompt": 13,  # the latest manifest: its patterns and risks
    "/pilots/claims-triage-assistant": 8,
    "/api/v1/search?q=claims": 0,
}


def engine() -> SQLite:
    """The engine the app runs on (it made its own from the database URL)."""
    running = Asset._meta.db
    assert isinstance(running, SQLite)
    return running


def statements(api: Api, path: str) -> int:
    """The fewest statements of three reads: work the app does in the background only adds to the count."""
    api.client.get(path)  # the first read may fill caches
    counts = []
    for _ in range(3):
        before = engine().statements
        assert api.client.get(path).status_code == 200
        counts.append(engine().statements - before)
    return min(counts)


def synced(api: Api) -> None:
    """Wait until the search sync has applied the seed: its rounds run statements while reads are counted."""
    deadline = time.monotonic() + 30
    while api.client.get("/readyz").json()["checks"]["search_backlog"]:
        assert time.monotonic() < deadline, "the search sync did not catch up"
        time.sleep(0.05)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_reads_keep_their_query_count(api: Api) -> None:
    asyncio.run(seed_catalog(SEED_DIR))
    synced(api)
    counted = {path: statements(api, path) for path in BUDGET}
    assert counted == {path: min(counted[path], most) for path, most in BUDGET.items()}, counted


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_publish_costs_the_same_statements_alone_or_in_a_batch_of_many(api: Api) -> None:
    """A batch plans its chunk in a few reads and writes in bulk: 100 versions cost about what one does."""
    asyncio.run(seed_catalog(SEED_DIR))
    pilot = {"owner": "claims-ai", "origin_pilot": "claims-triage-assistant"}
    synced(api)
    before = engine().statements
    one = api.client.post("/api/v1/assets/batch", headers=api.auth("admin"),
                          json={"manifests": [manifest(slug="one-prompt", **pilot)]})  # fmt: skip
    alone = engine().statements - before
    many = [manifest(slug=f"many-prompt-{n}", files=[{"path": "p.txt", "content": "x"}], **pilot) for n in range(100)]
    synced(api)
    before = engine().statements
    hundred = api.client.post("/api/v1/assets/batch", headers=api.auth("admin"), json={"manifests": many})
    together = engine().statements - before
    assert (one.json()["created"], hundred.json()["created"]) == (1, 100)
    assert together <= alone + 4, (alone, together)  # the files and a second search-outbox row: never one per version
