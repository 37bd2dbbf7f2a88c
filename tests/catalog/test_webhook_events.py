"""Which subscriptions an event is queued for: each filter (asset, kind, tag, owner) and `pilot.graduated`."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.schemas import WebhookRequest, parse_manifest
from catalog.services import publishing, webhooks
from catalog.tables import WebhookDelivery
from tests.factories import CLAIMS, FRAUD, graduated_pilot, manifest

pytestmark = pytest.mark.anyio
KEY = b"k" * 40


async def _subscribe(events: list[str], filters: dict[str, str], team: Any = CLAIMS) -> int:
    request = WebhookRequest.model_validate(
        {"url": "https://hooks.example.org/x", "events": events, "filters": filters}
    )
    return (await webhooks.create_webhook(request, team, KEY)).id


async def _queued(webhook_id: int) -> list[tuple[str, str | None]]:
    rows = (
        await WebhookDelivery.select(WebhookDelivery.event, WebhookDelivery.payload)
        .where(WebhookDelivery.webhook == webhook_id)
        .order_by(WebhookDelivery.id)
        .output(load_json=True)
    )
    return [(r["event"], r["payload"]["data"]["asset"]) for r in rows]


async def test_filters_and_the_graduation_event_pick_the_subscriptions(db: object) -> None:
    graduation = await _subscribe(["gate.decided", "pilot.graduated"], {"owner": "claims-ai"})
    others_pilots = await _subscribe(["pilot.graduated"], {"owner": "fraud-ai"}, FRAUD)
    monitors = await _subscribe(["asset.published"], {"kind": "monitor"})
    tagged = await _subscribe(["asset.published"], {"tag": "triage"})
    one_asset = await _subscribe(["asset.published"], {"asset": "claims-hallucination-monitor"})
    await graduated_pilot()
    for kind, slug, tags in [("prompt", "claims-triage-prompt", ["claims", "triage"]),
                             ("monitor", "claims-hallucination-monitor", ["claims"])]:  # fmt: skip
        await publishing.publish_version(parse_manifest(manifest(kind, slug, tags=tags)), CLAIMS)
    assert await _queued(graduation) == [("gate.decided", None)] * 4 + [("pilot.graduated", None)]
    assert await _queued(others_pilots) == []  # another team's pilot
    assert await _queued(monitors) == [("asset.published", "claims-hallucination-monitor")]
    assert await _queued(tagged) == [("asset.published", "claims-triage-prompt")]
    assert await _queued(one_asset) == [("asset.published", "claims-hallucination-monitor")]
