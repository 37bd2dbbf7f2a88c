"""Webhook subscriptions (a team's), their signing secrets and their delivery log as teams read it.

Nothing is deleted: a deleted subscription stops receiving and keeps its log. What the delivery worker does
with the queued deliveries (leases, attempts) is `catalog.services.deliveries`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from catalog.errors import Conflict, NotFound, PermissionDenied
from catalog.schemas import Actor, DeliveryOut, DeliveryPage, NewWebhook, WebhookOut, WebhookRequest, utc
from catalog.services.journal import now, record, write_transaction
from catalog.tables import Webhook, WebhookDelivery
from catalog.writer import writes

__all__ = [
    "create_webhook",
    "delete_webhook",
    "deliveries",
    "enable_webhook",
    "foreign_key_subscriptions",
    "get_webhook",
    "key_fingerprint",
    "list_webhooks",
    "redeliver",
    "signing_secret",
    "stamp_key",
]


def key_fingerprint(key: bytes) -> str:
    """Names the webhook key without revealing it: subscriptions and backups carry it, so a registry started
    with another key (a backup restored elsewhere) can say so instead of signing what no receiver accepts."""
    return hmac.new(key, b"registry webhook key fingerprint", hashlib.sha256).hexdigest()[:16]


async def foreign_key_subscriptions(fingerprint: str) -> int:
    """Live subscriptions created with a webhook key other than the one of this fingerprint."""
    found: int = await Webhook.count().where(
        Webhook.deleted_at.is_null() & (Webhook.key_fingerprint != "") & (Webhook.key_fingerprint != fingerprint)
    )
    return found


async def stamp_key(fingerprint: str) -> None:
    """Subscriptions made before fingerprints were kept were made with this registry's key: say so."""
    await Webhook.update({Webhook.key_fingerprint: fingerprint}).where(Webhook.key_fingerprint == "")


def signing_secret(key: bytes, webhook_id: int, salt: str) -> str:
    """The subscription's Standard Webhooks secret, derived from the registry's key (never stored)."""
    digest = hmac.new(key, f"webhook:{webhook_id}:{salt}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _out(row: dict[str, Any]) -> WebhookOut:
    pending = await WebhookDelivery.count().where(
        (WebhookDelivery.webhook == row["id"]) & (WebhookDelivery.status == "pending")
    )
    return WebhookOut(
        id=row["id"],
        team=row["team"],
        url=row["url"],
        events=list(row["events"]),
        filters=_json(row["filters"]) or {},
        description=row["description"],
        enabled=row["enabled"] and row["deleted_at"] is None,
        disabled_reason="deleted" if row["deleted_at"] is not None else row["disabled_reason"],
        consecutive_failures=row["consecutive_failures"],
        pending=pending,
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),
    )


async def _row(webhook_id: int, viewer: Actor) -> dict[str, Any]:
    """A live subscription the viewer's team owns (admin: any)."""
    row = await Webhook.select().where((Webhook.id == webhook_id) & Webhook.deleted_at.is_null()).first()
    if row is None:
        raise NotFound(f"no webhook has id {webhook_id}", code="webhook-not-found")
    if not viewer.may_act_for(row["team"]):
        raise PermissionDenied(
            f"webhook {webhook_id} belongs to team {row['team']!r}; your token is for team {viewer.team!r}"
        )
    return dict(row)


@writes
async def create_webhook(
    request: WebhookRequest, actor: Actor, key: bytes, *, at: datetime | None = None
) -> NewWebhook:
    """Subscribe the actor's team; the signing secret is in the answer and nowhere else."""
    at = at or now()
    salt = secrets.token_hex(16)
    filters = request.filters.model_dump(exclude_none=True)
    async with write_transaction():
        inserted = await Webhook.insert(
            Webhook(
                team=actor.team,
                url=request.url,
                description=request.description,
                events=sorted(set(request.events)),
                filters=filters,
                secret_salt=salt,
                key_fingerprint=key_fingerprint(key),
                created_by=actor.label,
                created_at=at,
            )
        )
        webhook_id = inserted[0]["id"]
        detail = {"webhook": webhook_id, "url": request.url, "events": sorted(set(request.events)), "filters": filters}
        await record("webhook.create", f"webhook:{webhook_id}", actor, detail, at, team=actor.team)
        out = await _out(await _row(webhook_id, actor))
    return NewWebhook(**out.model_dump(), secret=signing_secret(key, webhook_id, salt))


