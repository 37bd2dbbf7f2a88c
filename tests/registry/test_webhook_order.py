"""Webhook deliveries go out in journal order under concurrent writes, and a dead sender's leases come back
at once: on SQLite its one sender holds the data dir's lock, on PostgreSQL a dead worker's presence is gone."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from catalog.db import use_engine
from catalog.schemas import WebhookRequest, parse_manifest
from catalog.services import publishing, webhooks
from catalog.services.journal import now
from catalog.tables import Webhook
from registry.app import create_app
from registry.settings import Settings
from registry.workers.webhooks import DeliveryWorker
from tests.conftest import Database, settings_for
from tests.factories import CLAIMS, graduated_pilot, manifest
from tests.helpers import Receiver, wait_until

KEY = b"k" * 40


async def _subscribe(url: str) -> int:
    request = WebhookRequest.model_validate({"url": url, "events": ["asset.published"]})
    return (await webhooks.create_webhook(request, CLAIMS, KEY)).id


async def _publish_concurrently(count: int, clients: int) -> None:
    gate = asyncio.Semaphore(clients)

    async def one(i: int) -> None:
        async with gate:
            await publishing.publish_version(parse_manifest(manifest(slug=f"prompt-{i:03d}")), CLAIMS)

    await asyncio.gather(*(one(i) for i in range(count)))


async def _deliver_all(settings: Settings, expected: int, receiver: Receiver) -> None:
    worker = DeliveryWorker(settings)
    deadline = time.monotonic() + 120
    async with worker.client() as client:
        while len(receiver.received) < expected:
            assert time.monotonic() < deadline, f"{len(receiver.received)} of {expected} delivered"
            await worker.run_once(client)


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_concurrent_publishes_are_delivered_in_journal_order(
    db: Database,
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path, "webhook_allow_private": True, "webhook_key": "k" * 40})

    async def scenario() -> None:
        await db.engine.start_connection_pool(min_size=1, max_size=16)
        try:
            await graduated_pilot()
            await _subscribe(receiver.url)
            await _publish_concurrently(500, 16)
            await _deliver_all(settings, 500, receiver)
        finally:
            await db.engine.close_connection_pool()

    asyncio.run(scenario())
    journal_ids = [body["data"]["journal_id"] for body in receiver.bodies()]
    assert len(journal_ids) == 500
    inversions = sum(1 for a, b in itertools.pairwise(journal_ids) if b < a)
    assert inversions == 0


async def _leave_a_dead_lease(webhook_id: int) -> None:
    """What a sender killed in the middle of its work leaves: a lease that runs on for a while, in its name."""
    lease = {Webhook.leased_until: now() + timedelta(minutes=10), Webhook.leased_by: "a-worker-killed-with-9"}
    await Webhook.update(lease).where(Webhook.id == webhook_id)


def test_a_restarted_registry_takes_back_a_dead_senders_lease_at_once(
    db: Database,
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    asyncio.run(graduated_pilot())
    webhook_id = asyncio.run(_subscribe(receiver.url))
    asyncio.run(_publish_concurrently(5, 1))
    asyncio.run(_leave_a_dead_lease(webhook_id))
    settings = settings_for(db, tmp_path, webhook_allow_private=True, webhook_key="k" * 40)
    with TestClient(app=create_app(settings)):
        start = time.monotonic()
        wait_until(lambda: len(receiver.received) == 5, seconds=30)
        assert time.monotonic() - start < 5
    use_engine(db.engine)


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_live_workers_leases_are_left_alone_and_a_gone_ones_taken_back(db: Database, receiver: Receiver) -> None:
    from piccolo.engine.postgres import PostgresEngine

    from registry.workers.presence import Presence

    async def scenario() -> tuple[int, int]:
        assert isinstance(db.engine, PostgresEngine)
        webhook_id = await _subscribe(receiver.url)
        alive, other = Presence("worker-alive", db.engine), Presence("worker-other", db.engine)
        await alive.start()
        await other.start()
        lease = {Webhook.leased_until: now() + timedelta(minutes=10), Webhook.leased_by: "worker-alive"}
        await Webhook.update(lease).where(Webhook.id == webhook_id)
        while_alive = await other.take_back()
        await alive.close()  # its process ends: PostgreSQL drops its lock
        after = await other.take_back()
        await other.close()
        return while_alive, after

    assert asyncio.run(scenario()) == (0, 1)
