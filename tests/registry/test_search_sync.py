"""The outbox keeps search in step with the catalog, on SQLite and PostgreSQL, through outages and reindexes."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import tantivy

from catalog.db import use_engine
from catalog.schemas import SYSTEM, AdoptionRequest, AssetDocument, PilotRequest, YankRequest, parse_manifest, utc
from catalog.services import adoption, curation, outbox, pilots, publishing
from catalog.services.journal import now
from catalog.tables import SearchLog, SearchOutbox
from registry.workers.indexing import SearchSync, index_problem, reindex
from registry.workers.searchlog import SearchLogBuffer
from search.embedded import EmbeddedBackend
from search.errors import SearchUnavailable
from search.interfaces import IndexState, SearchQuery
from tests.conftest import Database
from tests.factories import graduated_pilot, manifest, pilot_request
from tests.helpers import invoke, ok
from tests.search.conftest import doc

pytestmark = pytest.mark.anyio


async def hits(backend: EmbeddedBackend, q: str = "") -> list[str]:
    return [h.slug for h in (await backend.search(SearchQuery(q=q))).hits]


async def test_publish_yank_and_adoption_reach_the_index(db: Database, tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    sync = SearchSync(backend)
    await graduated_pilot()
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request("fraud-screening", "fraud-ai")), SYSTEM)
    await publishing.publish_version(parse_manifest(manifest()), SYSTEM)
    await publishing.publish_version(parse_manifest(manifest("monitor", "claims-pii-monitor")), SYSTEM)
    assert await hits(backend, "triage") == []
    assert await sync.drain() == 2
    assert set(await hits(backend, "triage")) == {"claims-triage-prompt", "claims-pii-monitor"}

    await adoption.record_adoption(AdoptionRequest(asset="claims-triage-prompt", pilot="fraud-screening"), SYSTEM)
    await sync.drain()
    assert (await backend.search(SearchQuery(q="claims triage prompt"))).hits[0].reuse_count == 1

    await curation.yank_version("claims-pii-monitor", "1.0.0", YankRequest(reason="wrong threshold"), SYSTEM)
    await sync.drain()
    assert "claims-pii-monitor" not in await hits(backend)
    assert (await outbox.status()).backlog == 0


async def test_search_outage_loses_nothing(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "search"
    root.write_text("not a directory")  # the index cannot be opened: search is down
    backend = EmbeddedBackend(root)
    sync = SearchSync(backend)
    await graduated_pilot()
    result = await publishing.publish_version(parse_manifest(manifest()), SYSTEM)
    assert result.status == "created"  # the publish does not depend on search
    with pytest.raises(SearchUnavailable):
        await sync.run_once()
    state = await outbox.status()
    assert (state.backlog, state.failing) == (1, 1)
    assert "cannot be opened" in (state.last_error or "")
    assert await sync.run_once() == 0  # backing off: not due yet

    root.unlink()  # search is back
    await asyncio.sleep(1.1)
    assert await sync.drain() == 1
    assert await hits(backend, "triage") == ["claims-triage-prompt"]  # the only asset published
    assert (await outbox.status()).backlog == 0


async def test_parallel_workers_never_claim_the_same_change(db: Database) -> None:
    await graduated_pilot()
    for i in range(12):
        await publishing.publish_version(parse_manifest(manifest(slug=f"claims-prompt-{i}")), SYSTEM)
    first, second = await asyncio.gather(outbox.claim(5), outbox.claim(5))
    assert not set(first.ids) & set(second.ids)
    rest = await outbox.claim(50)
    assert len(first.ids) + len(second.ids) + len(rest.ids) == 12
    assert (await outbox.claim(50)).ids == []  # all leased


async def test_reindex_rebuilds_from_the_database_and_replays_later_changes(db: Database, tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    await backend.upsert([doc("stale-asset-not-in-the-catalog")])
    await graduated_pilot()
    await publishing.publish_version(parse_manifest(manifest()), SYSTEM)
    assert await reindex(backend) == 1
    assert await hits(backend) == ["claims-triage-prompt"]
    assert len(list((tmp_path / "search").glob("index-*"))) <= 2
    mark = await outbox.high_water_mark()
    await outbox.complete((await outbox.claim(100)).ids)
    await publishing.publish_version(parse_manifest(manifest(slug="claims-summary-prompt")), SYSTEM)
    assert await outbox.requeue_after(mark) == 1
    assert await SearchSync(backend).drain() == 1
    assert set(await hits(backend)) == {"claims-triage-prompt", "claims-summary-prompt"}


async def test_a_second_process_follows_a_reindex_swap(db: Database, tmp_path: Path) -> None:
    server, other = EmbeddedBackend(tmp_path / "search"), EmbeddedBackend(tmp_path / "search")
    await server.upsert([doc("old-asset")])
    await graduated_pilot()
    await publishing.publish_version(parse_manifest(manifest()), SYSTEM)
    await reindex(other)  # as `registry search reindex` does beside a running server
    await asyncio.sleep(0.6)
    assert await hits(server) == ["claims-triage-prompt"]
    await server.upsert([doc("written-after-the-swap")])
    await asyncio.sleep(0.6)
    assert "written-after-the-swap" in await hits(other)
    shutil.rmtree(tmp_path / "search")


async def test_search_log_is_written_in_batches(db: Database) -> None:
    buffer = SearchLogBuffer()
    buffer.add(SearchQuery(q="  PII   Monitor ", kind="monitor"), hits=2, took_ms=1.5)
    buffer.add(SearchQuery(q="quantum widgets"), hits=0, took_ms=0.7, source="cli")
    assert await SearchLog.count() == 0
    assert await buffer.flush() == 2
    rows = (
        await SearchLog.select(SearchLog.normalized, SearchLog.hits, SearchLog.filters, SearchLog.source)
        .order_by(SearchLog.id)
        .output(load_json=True)
    )
    assert rows == [
        {"normalized": "pii monitor", "hits": 2, "filters": {"kind": "monitor"}, "source": "api"},
        {"normalized": "quantum widgets", "hits": 0, "filters": {}, "source": "cli"},
    ]
    assert await buffer.flush() == 0
    assert await SearchOutbox.count() == 0


async def publish(slug: str) -> None:
    await publishing.publish_version(parse_manifest(manifest("prompt", slug)), SYSTEM)


async def test_an_index_restored_from_an_older_copy_catches_up_by_itself(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "search"
    backend = EmbeddedBackend(root)
    sync = SearchSync(backend)
    await graduated_pilot()
    await publish("first-prompt")
    assert await sync.verify() is not None  # a new index has no identity: it is built
    await sync.drain()
    assert await index_problem(backend) is None
    shutil.copytree(root, tmp_path / "copy")  # an operator's copy of the index
    await publish("second-prompt")
    await sync.drain()
    await backend.close()
    shutil.rmtree(root)
    shutil.copytree(tmp_path / "copy", root)  # ... restored while the server runs

    problem = await index_problem(backend)
    assert problem is not None and problem.kind == "behind"
    assert await sync.verify() == problem.detail
    await sync.drain()
    assert sorted(await hits(backend)) == ["first-prompt", "second-prompt"]
    assert await index_problem(backend) is None


async def test_a_lost_or_foreign_index_is_rebuilt(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "search"
    backend = EmbeddedBackend(root)
    sync = SearchSync(backend)
    await graduated_pilot()
    await publish("first-prompt")
    await sync.verify()
    await sync.drain()
    shutil.rmtree(root)  # lost while the server runs
    problem = await index_problem(backend)
    assert problem is not None and problem.kind == "missing"
    await sync.verify()
    assert await hits(backend) == ["first-prompt"]

    other = EmbeddedBackend(tmp_path / "other")  # an index some other catalog built, swapped in
    await other.rebuild(aiter_of([doc("stranger")]), IndexState("someone-else", 10**6))
    await other.close()
    await backend.close()
    shutil.rmtree(root)
    shutil.copytree(tmp_path / "other", root)
    problem = await index_problem(backend)
    assert problem is not None and problem.kind == "foreign"
    await sync.verify()
    assert await hits(backend) == ["first-prompt"] and await index_problem(backend) is None


async def test_an_index_of_an_older_release_is_rebuilt_with_the_new_fields(db: Database, tmp_path: Path) -> None:
    """An upgrade: the index on disk has the previous release's schema and no document format in its state.
    The first check rebuilds it, and search answers with what the new release derives (patterns, risks)."""
    root = tmp_path / "search"
    await graduated_pilot()
    await publish("first-prompt")
    backend = EmbeddedBackend(root)
    sync = SearchSync(backend)
    await sync.verify()
    await sync.drain()
    generation = (await backend.state()).generation  # type: ignore[union-attr]
    await backend.close()
    old = tantivy.SchemaBuilder()
    old.add_text_field("slug", stored=True, tokenizer_name="raw")
    old_dir = root / "index-previous-release"
    old_dir.mkdir()
    writer = tantivy.Index(old.build(), path=str(old_dir)).writer()
    writer.add_document(tantivy.Document(slug="first-prompt"))
    writer.commit()
    (old_dir / "registry-state.json").write_text(json.dumps({"generation": generation, "applied_through": 10**6}))
    (root / "current").write_text(old_dir.name)

    backend = EmbeddedBackend(root)
    problem = await index_problem(backend)
    assert problem is not None and problem.kind == "outdated" and "unrecorded" in problem.detail
    with pytest.raises(SearchUnavailable):  # the old schema cannot be read, until ...
        await backend.search(SearchQuery())
    assert await SearchSync(backend).verify() == problem.detail  # ... the check rebuilds it
    found = await backend.search(SearchQuery(patterns=["classify"]))
    assert [h.slug for h in found.hits] == ["first-prompt"] and found.facets["patterns"] == {"classify": 1}
    assert await index_problem(backend) is None
    await backend.close()


async def test_a_new_leader_takes_back_rows_a_dead_worker_claimed(db: Database, tmp_path: Path) -> None:
    await graduated_pilot()
    await publish("first-prompt")
    claimed = await outbox.claim()  # ... and the worker that claimed them dies
    assert claimed.ids and (await outbox.claim()).ids == []
    assert await outbox.reclaim() == len(claimed.ids)
    assert (await outbox.claim()).ids == claimed.ids


async def test_leases_are_short_and_renewed_while_applying(db: Database) -> None:
    await graduated_pilot()
    await publish("first-prompt")
    claimed = await outbox.claim()
    assert outbox.LEASE.total_seconds() <= 15  # a dead worker's changes come back within seconds
    ending = now() + timedelta(seconds=1)  # a lease about to run out while the worker still applies the rows
    await SearchOutbox.update({SearchOutbox.next_attempt_at: ending}).where(SearchOutbox.id.is_in(claimed.ids))
    await outbox.renew(claimed.ids)
    renewed = await SearchOutbox.select(SearchOutbox.next_attempt_at).where(SearchOutbox.id == claimed.ids[0]).first()
    assert utc(renewed["next_attempt_at"]) >= now() + outbox.LEASE - timedelta(seconds=2)  # a whole lease again
    assert (await outbox.claim()).ids == []


async def aiter_of(documents: list[AssetDocument]) -> AsyncIterator[list[AssetDocument]]:
    yield documents


def test_search_sync_once_and_reindex_from_the_cli(db: Database, tmp_path: Path) -> None:
    """The production commands beside a server: `search sync --once` applies the queue, `search reindex`
    rebuilds into a fresh index; `search status` counts what the index holds."""

    def status() -> dict[str, Any]:
        found: dict[str, Any] = json.loads(invoke(env, "search", "status", "--json").stdout)
        return found

    async def two_published() -> None:
        await graduated_pilot()
        for slug in ("first-prompt", "second-prompt"):
            await publish(slug)

    asyncio.run(two_published())
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_SEARCH_BACKEND": "embedded", "REGISTRY_DATABASE_URL": db.url}
    try:
        assert "applied 2 queued changes to the embedded index" in ok(env, "search", "sync", "--once")
        assert (status()["documents"], status()["backlog"]) == (2, 0)
        assert "applied 0 queued changes" in ok(env, "search", "sync", "--once")
        assert "reindexed 2 assets into a fresh embedded index" in ok(env, "search", "reindex")
        assert status()["documents"] == 2 and status()["healthy"]
    finally:
        use_engine(db.engine)
