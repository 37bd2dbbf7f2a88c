"""The delivery worker's bookkeeping: leases on subscriptions, attempts, and the log it prunes.

A subscription is delivered in order: a worker leases it (so one worker at a time sends its events), sends
its oldest pending delivery, and only then the next; a failure backs the subscription off as a whole. After
`max_failures` failed attempts in a row it is disabled (journaled), and enabling it again resumes where it
stopped. A lease names its holder (`leased_by`), so a live worker can give back at once what a dead one held.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from catalog.schemas import SYSTEM, utc
from catalog.services.journal import now, record, write_transaction
from catalog.tables import Webhook, WebhookDelivery

__all__ = [
    "LEASE",
    "Due",
    "backlog",
    "lease_due",
    "lease_holders",
    "mark_delivered",
    "mark_failed",
    "next_due",
    "prune",
    "release",
    "release_all",
    "release_held_by",
    "renew",
]

LEASE = timedelta(seconds=15)  # renewed while a worker sends, so a dead worker's subscriptions come back soon

# Subscriptions whose oldest pending delivery is due and that no live worker holds; PostgreSQL skips rows
# another worker is leasing right now, and the outer check keeps two leases from overlapping.
_LEASE = (
    "UPDATE webhook SET leased_until = {}, leased_by = {} WHERE (leased_until IS NULL OR leased_until < {}) AND id IN ("
    "SELECT w.id FROM webhook w WHERE w.enabled AND w.deleted_at IS NULL "
    "AND (w.leased_until IS NULL OR w.leased_until < {}) AND w.id IN ("
    "SELECT d.webhook FROM webhook_delivery d WHERE d.status = 'pending' AND d.next_attempt_at <= {} "
    "AND d.id = (SELECT MIN(e.id) FROM webhook_delivery e WHERE e.webhook = d.webhook AND e.status = 'pending')"
    ") ORDER BY w.id LIMIT {}) RETURNING id"
)
_LEASE_SKIP_LOCKED = _LEASE.replace("LIMIT {})", "LIMIT {} FOR UPDATE SKIP LOCKED)")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Due:
    """A leased subscription and its oldest pending delivery."""

    webhook_id: int
    url: str
    secret_salt: str
    delivery_id: int
    message_id: str
    payload: dict[str, Any]
    attempts: int


async def lease_due(holder: str = "", limit: int = 20) -> list[int]:
    """Lease subscriptions whose oldest pending delivery is due (each is worked by one worker at a time)."""
    at = now()
    due = (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= at)
    if not await WebhookDelivery.exists().where(due):  # the usual idle answer: a read, no write lock, no commit
        return []
    sql = _LEASE_SKIP_LOCKED if isinstance(Webhook._meta.db, PostgresEngine) else _LEASE
    async with write_transaction():
        rows = await Webhook.raw(sql, at + LEASE, holder, at, at, at, limit)
    return sorted(r["id"] for r in rows)


async def next_due(webhook_id: int) -> Due | None:
    """The leased subscription's oldest pending delivery, if it is due and the subscription still enabled."""
    hook = (
        await Webhook.select(Webhook.url, Webhook.secret_salt, Webhook.enabled, Webhook.deleted_at)
        .where(Webhook.id == webhook_id)
        .first()
    )
    if hook is None or not hook["enabled"] or hook["deleted_at"] is not None:
        return None
    head = (
        await WebhookDelivery.select()
        .where((WebhookDelivery.webhook == webhook_id) & (WebhookDelivery.status == "pending"))
        .order_by(WebhookDelivery.id)
        .first()
    )
    if head is None or utc(head["next_attempt_at"]) > now():
        return None
    return Due(webhook_id, hook["url"], hook["secret_salt"], head["id"], head["message_id"],
               _json(head["payload"]), head["attempts"])  # fmt: skip


