"""Webhook targets: IPv6 forms that carry an IPv4 address are judged by it, special-use names are refused
before any lookup, and a delivery connects to the address that was checked (no second lookup to rebind)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from catalog.services.deliveries import Due
from registry.settings import Settings
from registry.workers.webhooks import DeliveryWorker, TargetRefused, check_target, is_public
from tests.conftest import Api
from tests.helpers import Receiver, assert_problem

INSIDE = [
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # IPv4-translated
    "64:ff9b::7f00:1",  # NAT64 (well-known prefix)
    "64:ff9b:1::a00:1",  # NAT64 (local-use prefix)
    "2002:7f00:1::",  # 6to4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (client 192.0.2.45)
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
]
OUTSIDE = ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INSIDE)
def test_ipv6_forms_embedding_an_inside_ipv4_address_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", OUTSIDE)
def test_public_addresses_stay_public(address: str) -> None:
    assert is_public(address)


def test_subscribing_to_an_embedded_inside_address_is_a_422(api: Api) -> None:
    for address in INSIDE:
        body = {"url": f"http://[{address}]/hook", "events": ["asset.published"]}
        problem = assert_problem(api.client.post("/api/v1/webhooks", json=body, headers=api.auth("claims")), 422)
        assert problem["errors"][0]["pointer"] == "/url" and "public addresses only" in problem["detail"], address


async def _no_lookup(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} was looked up")


@pytest.mark.parametrize("host", ["no-such-host.invalid", "hooks.test", "printer.local", "localhost", "a.localhost"])
def test_special_use_names_are_refused_before_any_lookup(host: str) -> None:
    with pytest.raises(TargetRefused, match="special-use name"):
        asyncio.run(check_target(f"http://{host}/hook", allow_private=False, resolve=_no_lookup))


def test_a_delivery_connects_to_the_checked_address_with_the_original_host(
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    port = httpx.URL(receiver.url).port
    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    settings = Settings.model_validate({"data_dir": tmp_path, "webhook_allow_private": True})
    worker = DeliveryWorker(settings, resolve=resolve)
    due = Due(1, f"http://receiver.example.org:{port}/hooks/registry", "salt", 1, "msg_1", {"type": "x"}, 0)

    async def send() -> tuple[int | None, str | None]:
        async with worker.client() as client:
            return await worker.send(client, due)

    assert asyncio.run(send()) == (204, None)
    assert looked_up == ["receiver.example.org"]
    headers, _ = receiver.received[0]
    assert headers["host"] == f"receiver.example.org:{port}"
