"""`registry webhook ...`: a team's subscriptions to change events, their delivery log and redelivery."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from catalog.schemas import KINDS
from catalog.services.events import EVENT_TYPES
from registry.cli.client import RegistryClient
from registry.cli.common import done, json_output, print_json
from registry.settings import Settings

__all__ = ["webhook"]

out = Console(highlight=False, soft_wrap=True)


def _print(value: Any, as_json: bool, table: Table) -> None:
    if as_json:
        click.echo(json.dumps(value, indent=2))
    else:
        (out if out.is_terminal else Console(highlight=False, width=220)).print(table)


@click.group()
def webhook() -> None:
    """Signed webhooks (Standard Webhooks) for your team: subscribe CI or chat to what changes."""


@webhook.command("create")
@click.option("--url", required=True, help="where events are POSTed (public http or https)")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(EVENT_TYPES), help="repeatable")
@click.option("--asset", help="only events of this asset")
@click.option("--kind", type=click.Choice(KINDS), help="only events of assets of this kind")
@click.option("--tag", help="only events of assets with this tag")
@click.option("--owner", help="only events of what this team owns")
@click.option("--description", default="")
@click.option("--json", "as_json", is_flag=True, help="print the new subscription (with its secret) as JSON")
@click.pass_obj
def webhook_create(
    settings: Settings,
    url: str,
    events: tuple[str, ...],
    asset: str | None,
    kind: str | None,
    tag: str | None,
    owner: str | None,
    description: str,
    as_json: bool,
) -> None:
    """Subscribe; prints the signing secret once (store it where the receiver verifies signatures)."""
    filters = {"asset": asset, "kind": kind, "tag": tag, "owner": owner}
    body = {"url": url, "events": list(events), "description": description,
            "filters": {k: v for k, v in filters.items() if v}}  # fmt: skip
    with RegistryClient(settings) as client:
        created = client.json("POST", "/api/v1/webhooks", json=body)
    if as_json:
        print_json(created)
        return
    click.echo(f"webhook {created['id']} -> {created['url']} ({', '.join(created['events'])})", err=True)
    click.echo("signing secret (shown once):", err=True)
    click.echo(created["secret"])


@webhook.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def webhook_list(settings: Settings, as_json: bool) -> None:
    """Your team's subscriptions (the admin sees every team's)."""
    with RegistryClient(settings) as client:
        hooks = client.json("GET", "/api/v1/webhooks")
    table = Table("id", "team", "url", "events", "state", "pending")
    for h in hooks:
        state = "enabled" if h["enabled"] else f"disabled: {h['disabled_reason']}"
        table.add_row(str(h["id"]), h["team"], h["url"], ", ".join(h["events"]), escape(state), str(h["pending"]))
    _print(hooks, as_json, table)


@webhook.command("deliveries")
@click.argument("webhook_id", type=int)
@click.option("--status", type=click.Choice(["pending", "delivered"]))
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def webhook_deliveries(settings: Settings, webhook_id: int, status: str | None, limit: int, as_json: bool) -> None:
    """The delivery log, newest first."""
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
    with RegistryClient(settings) as client:
        page = client.json("GET", f"/api/v1/webhooks/{webhook_id}/deliveries", params=params)
    table = Table("id", "event", "status", "attempts", "answer", "error", "created (UTC)")
    for d in page["items"]:
        table.add_row(str(d["id"]), d["event"], d["status"], str(d["attempts"]), str(d["response_status"] or "-"),
                      escape(d["last_error"] or ""), d["created_at"][:19].replace("T", " "))  # fmt: skip
    _print(page, as_json, table)


@webhook.command("redeliver")
@click.argument("webhook_id", type=int)
@click.argument("delivery_id", type=int)
@json_output
@click.pass_obj
def webhook_redeliver(settings: Settings, webhook_id: int, delivery_id: int) -> None:
    """Send one event again (same webhook-id), after what is pending."""
    with RegistryClient(settings) as client:
        again = client.json("POST", f"/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
    done(again, f"queued delivery {again['id']} ({again['event']}, {again['message_id']})")


@webhook.command("enable")
@click.argument("webhook_id", type=int)
@json_output
@click.pass_obj
def webhook_enable(settings: Settings, webhook_id: int) -> None:
    """Turn a disabled subscription back on; what is pending goes out in order."""
    with RegistryClient(settings) as client:
        hook = client.json("POST", f"/api/v1/webhooks/{webhook_id}/enable")
    done(hook, f"webhook {hook['id']} enabled; {hook['pending']} pending")


@webhook.command("delete")
@click.argument("webhook_id", type=int)
@json_output
@click.pass_obj
def webhook_delete(settings: Settings, webhook_id: int) -> None:
    """Stop a subscription (its delivery log is kept)."""
    with RegistryClient(settings) as client:
        hook = client.json("DELETE", f"/api/v1/webhooks/{webhook_id}")
    done(hook, f"webhook {webhook_id} deleted")
