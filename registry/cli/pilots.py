"""`registry pilot ...`: pilots and their stage gates over HTTP."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from registry.cli.client import RegistryClient
from registry.cli.common import EXIT_CODES, done, json_output, out, pairs, print_json, read_data_file, settings_of, wide

__all__ = ["pilot"]

_STATUS = click.Choice(["active", "graduated", "killed"])


@click.group(epilog=EXIT_CODES)
def pilot() -> None:
    """Pilots and their stage gates (client commands)."""


@pilot.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_output
@click.pass_context
def pilot_create(ctx: click.Context, file: Path) -> None:
    """Register a pilot from a YAML or JSON FILE.

    \b
    slug: claims-email-triage          # 2-63 lowercase letters, digits, hyphens
    name: Claims email triage
    team: claims-ai                    # the team running it
    budget_owner: Head of Claims Operations
    problem: Claims emails wait a day before anyone reads them.
    baseline: {metric: hours to first action, value: 26, unit: h}
    target: {metric: hours to first action, value: 4, unit: h}
    value_per_month: {amount: 900, unit: hours}   # hours or usd

    Gate 1 needs budget_owner, baseline and target; the rest can come later (`registry pilot update`).
    """
    data = read_data_file(file, what="pilot file")
    data.pop("gates", None)  # a seed-style file: its history is recorded gate by gate
    if isinstance(data.get("created_at"), date):
        data["created_at"] = data["created_at"].isoformat()  # YAML reads dates; the API takes ISO text
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", "/api/v1/pilots", json=data)
    done(result, f"created pilot {result['slug']} (team {result['team']}, stage {result['stage']})")


@pilot.command("gate")
@click.argument("slug")
@click.option("--stage", type=click.IntRange(1, 4), required=True, help="the gate decided: the pilot's current stage")
@click.option("--decision", type=click.Choice(["commit", "iterate", "kill"]), required=True)
@click.option("--decided-by", required=True, help="who decided (name or forum)")
@click.option("--notes", default="", help="why; required for iterate and kill")
@click.option("--evidence-url", help="link to the review document")
@click.option("--evidence", "evidence_pairs", multiple=True, metavar="KEY=VALUE", help="one evidence item (repeatable)")
@click.option(
    "--evidence-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="YAML/JSON evidence"
)
@click.option("--decided-at", help="admin only: when the gate was really decided (YYYY-MM-DD or ISO datetime)")
@json_output
@click.pass_context
def pilot_gate(
    ctx: click.Context,
    slug: str,
    stage: int,
    decision: str,
    decided_by: str,
    notes: str,
    evidence_url: str | None,
    evidence_pairs: tuple[str, ...],
    evidence_file: Path | None,
    decided_at: str | None,
) -> None:
    """Record a gate decision for pilot SLUG; commit at gate 4 graduates it."""
    evidence: dict[str, Any] = read_data_file(evidence_file, what="evidence file") if evidence_file else {}
    evidence.update(pairs(evidence_pairs, "--evidence"))  # text as typed; the registry reads numbers where due
    body = {"stage": stage, "decision": decision, "decided_by": decided_by, "notes": notes, "evidence": evidence}
    if evidence_url:
        body["evidence_url"] = evidence_url
    if decided_at:
        body["decided_at"] = decided_at
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", f"/api/v1/pilots/{slug}/gates", json=body)
    done(result, f"pilot {result['slug']}: gate {stage} {decision}; now stage {result['stage']}, {result['status']}")


@pilot.command("deadline")
@click.argument("slug")
@click.option("--stage", type=click.IntRange(1, 4), required=True, help="the gate")
@click.option("--days", type=click.IntRange(1, 3650), required=True, help="days the gate may take from entering it")
@click.option("--reason", required=True, help="why this pilot's gate differs from the default (a sentence)")
@json_output
@click.pass_context
def pilot_deadline(ctx: click.Context, slug: str, stage: int, days: int, reason: str) -> None:
    """Give one gate of pilot SLUG its own decision deadline (journaled with the reason)."""
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("PUT", f"/api/v1/pilots/{slug}/deadlines/{stage}", json={"days": days, "reason": reason})
    health = result.get("health") or {}
    done(result, f"pilot {slug}: gate {stage} deadline {days} days; now {health.get('state', result['status'])}")


@pilot.command("list")
@click.option("--status", type=_STATUS)
@click.option("--team")
@click.option("--health", type=click.Choice(["stalled", "circling", "on_track"]))
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def pilot_list(
    ctx: click.Context, status: str | None, team: str | None, health: str | None, limit: int, as_json: bool
) -> None:
    """Pilots, newest first, with their stage and health at their gate."""
    params = {k: v for k, v in {"status": status, "team": team, "health": health, "limit": limit}.items() if v}
    with RegistryClient(settings_of(ctx)) as client:
        page = client.json("GET", "/api/v1/pilots", params=params)
    if as_json:
        print_json(page)
        return
    table = Table(title=f"{page['total']} pilots", title_justify="left")
    table.add_column("pilot", no_wrap=True)
    for name in ("team", "stage", "status", "health", "name"):
        table.add_column(name)
    for p in page["items"]:
        health_state = (p.get("health") or {}).get("state", "")
        table.add_row(
            p["slug"], p["team"], str(p["stage"]), p["status"], health_state.replace("_", " "), escape(p["name"])
        )
    wide().print(table)


@pilot.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def pilot_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """A pilot: business case, stage and health, gate decisions, assets published and adopted."""
    with RegistryClient(settings_of(ctx)) as client:
        p = client.json("GET", f"/api/v1/pilots/{slug}")
    if as_json:
        print_json(p)
        return
    health = p.get("health") or {}
    out.print(f"[bold]{escape(p['name'])}[/] ({p['slug']}, team {p['team']}): stage {p['stage']}, {p['status']}"
              + (f", {health['state'].replace('_', ' ')}" if health else ""))  # fmt: skip
    out.print(f"problem: {escape(p['problem'])}")
    for key in ("budget_owner", "baseline", "target", "value_per_month"):
        value = p.get(key)
        shown = " ".join(str(v) for v in value.values()) if isinstance(value, dict) else value
        out.print(f"{key.replace('_', ' ')}: {escape(str(shown)) if shown is not None else '-'}")
    for g in p["gates"]:
        out.print(f"gate {g['stage']} {g['decision']} {g['decided_at'][:10]} by {escape(g['decided_by'])}")
    published = ", ".join(a["slug"] for a in p["published_assets"]) or "-"
    adopted = ", ".join(f"{a['asset']}@{a['version']}" for a in p["adopted_assets"] if a["active"]) or "-"
    out.print(f"published: {published}")
    out.print(f"adopted: {adopted}")


@pilot.command("update")
@click.argument("slug")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON with any of name, budget_owner, problem, baseline, target, value_per_month")  # fmt: skip
@click.option("--name")
@click.option("--budget-owner", help="who owns the budget (gate 1 needs it)")
@click.option("--problem")
@click.option("--baseline", nargs=3, metavar="METRIC VALUE UNIT", help="e.g. --baseline 'handling minutes' 20 min")
@click.option("--target", nargs=3, metavar="METRIC VALUE UNIT", help="e.g. --target 'handling minutes' 8 min")
@click.option("--value-per-month", nargs=2, metavar="AMOUNT hours|usd", help="e.g. --value-per-month 3000 hours")
@click.option("--json", "as_json", is_flag=True, help="print the updated pilot as JSON")
@click.pass_context
def pilot_update(
    ctx: click.Context,
    slug: str,
    file: Path | None,
    name: str | None,
    budget_owner: str | None,
    problem: str | None,
    baseline: tuple[str, str, str] | None,
    target: tuple[str, str, str] | None,
    value_per_month: tuple[str, str] | None,
    as_json: bool,
) -> None:
    """Fill in the business case of an active pilot (what gate 1 checks); only what you give changes."""
    body: dict[str, Any] = read_data_file(file, what="pilot update") if file else {}
    body.update({k: v for k, v in {"name": name, "budget_owner": budget_owner, "problem": problem}.items() if v})
    for key, measure in (("baseline", baseline), ("target", target)):
        if measure:
            body[key] = {"metric": measure[0], "value": measure[1], "unit": measure[2]}
    if value_per_month:
        body["value_per_month"] = {"amount": value_per_month[0], "unit": value_per_month[1]}
    if not body:
        raise click.UsageError("nothing to update: give --file or at least one field option")
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("PATCH", f"/api/v1/pilots/{slug}", json=body)
    if as_json:
        print_json(result)
        return
    out.print(f"pilot {slug}: updated {', '.join(sorted(body))}")
