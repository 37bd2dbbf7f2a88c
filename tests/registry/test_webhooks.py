"""Webhooks against a real local HTTP receiver: signatures, order, retries, redelivery, disabling, targets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from catalog.db import use_engine
from catalog.schemas import parse_manifest
from catalog.services import deliveries, publishing
from catalog.tables import Webhook
from registry.app import create_app
from registry.settings import Settings
from registry.workers.webhooks import webhook_key
from tests.conftest import Api, Database, make_tokens, settings_for
from tests.factories import CLAIMS, graduated_pilot, manifest
from tests.helpers import Receiver, assert_problem, wait_until


@pytest.fixture
def hooked(db: Database, tmp_path: Path) -> Iterator[Api]:
    """The app with its delivery worker running, retrying fast, allowed to call the local receiver."""
    tokens = asyncio.run(make_tokens())
    asyncio.run(graduated_pilot())
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        asyncio.run(publishing.publish_version(parse_manifest(manifest(version=version)), CLAIMS))
    settings = settings_for(
        db, tmp_path, webhook_allow_private=True, webhook_retry_seconds=0.05, webhook_retry_max_seconds=0.2,
        webhook_max_failures=4,
    )  # fmt: skip
    with TestClient(app=create_app(settings)) as client:
        yield Api(client, tokens, db)
    use_engine(db.engine)


def subscribe(api: Api, receiver: Receiver, **body: Any) -> dict[str, Any]:
    payload = {"url": receiver.url, "events": ["label.moved", "version.yanked"], **body}
    response = api.client.post("/api/v1/webhooks", json=payload, headers=api.auth("claims"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["secret"].startswith("whsec_")
    return created


def move(api: Api, version: str) -> None:
    url = "/api/v1/assets/claims-triage-prompt/labels/production"
    assert api.client.put(url, json={"version": version}, headers=api.auth("claims")).status_code == 200


def test_signed_events_arrive_in_order_and_after_an_outage(hooked: Api, receiver: Receiver) -> None:
    hook = subscribe(hooked, receiver, filters={"asset": "claims-triage-prompt"})
    assert "secret" not in hooked.client.get(f"/api/v1/webhooks/{hook['id']}", headers=hooked.auth("claims")).json()
    receiver.failing = True
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        move(hooked, version)
    response = hooked.client.post(
        "/api/v1/assets/claims-triage-prompt/versions/1.0.0/yank", json={"reason": "bad"}, headers=hooked.auth("claims")
    )
    assert response.status_code == 200
    wait_until(lambda: receiver.attempts >= 2)  # the first event is retried while the receiver is down
    receiver.failing = False  # back from the outage: everything arrives, in order
    wait_until(lambda: len(receiver.received) >= 4)
    verifier = Verifier(hook["secret"])
    bodies = [verifier.verify(body, headers) for headers, body in receiver.received]
    assert [b["type"] for b in bodies] == ["label.moved"] * 3 + ["version.yanked"]
    assert [b["data"]["detail"]["to"] for b in bodies[:3]] == ["1.0.0", "1.1.0", "1.2.0"]  # in order
    assert [b["data"]["journal_id"] for b in bodies] == sorted(b["data"]["journal_id"] for b in bodies)
    assert bodies[3]["data"]["version"] == "1.0.0" and bodies[3]["data"]["detail"]["reason"] == "bad"
    with pytest.raises(WebhookVerificationError):  # a forged body does not verify
        verifier.verify(receiver.received[0][1].replace(b"1.0.0", b"6.6.6"), receiver.received[0][0])
    log = hooked.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=hooked.auth("claims")).json()
    first = log["items"][-1]
    assert log["total"] == 4 and first["status"] == "delivered" and first["attempts"] >= 2
    assert first["response_status"] == 204 and first["last_error"] is None
    assert asyncio.run(deliveries.prune(timedelta(0))) == 4  # delivered events leave the log after a while
    assert hooked.client.get("/readyz").json()["checks"]["webhook_backlog"] == 0


def test_failing_receivers_are_disabled_and_come_back_with_redelivery(hooked: Api, receiver: Receiver) -> None:
    hook = subscribe(hooked, receiver)
    url = f"/api/v1/webhooks/{hook['id']}"
    receiver.failing = True
    move(hooked, "1.0.0")
    state = wait_until(lambda: (s := hooked.client.get(url, headers=hooked.auth("claims")).json())["enabled"] is False
                     and s)  # fmt: skip
    assert "4 failed attempts in a row" in state["disabled_reason"] and state["pending"] == 1
    ready = hooked.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["webhooks_disabled"] == 1
    journal = hooked.client.get("/api/v1/journal", params={"action": "webhook"}, headers=hooked.auth("claims")).json()
    assert "webhook.disable" in [e["action"] for e in journal["items"]]
    assert not hooked.client.get("/api/v1/journal", params={"action": "webhook"}).json()["items"]  # not public
    move(hooked, "1.1.0")  # queued while disabled
    receiver.failing = False
    assert hooked.client.post(f"{url}/enable", headers=hooked.auth("claims")).status_code == 200
    assert_problem(hooked.client.post(f"{url}/enable", headers=hooked.auth("claims")), 409, "already-enabled")
    wait_until(lambda: len(receiver.received) == 2)
    assert [b["data"]["detail"]["to"] for b in receiver.bodies()] == ["1.0.0", "1.1.0"]
    delivered = hooked.client.get(f"{url}/deliveries", headers=hooked.auth("claims")).json()["items"]
    again = hooked.client.post(f"{url}/deliveries/{delivered[-1]['id']}/redeliver", headers=hooked.auth("claims"))
    assert again.status_code == 201 and again.json()["message_id"] == delivered[-1]["message_id"]
    wait_until(lambda: len(receiver.received) == 3)
    assert receiver.received[2][0]["webhook-id"] == receiver.received[0][0]["webhook-id"]  # the same message
    assert_problem(hooked.client.post(f"{url}/deliveries/999999/redeliver", headers=hooked.auth("claims")), 404)


def test_subscriptions_belong_to_a_team_and_filter_events(hooked: Api, receiver: Receiver) -> None:
    mine = subscribe(hooked, receiver, events=["label.moved"], filters={"kind": "monitor"})
    url = f"/api/v1/webhooks/{mine['id']}"
    assert_problem(hooked.client.get(url, headers=hooked.auth("fraud")), 403)
    assert_problem(hooked.client.delete(url, headers=hooked.auth("fraud")), 403)
    assert_problem(hooked.client.get("/api/v1/webhooks", headers=hooked.auth("reader")), 403)
    assert_problem(hooked.client.get("/api/v1/webhooks"), 401)
    assert [h["id"] for h in hooked.client.get("/api/v1/webhooks", headers=hooked.auth("fraud")).json()] == []
    assert [h["id"] for h in hooked.client.get("/api/v1/webhooks", headers=hooked.auth("admin")).json()] == [mine["id"]]
    move(hooked, "1.0.0")  # a prompt: the monitor filter keeps it out
    assert hooked.client.get(f"{url}/deliveries", headers=hooked.auth("claims")).json()["total"] == 0
    removed = hooked.client.delete(url, headers=hooked.auth("claims"))
    assert removed.status_code == 200 and removed.json()["enabled"] is False
    assert_problem(hooked.client.get(url, headers=hooked.auth("claims")), 404, "webhook-not-found")


def test_targets_inside_the_network_and_odd_urls_are_refused(api: Api) -> None:
    for url in [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "https://user:pass@example.com/hook",
        "http://no-such-host.invalid/hook",  # refused as a special-use name, before any lookup
    ]:
        body = {"url": url, "events": ["asset.published"]}
        problem = assert_problem(api.client.post("/api/v1/webhooks", json=body, headers=api.auth("claims")), 422)
        assert problem["errors"][0]["pointer"] == "/url", (url, problem)
    for body in [
        {"url": "ftp://example.com/x", "events": ["asset.published"]},
        {"url": "https://example.com/x", "events": []},
        {"url": "https://example.com/x", "events": ["asset.exploded"]},
        {"url": "https://example.com/x", "events": ["label.moved"], "filters": {"kind": "poem"}},
    ]:
        assert_problem(api.client.post("/api/v1/webhooks", json=body, headers=api.auth("claims")), 422)
    assert asyncio.run(_count_webhooks()) == 0


async def _count_webhooks() -> int:
    return await Webhook.count()


def test_a_registry_without_a_key_setting_keeps_one_key(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path})
    key = webhook_key(settings)
    assert key == webhook_key(settings) and len(key) >= 40
    assert (tmp_path / ".webhook-key").stat().st_mode & 0o077 == 0
    assert webhook_key(Settings.model_validate({"data_dir": tmp_path, "webhook_key": "k" * 40})) == b"k" * 40
