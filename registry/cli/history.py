"""`registry log`, `registry diff` and `registry label ...`: reading what changed, and moving labels."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from registry.cli.client import RegistryClient
from registry.cli.common import done, json_output
from registry.settings import Settings

__all__ = ["diff", "label", "log"]

out = Console(highlight=False, soft_wrap=True)


def _wide() -> Console:
    """Piped output keeps whole values (slugs, subjects) instead of squeezing them to 80 columns."""
    return out if out.is_terminal else Console(highlight=False, width=220)


def _detail(entry: dict[str, Any]) -> str:
    detail = entry["detail"]
    if entry["action"] == "label.move":
        reason = f" ({detail['reason']})" if detail.get("reason") else ""
        return f"{detail.get('label')}: {detail.get('from') or '-'} -> {detail.get('to')}{reason}"
    if entry["action"].startswith("adoption."):
        return f"pilot {detail.get('pilot')}" + (f", {detail.get('mode')}" if detail.get("mode") else "")
    if "reason" in detail:
        return str(detail["reason"])
    if entry["action"] == "pilot.gate":
        return f"gate {detail.get('stage')}: {detail.get('decision')}"
    return ", ".join(f"{k}={v}" for k, v in detail.items() if not isinstance(v, dict | list))[:120]


@click.command("log")
@click.option("--asset", help="changes to this asset (its versions, labels, adoptions)")
@click.option("--pilot", "pilot_slug", help="changes concerning this pilot (gates, adoptions, its assets)")
@click.option("--subject", help="asset:SLUG, pilot:SLUG, adoption:ID or token:ID")
@click.option("--actor", help="team/name of a token, or a team")
@click.option("--team", help="changes to what this team owns")
@click.option("--action", "actions", multiple=True, help="an action (label.move) or a family (label); repeatable")
@click.option("--since", help="from this date or ISO time")
@click.option("--until", help="before this date or ISO time")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True, help="entries to show")
@click.option("--json", "as_json", is_flag=True, help="print the entries as a JSON array")
@click.pass_obj
def log(
    settings: Settings,
    asset: str | None,
    pilot_slug: str | None,
    subject: str | None,
    actor: str | None,
    team: str | None,
    actions: tuple[str, ...],
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The journal, newest first: who changed what, when.

    Exit codes: 0 ok, 1 the registry refused the request, 2 usage.
    """
    params: dict[str, Any] = {"asset": asset, "pilot": pilot_slug, "subject": subject, "actor": actor, "team": team,
                              "action": list(actions) or None, "since": since, "until": until}  # fmt: skip
    params = {k: v for k, v in params.items() if v is not None}
    entries: list[dict[str, Any]] = []
    with RegistryClient(settings) as client:
        cursor = None
        while len(entries) < limit:
            page = client.json("GET", "/api/v1/journal", params={**params, "limit": min(500, limit - len(entries)),
                                                                 **({"cursor": cursor} if cursor else {})})  # fmt: skip
            entries.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    table = Table("when (UTC)", "who", "action")
    table.add_column("subject", no_wrap=True)
    table.add_column("detail")
    for e in entries:
        table.add_row(e["at"][:16].replace("T", " "), e["actor"], e["action"], e["subject"], escape(_detail(e)))
    _wide().print(table)
    if not entries:
        click.echo("no changes match", err=True)


