"""Webhook subscriptions and their deliveries: what teams send and what reads return."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.schemas.common import Kind, Slug, StrictModel, Url, examples

__all__ = ["DeliveryOut", "DeliveryPage", "EventType", "NewWebhook", "WebhookFilters", "WebhookOut", "WebhookRequest"]

EventType = Literal[
    "asset.published",
    "version.yanked",
    "asset.deprecated",
    "label.moved",
    "adoption.recorded",
    "adoption.retired",
    "gate.decided",
    "pilot.graduated",
]


class WebhookFilters(StrictModel):
    """Optional; every one given must match (pilot events carry no asset, so they pass only `owner`)."""

    asset: Slug | None = Field(default=None, description="only events of this asset")
    kind: Kind | None = Field(default=None, description="only events of assets of this kind")
    tag: str | None = Field(default=None, max_length=50, description="only events of assets with this tag")
    owner: Slug | None = Field(default=None, description="only events of what this team owns")


class WebhookRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({
        "url": "https://ci.example.com/hooks/registry", "events": ["version.yanked", "asset.deprecated"],
        "filters": {"owner": "claims-ai"}, "description": "Tell the claims CI when what it pulls changes.",
    }))  # fmt: skip

    url: Url = Field(description="where events are POSTed: http(s); no private addresses unless the operator allows")
    events: list[EventType] = Field(min_length=1, max_length=8, description="the event types to receive")
    filters: WebhookFilters = Field(default_factory=WebhookFilters)
    """only events that match every filter given"""
    description: str = Field(default="", max_length=500)
    """what the subscription is for"""


class WebhookOut(BaseModel):
    id: int
    team: str
    url: str
    events: list[str]
    filters: dict[str, Any]
    description: str
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    pending: int = Field(description="deliveries not yet delivered")
    created_by: str
    created_at: datetime


class NewWebhook(WebhookOut):
    secret: str = Field(
        description="the signing secret (Standard Webhooks `whsec_...`), shown once: verify `webhook-signature` with it"
    )


class DeliveryOut(BaseModel):
    id: int
    webhook: int
    message_id: str = Field(description="the `webhook-id` header; a redelivery keeps it")
    event: str
    status: Literal["pending", "delivered"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    total: int
    items: list[DeliveryOut]
