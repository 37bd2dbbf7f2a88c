"""Sending webhooks: the signing key, the target check, and the delivery worker.

Deliveries are rows written with the change (the outbox in `catalog.services.webhooks`); this worker sends
them after commit, signed the Standard Webhooks way, at least once and in order per subscription, backing
off while a receiver fails. Targets are checked when subscribed and again before each attempt (a name may
resolve elsewhere later): loopback, private, link-local and other non-public addresses are refused unless
the operator allows them, so a webhook cannot reach into the registry's own network. Redirects are not
followed for the same reason.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
import os
import secrets
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from piccolo.engine.postgres import PostgresEngine
from standardwebhooks.webhooks import Webhook as Signer

from catalog.errors import FieldProblem, InvalidInput
from catalog.services import deliveries, webhooks
from registry.settings import Settings
from registry.workers.presence import Presence
from registry.workers.process_locks import ProcessLock, held_when_free

__all__ = [
    "DeliveryWorker",
    "Resolver",
    "TargetRefused",
    "check_target",
    "is_public",
    "key_mismatch",
    "run_deliveries",
    "system_resolver",
    "webhook_key",
]

log = logging.getLogger("registry.webhooks")
USER_AGENT = "platform-asset-registry-webhooks/1"
_RESOLVE_SECONDS = 5.0


def webhook_key(settings: Settings) -> bytes:
    """REGISTRY_WEBHOOK_KEY, or a key generated once into the data dir (readable by the owner only)."""
    if settings.webhook_key is not None:
        return settings.webhook_key.get_secret_value().encode()
    path = Path(settings.data_dir) / ".webhook-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip().encode()


KEY_ADVICE = (
    "set REGISTRY_WEBHOOK_KEY to the key they were created with (or copy the .webhook-key file of their "
    "data dir); until then receivers refuse every delivery as forged"
)


async def key_mismatch(settings: Settings) -> str | None:
    """What is wrong when live subscriptions were created with another webhook key than this registry's."""
    foreign = await webhooks.foreign_key_subscriptions(webhooks.key_fingerprint(webhook_key(settings)))
    if not foreign:
        return None
    return (
        f"{foreign} webhook subscription{'s were' if foreign != 1 else ' was'} created with another key: {KEY_ADVICE}"
    )


class TargetRefused(Exception):
    """The URL may not receive webhooks (scheme, or an address inside the registry's network)."""


Resolver = Callable[[str, int], Awaitable[list[str]]]
# Special-use names (RFC 6761, 6762) never resolve on the internet: refused before any lookup.
_NEVER_PUBLIC = (".invalid", ".test", ".example", ".local", ".localhost")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# NAT64, IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d): the IPv4 address is the last 32 bits.
_EMBEDS_LAST_32 = (_NAT64, ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, as the operating system answers (tests inject their own)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), _RESOLVE_SECONDS)
    except TimeoutError as err:
        raise TargetRefused(f"{host} did not resolve within {_RESOLVE_SECONDS:.0f} s") from err
    except (socket.gaierror, UnicodeError) as err:
        raise TargetRefused(f"{host} does not resolve ({err})") from err
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, translated, NAT64, 6to4, Teredo), if any:
    traffic to it ends up there, so it is judged by that address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in network for network in _EMBEDS_LAST_32):
        return ipaddress.IPv4Address(ip.packed[12:])
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ip.teredo[1] if ip.teredo is not None else None


def is_public(address: str) -> bool:
    """Whether an address is on the public internet, judging an IPv6 address by the IPv4 one it embeds."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        inner = embedded_ipv4(ip)
        return inner is None or (inner.is_global and not inner.is_multicast)
    return True


async def check_target(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> list[str]:
    """Refuse what must not receive webhooks (other schemes, credentials in the URL, non-public addresses);
    return the addresses checked, which the delivery then connects to (no second lookup to rebind)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("only http and https URLs with a host can receive webhooks")
    if parts.username or parts.password:
        raise TargetRefused("put no credentials in the URL; verify the signature instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise TargetRefused(f"the port is not valid ({err})") from err
    host = parts.hostname.rstrip(".")
    if not allow_private and (host == "localhost" or host.endswith(_NEVER_PUBLIC)):
        raise TargetRefused(f"{host} is a special-use name that never reaches a public address")
    addresses = await resolve(host, port)
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    for address in addresses if not allow_private else ():
        if not is_public(address):
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, a loopback, private or reserved address; webhooks go to "
                "public addresses only (an operator can allow others with REGISTRY_WEBHOOK_ALLOW_PRIVATE=true)"
            )
    return addresses


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL aimed at a checked address, with the Host header and TLS name of the original one."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    target = urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))
    return target, {"host": parts.netloc}, {"sni_hostname": parts.hostname or ""}