@click.command("diff")
@click.argument("slug")
@click.argument("from_version", metavar="FROM")
@click.argument("to_version", metavar="TO")
@click.option("--json", "as_json", is_flag=True, help="print the diff as JSON (as the API returns it)")
@click.pass_obj
def diff(settings: Settings, slug: str, from_version: str, to_version: str, as_json: bool) -> None:
    """What changed from one version of an asset to another: breaking changes first, then every changed field,
    the prompt template by line (variables in brackets), and attached files as unified diffs.

    Exit codes: 0 ok, 1 the registry refused the request (unknown asset or version), 2 usage.
    """
    with RegistryClient(settings) as client:
        found = client.json("GET", f"/api/v1/assets/{slug}/diff", params={"from": from_version, "to": to_version})
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out.print(f"[bold]{slug}[/] {from_version} -> {to_version} ({found['kind']})")
    if found["identical"]:
        out.print("identical content")
        return
    for change in found["breaking"]:
        out.print(f"[bold red]BREAKING[/] {escape(change)}")
    for change in found["changes"]:
        if change["pointer"] in ("/spec/template", "/spec/messages") and found["template"] is not None:
            continue
        before, after = (json.dumps(change.get(k), ensure_ascii=False)[:200] for k in ("before", "after"))
        text = {"added": f"+ {after}", "removed": f"- {before}", "changed": f"{before} -> {after}"}[change["change"]]
        out.print(f"{escape(change['pointer'])}: {escape(text)}")
    if found["template"] is not None and any(line["op"] != " " for line in found["template"]):
        out.print("[bold]template[/]")
        for line in found["template"]:
            colour = {"+": "green", "-": "red"}.get(line["op"], "dim")
            marked = " [" + ", ".join(line["variables"]) + "]" if line["variables"] and line["op"] != " " else ""
            out.print(f"[{colour}]{line['op']} {escape(line['text'])}[/]{escape(marked)}")
    for file in found["files"]:
        if file["change"] == "unchanged":
            continue
        out.print(f"[bold]file {escape(file['path'])}[/]: {file['change']}")
        if file["binary"] or not file["unified"]:
            out.print(f"  sha256 {file['before_sha256'] or '-'} -> {file['after_sha256'] or '-'}")
        else:
            click.echo(file["unified"], nl=not file["unified"].endswith("\n"))


@click.group()
def label() -> None:
    """Labels (production, stable, ...): move, remove, read now or at a time, and their history."""


@label.command("set")
@click.argument("slug")
@click.argument("name")
@click.argument("version")
@click.option("--reason", default="", help="why it moves (kept in its history)")
@json_output
@click.pass_obj
def label_set(settings: Settings, slug: str, name: str, version: str, reason: str) -> None:
    """Point label NAME of SLUG at VERSION."""
    with RegistryClient(settings) as client:
        result = client.json("PUT", f"/api/v1/assets/{slug}/labels/{name}", json={"version": version, "reason": reason})
    done(result, f"{slug}:{name} -> {version}")


@label.command("rm")
@click.argument("slug")
@click.argument("name")
@click.option("--reason", default="", help="why (kept in its history)")
@json_output
@click.pass_obj
def label_rm(settings: Settings, slug: str, name: str, reason: str) -> None:
    """Remove label NAME from SLUG."""
    with RegistryClient(settings) as client:
        params = {"reason": reason} if reason else None
        result = client.json("DELETE", f"/api/v1/assets/{slug}/labels/{name}", params=params)
    done(result, f"{slug}:{name} removed")


@label.command("show")
@click.argument("slug")
@click.argument("name")
@click.option("--at", help="a date or ISO time: where the label pointed then")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def label_show(settings: Settings, slug: str, name: str, at: str | None, as_json: bool) -> None:
    """The version label NAME of SLUG points at (now, or --at a time)."""
    with RegistryClient(settings) as client:
        found = client.json("GET", f"/api/v1/assets/{slug}/labels/{name}", params={"at": at} if at else None)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    reason = f" ({found['reason']})" if found["reason"] else ""
    click.echo(f"{slug}:{name} -> {found['version']}  moved {found['moved_at'][:16]} by {found['moved_by']}{reason}")


@label.command("history")
@click.argument("slug")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def label_history(settings: Settings, slug: str, name: str, as_json: bool) -> None:
    """Every move of label NAME of SLUG, oldest first: from, to, who, when, why."""
    with RegistryClient(settings) as client:
        moves = client.json("GET", f"/api/v1/assets/{slug}/labels/{name}/history")
    if as_json:
        click.echo(json.dumps(moves, indent=2))
        return
    table = Table("when (UTC)", "from", "to", "who", "why")
    for m in moves:
        when = m["moved_at"][:19].replace("T", " ")
        table.add_row(
            when, m["from_version"] or "-", m["to_version"] or "(removed)", m["moved_by"], escape(m["reason"])
        )
    _wide().print(table)