async def list_webhooks(viewer: Actor) -> list[WebhookOut]:
    """The viewer's team's subscriptions (admin: every team's), deleted ones left out."""
    query = Webhook.select().where(Webhook.deleted_at.is_null()).order_by(Webhook.id)
    if not viewer.is_admin:
        query = query.where(Webhook.team == viewer.team)
    return [await _out(dict(r)) for r in await query]


async def get_webhook(webhook_id: int, viewer: Actor) -> WebhookOut:
    return await _out(await _row(webhook_id, viewer))


@writes
async def delete_webhook(webhook_id: int, actor: Actor, *, at: datetime | None = None) -> WebhookOut:
    """Stop a subscription; its delivery log stays readable for the admin."""
    at = at or now()
    async with write_transaction():
        row = await _row(webhook_id, actor)
        await Webhook.update({Webhook.deleted_at: at, Webhook.enabled: False}).where(Webhook.id == webhook_id)
        await record("webhook.delete", f"webhook:{webhook_id}", actor, {"url": row["url"]}, at, team=row["team"])
        row.update(deleted_at=at, enabled=False)
    return await _out(row)


@writes
async def enable_webhook(webhook_id: int, actor: Actor, *, at: datetime | None = None) -> WebhookOut:
    """Turn a disabled subscription back on: what is pending is sent now, in order."""
    at = at or now()
    async with write_transaction():
        row = await _row(webhook_id, actor)
        if row["enabled"]:
            raise Conflict(f"webhook {webhook_id} is already enabled", code="already-enabled")
        await Webhook.update(
            {Webhook.enabled: True, Webhook.disabled_reason: None, Webhook.consecutive_failures: 0}
        ).where(Webhook.id == webhook_id)
        await WebhookDelivery.update({WebhookDelivery.next_attempt_at: at}).where(
            (WebhookDelivery.webhook == webhook_id) & (WebhookDelivery.status == "pending")
        )
        await record("webhook.enable", f"webhook:{webhook_id}", actor, {}, at, team=row["team"])
    return await get_webhook(webhook_id, actor)


def _delivery(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=row["id"],
        webhook=row["webhook"],
        message_id=row["message_id"],
        event=row["event"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=utc(row["created_at"]),
        next_attempt_at=utc(row["next_attempt_at"]) if row["status"] == "pending" else None,
        last_attempt_at=utc(row["last_attempt_at"]) if row["last_attempt_at"] else None,
        response_status=row["response_status"],
        last_error=row["last_error"],
        delivered_at=utc(row["delivered_at"]) if row["delivered_at"] else None,
        payload=_json(row["payload"]),
    )


async def deliveries(
    webhook_id: int, viewer: Actor, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> DeliveryPage:
    """The subscription's delivery log, newest first."""
    await _row(webhook_id, viewer)
    query, count = WebhookDelivery.select(), WebhookDelivery.count()
    condition: Any = WebhookDelivery.webhook == webhook_id
    if status:
        condition &= WebhookDelivery.status == status
    rows = await query.where(condition).order_by(WebhookDelivery.id, ascending=False).limit(limit).offset(offset)
    return DeliveryPage(total=await count.where(condition), items=[_delivery(dict(r)) for r in rows])


@writes
async def redeliver(webhook_id: int, delivery_id: int, actor: Actor, *, at: datetime | None = None) -> DeliveryOut:
    """Send an event again (same `webhook-id`, so receivers can tell), after whatever is pending."""
    at = at or now()
    async with write_transaction():
        hook = await _row(webhook_id, actor)
        row = (
            await WebhookDelivery.select()
            .where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.webhook == webhook_id))
            .first()
        )
        if row is None:
            raise NotFound(f"webhook {webhook_id} has no delivery {delivery_id}", code="delivery-not-found")
        again = WebhookDelivery(
            webhook=webhook_id,
            message_id=row["message_id"],
            event=row["event"],
            payload=_json(row["payload"]),
            created_at=at,
            next_attempt_at=at,
        )
        await WebhookDelivery.insert(again)
        detail = {"delivery": delivery_id, "redelivery": again.id, "event": row["event"]}
        await record("webhook.redeliver", f"webhook:{webhook_id}", actor, detail, at, team=hook["team"])
    found = await WebhookDelivery.select().where(WebhookDelivery.id == again.id).first()
    return _delivery(dict(found or {}))