async def checked_url(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> str:
    """`check_target` as a 422 on the `url` field, for subscriptions."""
    try:
        await check_target(url, allow_private, resolve)
    except TargetRefused as err:
        raise InvalidInput(
            f"this URL cannot receive webhooks: {err}",
            [FieldProblem("/url", str(err), "give a public http(s) URL of a service that accepts POSTs")],
            code="webhook-target-refused",
        ) from err
    return url


async def _keep_leased(webhook_id: int) -> None:
    """Renew a subscription's lease for as long as its deliveries are being sent (cancelled when done)."""
    while True:
        await asyncio.sleep(deliveries.LEASE.total_seconds() / 3)
        await deliveries.renew(webhook_id)


async def run_deliveries(worker: DeliveryWorker, sender: ProcessLock | PostgresEngine, stop: asyncio.Event) -> None:
    """Send webhooks: on PostgreSQL in every process, leases keeping them apart and each worker's presence
    telling the others when it died; on SQLite in one process per data dir (`sender`, its lock), which takes
    back at once the leases a dead predecessor held (no other process can hold one)."""
    if isinstance(sender, PostgresEngine):
        worker.presence = Presence(worker.holder, sender)
        try:
            await worker.presence.start()
            await worker.presence.take_back()
            await worker.run_forever(stop)
        finally:
            await worker.presence.close()
        return
    lock = sender
    try:
        if not await held_when_free(lock, stop):
            return
        if taken := await deliveries.release_all():
            log.info("took back %d webhook subscriptions a previous process had leased", taken)
        await worker.run_forever(stop)
    finally:
        lock.release()


class DeliveryWorker:
    """Leases subscriptions with due deliveries and sends them, oldest first, one subscription per task."""

    def __init__(
        self, settings: Settings, *, idle_seconds: float = 0.5, per_round: int = 50, resolve: Resolver = system_resolver
    ) -> None:
        self.key = webhook_key(settings)
        self.resolve = resolve
        self.allow_private = settings.webhook_allow_private
        self.retry = settings.webhook_retry_seconds
        self.retry_max = settings.webhook_retry_max_seconds
        self.max_failures = settings.webhook_max_failures
        self.timeout = settings.webhook_timeout_seconds
        self.idle_seconds = idle_seconds
        self.per_round = per_round
        self.keep = timedelta(days=settings.webhook_log_days)
        self.holder = uuid.uuid4().hex  # names this worker's leases
        self.presence: Presence | None = None  # on PostgreSQL: how it learns that another worker died

    def delay(self, attempts: int) -> timedelta:
        """Before attempt n + 1: retry, 2 x retry, 4 x retry ... capped."""
        return timedelta(seconds=min(self.retry * 2 ** min(attempts, 30), self.retry_max))

    async def send(self, client: httpx.AsyncClient, due: deliveries.Due) -> tuple[int | None, str | None]:
        """One attempt: (status, error); no error means the receiver took it (2xx)."""
        try:
            addresses = await check_target(due.url, self.allow_private, self.resolve)
        except TargetRefused as err:
            return None, str(err)
        url, host, extensions = pinned(due.url, addresses[0])
        body = json.dumps(due.payload, separators=(",", ":"), ensure_ascii=False)
        stamp = datetime.now(UTC)
        secret = webhooks.signing_secret(self.key, due.webhook_id, due.secret_salt)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": due.message_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Signer(secret).sign(due.message_id, stamp, body),
            **host,
        }
        try:
            request = client.build_request("POST", url, content=body.encode(), headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            status = response.status_code
            await response.aclose()
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"
        if 200 <= status < 300:
            return status, None
        return status, f"the receiver answered {status}"

    async def work(self, client: httpx.AsyncClient, webhook_id: int) -> int:
        """Send one leased subscription's due deliveries in order; stop at the first failure."""
        sent = 0
        heartbeat = asyncio.create_task(_keep_leased(webhook_id))
        try:
            while sent < self.per_round and (due := await deliveries.next_due(webhook_id)) is not None:
                status, error = await self.send(client, due)
                if error is None:
                    await deliveries.mark_delivered(due, status or 200)
                    sent += 1
                    continue
                disabled = await deliveries.mark_failed(due, error, status, self.delay(due.attempts), self.max_failures)
                log.warning("webhook %d delivery %d failed: %s%s", webhook_id, due.delivery_id, error,
                            " (subscription disabled)" if disabled else "")  # fmt: skip
                break
        finally:
            heartbeat.cancel()
            await deliveries.release(webhook_id)
        return sent

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """One round over every subscription with something due; returns the deliveries that went out."""
        leased = await deliveries.lease_due(self.holder)
        if not leased:
            return 0
        done = await asyncio.gather(*(self.work(client, w) for w in leased), return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                log.error("webhook delivery round failed", exc_info=result)
        return sum(r for r in done if isinstance(r, int))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The worker loop; it survives database hiccups (logged) and stops between rounds."""
        rounds = 0
        async with self.client() as client:
            while not stop.is_set():
                try:
                    sent = await self.run_once(client)
                    rounds += 1
                    if self.presence is not None and rounds % 20 == 0:  # every ten seconds or so when idle
                        await self.presence.take_back()
                    if rounds % 7200 == 1:  # about hourly when idle
                        await deliveries.prune(self.keep)
                except Exception:
                    log.exception("webhook delivery round failed")
                    sent = 0
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle_seconds)
