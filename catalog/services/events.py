"""Change events for webhooks: which journal actions are events, and the delivery rows a change queues.

Deliveries are written in the transaction of the change itself (an outbox), so an event is sent if and only
if its change committed; the delivery worker sends them after commit.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from piccolo.query.methods.select import Select

from catalog.schemas import utc
from catalog.statements import statement
from catalog.tables import Asset, JournalEntry, Webhook, WebhookDelivery

__all__ = ["EVENT_TYPES", "event_payload", "event_types_of", "fan_out", "fan_out_many", "matches"]

# Journal action -> the event subscribers see; a gate `commit` at stage 4 is also `pilot.graduated`.
_EVENTS = {
    "asset.publish": "asset.published",
    "version.yank": "version.yanked",
    "asset.deprecate": "asset.deprecated",
    "label.move": "label.moved",
    "adoption.record": "adoption.recorded",
    "adoption.retire": "adoption.retired",
    "pilot.gate": "gate.decided",
}
EVENT_TYPES: tuple[str, ...] = (*_EVENTS.values(), "pilot.graduated")


def event_types_of(action: str, payload: dict[str, Any]) -> list[str]:
    """The events a journal entry is (none for most bookkeeping actions)."""
    event = _EVENTS.get(action)
    if event is None:
        return []
    if action == "pilot.gate" and payload.get("decision") == "commit" and payload.get("stage") == 4:
        return [event, "pilot.graduated"]
    return [event]


def event_payload(event: str, entry: JournalEntry) -> dict[str, Any]:
    """The Standard Webhooks body: `type`, `timestamp`, and `data` saying what changed, by whom."""
    _, _, name = entry.subject.partition(":")
    version = name.partition("@")[2] or None
    return {
        "type": event,
        "timestamp": utc(entry.at).isoformat(),
        "data": {
            "journal_id": entry.id,
            "action": entry.action,
            "actor": entry.actor,
            "subject": entry.subject,
            "asset": entry.asset,
            "version": version,
            "pilot": entry.pilot,
            "team": entry.team,
            "detail": entry.payload,
        },
    }


def matches(filters: dict[str, Any], asset: dict[str, Any] | None, team: str | None) -> bool:
    """Whether an event passes a subscription's filters (each given one must match; asset filters need an
    asset, so pilot events pass only filters on the owner)."""
    if filters.get("owner") and filters["owner"] != (asset["owner"] if asset else team):
        return False
    if not any(filters.get(k) for k in ("asset", "kind", "tag")):
        return True
    if asset is None:
        return False
    return (
        filters.get("asset") in (None, asset["slug"])
        and filters.get("kind") in (None, asset["kind"])
        and (not filters.get("tag") or filters["tag"] in asset["tags"])
    )


async def fan_out(entry: JournalEntry) -> int:
    """Queue one delivery per live subscription the entry's events match; returns how many."""
    return await fan_out_many([entry])


@statement
def _live_hooks() -> Select[Any]:
    return Webhook.select(Webhook.id, Webhook.events, Webhook.filters).where(Webhook.deleted_at.is_null())


async def fan_out_many(entries: list[JournalEntry], assets: dict[str, dict[str, Any]] | None = None) -> int:
    """`fan_out` for entries written together; `assets` (slug, kind, tags, owner by slug) spares reading them."""
    typed = [(entry, types) for entry in entries if (types := event_types_of(entry.action, _filters(entry.payload)))]
    if not typed:
        return 0
    # Disabled subscriptions keep queueing: enabling one again sends what happened meanwhile, in order.
    hooks = await _live_hooks.run()
    if not hooks:
        return 0
    known = dict(assets or {})
    if missing := sorted({e.asset for e, _ in typed if e.asset and e.asset not in known}):
        rows = await Asset.select(Asset.slug, Asset.kind, Asset.tags, Asset.owner).where(Asset.slug.is_in(missing))
        known.update({row["slug"]: row for row in rows})
    deliveries = [
        WebhookDelivery(
            webhook=hook["id"],
            message_id=f"msg_{uuid.uuid4().hex}",
            event=event,
            payload=event_payload(event, entry),
            created_at=entry.at,
            next_attempt_at=entry.at,
        )
        for entry, types in typed
        for hook in hooks
        if set(hook["events"]) & set(types)
        and matches(_filters(hook["filters"]), known.get(entry.asset) if entry.asset else None, entry.team)
        for event in types
        if event in hook["events"]
    ]
    if deliveries:
        await WebhookDelivery.insert(*deliveries)
    return len(deliveries)


def _filters(value: Any) -> dict[str, Any]:
    """A JSON column's value as a dict (Piccolo hands JSON back as text unless asked otherwise)."""
    return json.loads(value) if isinstance(value, str) else dict(value or {})
