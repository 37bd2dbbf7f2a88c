"""`registry webhook ...` end to end against a live `registry serve` and a local receiver: create, list,
deliveries, a subscription disabled by failures and enabled again, redeliver, delete."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Database
from tests.factories import graduated_pilot, manifest
from tests.helpers import ADMIN, Receiver, free_port, ok, serving, wait_until


@pytest.fixture
def hooked_server(db: Database, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env = {**clean, "REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_PORT": str(port), "REGISTRY_SEED": "false",
           "REGISTRY_ADMIN_TOKEN": ADMIN, "REGISTRY_URL": f"http://127.0.0.1:{port}", "REGISTRY_TOKEN": ADMIN,
           "REGISTRY_WEBHOOK_ALLOW_PRIVATE": "true", "REGISTRY_WEBHOOK_MAX_FAILURES": "1",
           "REGISTRY_WEBHOOK_RETRY_SECONDS": "0.05", "REGISTRY_WEBHOOK_RETRY_MAX_SECONDS": "0.2"}  # fmt: skip
    if db.name == "postgres":
        env["REGISTRY_DATABASE_URL"] = db.url
    else:
        env["REGISTRY_DATA_DIR"] = str(Path(db.url.removeprefix("sqlite:///")).parent)
    asyncio.run(graduated_pilot())
    with serving(env, tmp_path / "server.log"):
        yield env


def _publish(env: dict[str, str], version: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    r = httpx.post(f"{env['REGISTRY_URL']}/api/v1/assets", json=manifest(version=version), headers=headers)
    assert r.status_code == 201, r.text


def test_every_webhook_command_from_the_cli(hooked_server: dict[str, str], receiver: Receiver) -> None:
    env = hooked_server
    created = json.loads(ok(env, "webhook", "create", "--url", receiver.url, "--event", "asset.published", "--json"))
    hook = str(created["id"])
    assert created["secret"].startswith("whsec_")
    receiver.failing = True
    _publish(env, "1.0.0")
    wait_until(lambda: "disabled" in ok(env, "webhook", "list"))  # one failure disables it (max failures 1)
    receiver.failing = False
    assert "enabled" in ok(env, "webhook", "enable", hook)
    wait_until(lambda: len(receiver.received) == 1)
    deliveries = json.loads(ok(env, "webhook", "deliveries", hook, "--json"))
    (delivery,) = [d for d in deliveries["items"] if d["status"] == "delivered"]
    ok(env, "webhook", "redeliver", hook, str(delivery["id"]))
    wait_until(lambda: len(receiver.received) == 2)
    first, again = (headers["webhook-id"] for headers, _ in receiver.received)
    assert first == again  # the same message id: receivers can tell a redelivery
    assert "deleted" in ok(env, "webhook", "delete", hook)
    assert json.loads(ok(env, "webhook", "list", "--json")) == []  # deleted subscriptions are not listed
