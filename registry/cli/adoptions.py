"""`registry adopt` and `registry adoption list|retire`: reuse, recorded over HTTP."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from registry.cli.client import RegistryClient
from registry.cli.common import EXIT_CODES, done, json_output, print_json, settings_of, wide

__all__ = ["adopt", "adoption"]


@click.command(epilog=EXIT_CODES)
@click.argument("target", metavar="SLUG@VERSION")
@click.option("--pilot", "pilot_slug", required=True, help="the adopting pilot")
@click.option("--mode", type=click.Choice(["as_is", "adapted", "forked"]), default="as_is", show_default=True)
@click.option("--hours-saved", type=click.FloatRange(min=0), default=0.0, help="estimated hours this saved")
@click.option("--note", default="")
@json_output
@click.pass_context
def adopt(ctx: click.Context, target: str, pilot_slug: str, mode: str, hours_saved: float, note: str) -> None:
    """Record that a pilot adopted an asset. VERSION may be a label (production) or omitted for the latest."""
    slug, _, version = target.partition("@")
    body = {
        "asset": slug,
        "version": version or None,
        "pilot": pilot_slug,
        "mode": mode,
        "hours_saved": hours_saved,
        "note": note,
    }
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", "/api/v1/adoptions", json=body)
    warnings = "".join(f"\nwarning: {w}" for w in result.get("warnings") or [])
    what = f"{result['pilot']} adopted {result['asset']}@{result['version']} ({result['mode']})"
    done(result, f"adoption {result['id']}: {what}{warnings}")


@click.group(epilog=EXIT_CODES)
def adoption() -> None:
    """Adoptions: list and retire (client commands over HTTP)."""


@adoption.command("list")
@click.option("--asset", help="adoptions of this asset")
@click.option("--pilot", "pilot_slug", help="adoptions by this pilot")
@click.option("--active/--retired", default=None, help="only active, or only retired ones")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def adoption_list(
    ctx: click.Context, asset: str | None, pilot_slug: str | None, active: bool | None, limit: int, as_json: bool
) -> None:
    """Adoptions, oldest first, with the warnings that hold now (yanked, deprecated, newer release)."""
    params: dict[str, Any] = {"asset": asset, "pilot": pilot_slug, "limit": limit}
    if active is not None:
        params["active"] = str(active).lower()
    with RegistryClient(settings_of(ctx)) as client:
        page = client.json("GET", "/api/v1/adoptions", params={k: v for k, v in params.items() if v is not None})
    if as_json:
        print_json(page)
        return
    table = Table(title=f"{page['total']} adoptions", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("asset@version", no_wrap=True)
    table.add_column("pilot", no_wrap=True)
    for name in ("mode", "hours", "adopted", "state", "warnings"):
        table.add_column(name)
    for a in page["items"]:
        state = "active" if a["active"] else f"retired {a['retired_at'][:10]}"
        table.add_row(str(a["id"]), f"{a['asset']}@{a['version']}", a["pilot"], a["mode"], f"{a['hours_saved']:g}",
                      a["adopted_at"][:10], state, escape("; ".join(a["warnings"])))  # fmt: skip
    wide().print(table)


@adoption.command("retire")
@click.argument("adoption_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--reason", default="", help="why it is no longer used")
@json_output
@click.pass_context
def adoption_retire(ctx: click.Context, adoption_id: int, reason: str) -> None:
    """Mark an adoption as no longer in use (it stays in history and counts for the time it was active)."""
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", f"/api/v1/adoptions/{adoption_id}/retire", json={"reason": reason})
    done(
        result,
        f"retired adoption {adoption_id}: {result['pilot']} no longer uses {result['asset']}@{result['version']}",
    )
