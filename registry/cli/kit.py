"""`registry kit`: the starter kit for a problem, and (with --pilot and --pull) the start itself: the picks
pulled into a folder and their adoptions recorded, in one step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from registry.cli.client import RegistryClient
from registry.cli.common import EXIT_CODES, out
from registry.cli.pull import pull_into
from registry.settings import Settings
from search.starter_kit import SECTION_TITLES

__all__ = ["kit"]


def _print(kit: dict[str, Any]) -> None:
    out.print(kit["reading"]["summary"], markup=False)
    for section in kit["sections"]:
        out.print(f"\n{SECTION_TITLES.get(section['kind'], section['kind'])}", style="bold", markup=False)
        for item in section["assets"]:
            out.print(f"  {item['slug']}@{item['latest_version']}  {item['title']}", markup=False)
            for reason in item["why"]:
                out.print(f"      - {reason}", markup=False)
        if section.get("note"):
            out.print(f"  ({section['note']})", markup=False)


def _chosen(kit: dict[str, Any], take: tuple[str, ...]) -> list[dict[str, Any]]:
    picks = [item for section in kit["sections"] for item in section["assets"]]
    if not take:
        return picks
    offered = {item["slug"]: item for item in picks}
    unknown = [slug for slug in take if slug not in offered]
    if unknown:
        raise click.UsageError(
            f"--take {', '.join(unknown)}: not among the picks ({', '.join(offered) or 'none'}); "
            "take only what the kit offers, or `registry pull` any asset"
        )
    return [offered[slug] for slug in dict.fromkeys(take)]


@click.command(epilog=EXIT_CODES)
@click.argument("problem")
@click.option("--pattern", "patterns", multiple=True, help="a task pattern, instead of those read (repeatable)")
@click.option("--risk", "risks", multiple=True, help="a risk, instead of those read (repeatable)")
@click.option("--per-kind", type=click.IntRange(1, 10), default=3, show_default=True, help="picks per kind at most")
@click.option("--pilot", "pilot_slug", help="the new pilot: record that it adopted what is pulled")
@click.option("--pull", "folder", type=click.Path(file_okay=False, path_type=Path), help="pull the picks into DIR/SLUG")
@click.option("--take", multiple=True, metavar="SLUG", help="only these picks (repeatable; default: all of them)")
@click.option("--force", is_flag=True, help="overwrite files in the folders that differ from the pulled ones")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_obj
def kit(
    settings: Settings,
    problem: str,
    patterns: tuple[str, ...],
    risks: tuple[str, ...],
    per_kind: int,
    pilot_slug: str | None,
    folder: Path | None,
    take: tuple[str, ...],
    force: bool,
    as_json: bool,
) -> None:
    """The starter kit for a new pilot's PROBLEM: what it was read as, the picks of each kind and why.

    --pattern and --risk correct the reading (`GET /api/v1/vocabulary` lists them). With --pull DIR the picks
    (or those named by --take) are pulled into DIR/SLUG; with --pilot too, each adoption is recorded, so the
    reuse report sees what the pilot started from.
    """
    if pilot_slug and not folder:
        raise click.UsageError("--pilot records what is pulled: add --pull DIR")
    params: dict[str, Any] = {"problem": problem, "per_kind": per_kind, "pattern": list(patterns), "risk": list(risks)}
    with RegistryClient(settings) as client:
        if pilot_slug:  # before anything is pulled: a pilot that does not exist would leave half a start behind
            client.json("GET", f"/api/v1/pilots/{pilot_slug}")
        answer = client.json("GET", "/api/v1/starter-kit", params=params)
        if as_json:
            click.echo(json.dumps(answer, indent=2))
        else:
            _print(answer)
        if folder is None:
            return
        chosen = _chosen(answer, take)
        if not chosen:
            raise click.ClickException("the kit has no pick to pull; correct the reading with --pattern or --risk")
        note = f"starter kit: {problem[:200]}"
        adoption = {"pilot": pilot_slug, "mode": "as_is", "hours_saved": 0.0, "note": note} if pilot_slug else None
        out.print("")
        for item in chosen:
            pull_into(
                client, item["slug"], item["latest_version"], folder / item["slug"], force=force, adoption=adoption
            )
