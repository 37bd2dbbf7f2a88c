"""Webhook subscriptions of a team, their delivery log, redelivery and re-enabling."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from catalog.schemas import Actor, DeliveryOut, DeliveryPage, NewWebhook, WebhookOut, WebhookRequest
from catalog.services import webhooks
from registry.api.params import Offset, RowId
from registry.settings import Settings
from registry.workers.webhooks import checked_url, webhook_key

__all__ = ["WebhookController"]


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class WebhookController(Controller):
    """Every route needs a token: subscriptions belong to the token's team (the admin sees all)."""

    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    opt = {"scope": "publish"}

    @post("/", summary="Subscribe your team to change events (the signing secret is in the answer, once)")
    async def create(
        self, request: Request[Any, Any, Any], data: JSONBody[WebhookRequest], actor: NamedDependency[Actor]
    ) -> NewWebhook:
        settings = _settings(request)
        await checked_url(data.url, settings.webhook_allow_private)
        return await webhooks.create_webhook(data, actor, webhook_key(settings))

    @get("/", summary="Your team's subscriptions (admin: every team's)")
    async def list(self, actor: NamedDependency[Actor]) -> list[WebhookOut]:
        return await webhooks.list_webhooks(actor)

    @get("/{webhook_id:int}", summary="One subscription")
    async def show(self, webhook_id: RowId, actor: NamedDependency[Actor]) -> WebhookOut:
        return await webhooks.get_webhook(webhook_id, actor)

    @delete("/{webhook_id:int}", status_code=200, summary="Stop a subscription (its log is kept)")
    async def remove(self, webhook_id: RowId, actor: NamedDependency[Actor]) -> WebhookOut:
        return await webhooks.delete_webhook(webhook_id, actor)

    @post("/{webhook_id:int}/enable", status_code=200, summary="Turn a disabled subscription back on")
    async def enable(self, webhook_id: RowId, actor: NamedDependency[Actor]) -> WebhookOut:
        return await webhooks.enable_webhook(webhook_id, actor)

    @get("/{webhook_id:int}/deliveries", summary="The delivery log, newest first: status, attempts, last answer")
    async def deliveries(
        self,
        webhook_id: RowId,
        actor: NamedDependency[Actor],
        status: Annotated[
            Literal["pending", "delivered"] | None, QueryParameter(description="only pending or delivered ones")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> DeliveryPage:
        return await webhooks.deliveries(webhook_id, actor, status=status, limit=limit, offset=offset)

    @post(
        "/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
        status_code=201,
        summary="Send an event again (same webhook-id), after what is pending",
    )
    async def redeliver(self, webhook_id: RowId, delivery_id: RowId, actor: NamedDependency[Actor]) -> DeliveryOut:
        return await webhooks.redeliver(webhook_id, delivery_id, actor)