async def mark_delivered(due: Due, response_status: int) -> None:
    at = now()
    async with write_transaction():
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: "delivered",
                WebhookDelivery.attempts: due.attempts + 1,
                WebhookDelivery.last_attempt_at: at,
                WebhookDelivery.delivered_at: at,
                WebhookDelivery.response_status: response_status,
                WebhookDelivery.last_error: None,
            }
        ).where(WebhookDelivery.id == due.delivery_id)
        await Webhook.update({Webhook.consecutive_failures: 0, Webhook.leased_until: at + LEASE}).where(
            Webhook.id == due.webhook_id
        )


async def mark_failed(due: Due, error: str, response_status: int | None, delay: timedelta, max_failures: int) -> bool:
    """Record a failed attempt and back off; returns True when the subscription was disabled for it."""
    at = now()
    async with write_transaction():
        await WebhookDelivery.update(
            {
                WebhookDelivery.attempts: due.attempts + 1,
                WebhookDelivery.last_attempt_at: at,
                WebhookDelivery.next_attempt_at: at + delay,
                WebhookDelivery.response_status: response_status,
                WebhookDelivery.last_error: error[:2000],
            }
        ).where(WebhookDelivery.id == due.delivery_id)
        hook = (
            await Webhook.select(Webhook.consecutive_failures, Webhook.team).where(Webhook.id == due.webhook_id).first()
        )
        failures = (hook["consecutive_failures"] if hook else 0) + 1
        disable = failures >= max_failures
        changes: dict[Any, Any] = {Webhook.consecutive_failures: failures}
        if disable:
            reason = f"{failures} failed attempts in a row; last: {error[:300]}"
            changes |= {Webhook.enabled: False, Webhook.disabled_reason: reason}
        await Webhook.update(changes).where(Webhook.id == due.webhook_id)
        if disable and hook is not None:
            await record("webhook.disable", f"webhook:{due.webhook_id}", SYSTEM, {"reason": reason}, at,
                         team=hook["team"])  # fmt: skip
    return disable


async def prune(older_than: timedelta) -> int:
    """Forget delivered events after a while (the journal keeps the history); pending ones are never dropped."""
    gone = (
        await WebhookDelivery.delete()
        .where((WebhookDelivery.status == "delivered") & (WebhookDelivery.delivered_at < now() - older_than))
        .returning(WebhookDelivery.id)
    )
    return len(gone)


async def backlog() -> dict[str, int]:
    """For readiness: deliveries waiting, and subscriptions disabled after failing."""
    live = Webhook.deleted_at.is_null()
    return {
        "pending": await WebhookDelivery.count().where(
            (WebhookDelivery.status == "pending") & (WebhookDelivery.webhook.enabled == True)  # noqa: E712
        ),
        "disabled": await Webhook.count().where(live & (Webhook.enabled == False)),  # noqa: E712
    }


async def renew(webhook_id: int) -> None:
    """Keep a subscription leased while its deliveries are being sent (a receiver may take its time)."""
    await Webhook.update({Webhook.leased_until: now() + LEASE}).where(Webhook.id == webhook_id)


async def release_all() -> int:
    """Give back every lease: for the one sender of a SQLite catalog on start, when no other can hold one."""
    rows = (
        await Webhook.update({Webhook.leased_until: None, Webhook.leased_by: ""})
        .where(Webhook.leased_until.is_not_null())
        .returning(Webhook.id)
    )
    return len(rows)


async def release(webhook_id: int) -> None:
    """Give the lease back (the next round may pick the subscription again)."""
    await Webhook.update({Webhook.leased_until: None, Webhook.leased_by: ""}).where(Webhook.id == webhook_id)


async def lease_holders(besides: str) -> list[str]:
    """Who holds live leases now, but `besides` (a worker asks this to find holders that died)."""
    rows = (
        await Webhook.select(Webhook.leased_by)
        .where((Webhook.leased_until > now()) & (Webhook.leased_by != "") & (Webhook.leased_by != besides))
        .distinct()
    )
    return sorted(str(r["leased_by"]) for r in rows)


async def release_held_by(holder: str) -> int:
    """Give back every lease a holder had (one that is known to be gone)."""
    rows = (
        await Webhook.update({Webhook.leased_until: None, Webhook.leased_by: ""})
        .where(Webhook.leased_by == holder)
        .returning(Webhook.id)
    )
    return len(rows)
