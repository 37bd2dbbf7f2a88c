"""Search and starter kit over HTTP, fed by the app's own sync worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from catalog.services import indexing, outbox
from catalog.tables import SearchLog
from registry.app import create_app
from search.documents import DOCUMENT_FORMAT
from search.embedded import EmbeddedBackend
from search.interfaces import IndexState
from tests.conftest import Api, Database, make_tokens, settings_for
from tests.factories import manifest
from tests.helpers import assert_problem, graduate, wait_until


def search(client: TestClient, **params: Any) -> httpx.Response:  # type: ignore[type-arg]
    return client.get("/api/v1/search", params=params)


def publish_three(api: Api) -> None:
    graduate(api)
    bodies = [
        manifest(title="Claims triage classification prompt", tags=["claims", "triage"]),
        manifest(
            "monitor", "pii-leak-monitor", title="PII leak monitor", summary="Alerts when responses leak personal data."
        ),
        manifest("eval_harness", "claims-faithfulness-eval", title="Claims faithfulness eval", tags=["claims", "eval"]),
    ]
    for body in bodies:
        assert api.client.post("/api/v1/assets", json=body, headers=api.auth("claims")).status_code == 201
    assert wait_until(lambda: search(api.client).json()["total"] == 3)


def test_published_assets_become_searchable(api: Api) -> None:
    publish_three(api)
    found = wait_until(lambda: search(api.client, q="personal data").json()["hits"])
    assert found[0]["slug"] == "pii-leak-monitor"
    body = search(api.client, q="clams trige", tag="claims").json()
    assert set(body) == {"total", "hits", "facets", "took_ms"}
    hit = body["hits"][0]
    assert hit["slug"] == "claims-triage-prompt"
    assert set(hit) >= {
        "slug",
        "kind",
        "title",
        "summary",
        "tags",
        "owner",
        "origin_pilot",
        "latest_version",
        "reuse_count",
        "highlights",
    }
    assert "<mark>Claims</mark>" in hit["highlights"]["title"] and "<mark>triage</mark>" in hit["highlights"]["title"]
    assert body["facets"]["kind"]["prompt"] == 1
    everything = search(api.client).json()
    assert everything["total"] == 3 and everything["facets"]["kind"] == {"prompt": 1, "monitor": 1, "eval_harness": 1}
    assert search(api.client, q="claims", kind="eval_harness").json()["hits"][0]["slug"] == "claims-faithfulness-eval"
    # Newest first (to the second: the three were published within one).
    newest = [h["published_at"] for h in search(api.client, sort="newest").json()["hits"]]
    assert len(newest) == 3 and newest == sorted(newest, reverse=True)


def test_search_input_errors_are_problems(api: Api) -> None:
    assert assert_problem(search(api.client, limit=0), 422)["errors"][0]["pointer"] == "/query/limit"
    assert_problem(search(api.client, kind="notebook"), 422)
    assert_problem(search(api.client, sort="random"), 422)
    assert_problem(search(api.client, q="x" * 501), 422)
    assert_problem(api.client.get("/api/v1/starter-kit"), 422)


def test_starter_kit_picks_assets_per_kind_and_says_why(api: Api) -> None:
    publish_three(api)
    wait_until(lambda: search(api.client).json()["total"] == 3)
    kit = api.client.get(
        "/api/v1/starter-kit", params={"problem": "We need to triage incoming insurance claims"}
    ).json()
    sections = {s["kind"]: s["assets"] for s in kit["sections"]}
    assert set(sections) == {"prompt", "eval_harness", "retrieval_pipeline", "monitor"}
    assert sections["prompt"][0]["slug"] == "claims-triage-prompt"
    assert any("triage" in reason for reason in sections["prompt"][0]["why"])
    assert sections["retrieval_pipeline"] == []


def test_searches_are_logged_for_the_demand_report(db: Database, tmp_path: Path) -> None:
    asyncio.run(make_tokens())
    with TestClient(app=create_app(settings_for(db, tmp_path), start_tasks=False)) as client:
        search(client, q="quantum widgets")
        search(client, q="PII monitor", kind="monitor")
    rows = asyncio.run(
        SearchLog.select(SearchLog.normalized, SearchLog.hits, SearchLog.source).order_by(SearchLog.id).run()
    )
    assert rows == [
        {"normalized": "quantum widgets", "hits": 0, "source": "api"},
        {"normalized": "pii monitor", "hits": 0, "source": "api"},
    ]


def test_publishing_works_while_search_is_down_and_catches_up(db: Database, tmp_path: Path) -> None:
    tokens = asyncio.run(make_tokens())
    (tmp_path / "search").write_text("the index directory is unusable")
    with TestClient(app=create_app(settings_for(db, tmp_path), start_tasks=False)) as client:
        api = Api(client, tokens, db)
        graduate(api)
        r = client.post("/api/v1/assets", json=manifest(), headers=api.auth("claims"))
        assert r.status_code == 201
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["search_backlog"] >= 1
        body = assert_problem(search(client, q="triage"), 503, "search-unavailable")
        assert "GET /api/v1/assets" in body["detail"] and r.headers
        (tmp_path / "search").unlink()  # search comes back
        found = wait_until(
            lambda: search(client, q="triage").status_code == 200 and search(client, q="triage").json()["hits"]
        )
        assert found and found[0]["slug"] == "claims-triage-prompt"
        assert wait_until(lambda: client.get("/readyz").json()["status"] == "ready")


async def older_copy(root: Path) -> None:
    """A consistent copy of the index as it is now (a copy of the live directory could catch a merge midway)."""
    record = await outbox.index_record()
    assert record is not None
    backend = EmbeddedBackend(root)
    state = IndexState(record.generation, await outbox.high_water_mark(), DOCUMENT_FORMAT)
    await backend.rebuild(indexing.all_asset_documents(), state)
    await backend.close()


def test_an_index_replaced_while_serving_is_reported_then_heals(db: Database, tmp_path: Path) -> None:
    tokens = asyncio.run(make_tokens())
    settings = settings_for(db, tmp_path, search_verify_seconds=3600)  # no repair but the one this test starts
    with TestClient(app=create_app(settings)) as client:
        api = Api(client, tokens, db)
        publish_three(api)
        assert client.get("/readyz").json()["checks"]["search_index"] == "ok"
        asyncio.run(older_copy(tmp_path / "copy"))  # what an operator's backup of the index would hold now
        r = client.post("/api/v1/assets", json=manifest(slug="late-prompt"), headers=api.auth("claims"))
        assert r.status_code == 201
        assert wait_until(lambda: search(client, q="late").json()["total"] == 1)
        assert wait_until(lambda: client.get("/readyz").json()["checks"]["search_backlog"] == 0)
    # Stopped, so nothing writes meanwhile: an older copy of the index is put back in place of the live one.
    (tmp_path / "search").rename(tmp_path / "replaced")
    shutil.copytree(tmp_path / "copy", tmp_path / "search")
    looking = settings_for(db, tmp_path, search_verify_seconds=3600, search_sync_in_app=False)
    with TestClient(app=create_app(looking, start_tasks=False)) as client:  # reads only: nothing repairs it
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded" and "misses changes" in ready["checks"]["search_index"], ready
        assert search(client, q="late").json()["total"] == 0  # the older copy does not hold it
    with TestClient(app=create_app(settings)) as client:  # a start checks the index and catches it up
        assert wait_until(lambda: search(client, q="late").json()["total"] == 1)
        assert wait_until(lambda: client.get("/readyz").json()["status"] == "ready")
        assert search(client).json()["total"] == 4
    (tmp_path / "search").rename(tmp_path / "lost")  # lost entirely: rebuilt from the database on start
    with TestClient(app=create_app(settings)) as client:
        assert wait_until(lambda: client.get("/readyz").json()["checks"]["search_index"] == "ok")
        assert wait_until(lambda: search(client).json()["total"] == 4)


def test_readiness_is_degraded_every_time_the_index_cannot_be_read(db: Database, tmp_path: Path) -> None:
    """An unreadable index (here its identity file turned into a directory) is reported on every poll."""
    asyncio.run(make_tokens())
    with TestClient(app=create_app(settings_for(db, tmp_path, search_verify_seconds=3600))) as client:
        current = (tmp_path / "search" / "current").read_text().strip()
        state = tmp_path / "search" / current / "registry-state.json"
        state.unlink()
        state.mkdir()
        polls = [client.get("/readyz").json() for _ in range(20)]
        assert all(p["status"] == "degraded" and p["checks"]["search_index"].startswith("failing") for p in polls), (
            polls
        )
        state.rmdir()
