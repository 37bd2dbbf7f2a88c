"""`registry publish`, `asset list|show`, `version show`, `yank`, `deprecate`: assets over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from catalog.errors import CatalogError
from catalog.manifests import MANIFEST_NAME, find_manifests, load_manifest, publish_order
from catalog.schemas import KINDS
from registry.cli.client import RegistryClient, describe_problem, publish_in_batches
from registry.cli.common import EXIT_CODES, coordinate, done, err, json_output, out, print_json, settings_of, wide

__all__ = ["asset", "deprecate", "publish", "version", "yank"]


@click.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON array of per-asset results instead of lines")
@click.pass_context
def publish(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Publish assets: folders holding asset.yaml (searched recursively) or manifest files.

    Prints one line per asset version; exits non-zero if any failed. Dependencies are published first.
    """
    settings = settings_of(ctx)
    manifests: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def report(entry: dict[str, Any], line: str) -> None:
        results.append(entry)
        if not as_json:
            out.print(line, markup=False)

    for given in paths:
        if given.is_dir() and not find_manifests([given]):
            why = f"no {MANIFEST_NAME} in it or its subfolders; nothing to publish there"
            report({"status": "failed", "path": str(given), "error": why}, f"failed     {given}: {why}")
    for path in find_manifests(paths):
        try:
            data = load_manifest(path)
            data["_path"] = str(path)
            manifests.append(data)
        except CatalogError as error:
            problem = error.as_problem()
            report(
                {"status": "failed", "path": str(path), "error": problem},
                f"failed     {path}: {describe_problem(problem)}",
            )
    ordered = publish_order(manifests)
    sources = [data.pop("_path") for data in ordered]
    with RegistryClient(settings, timeout=300.0) as client:
        for index, result in publish_in_batches(client, ordered):
            data, where = ordered[index], sources[index]
            name = f"{data.get('slug', '?')}@{data.get('version', '?')}"
            if result["status"] == "failed":
                problem = result["problem"] or {}
                line = f"failed     {name} ({where}): {describe_problem(problem)}"
                report({**result, "path": where, "error": problem}, line)
                continue
            warnings = "".join(f"\n           warning: {w}" for w in result.get("warnings") or [])
            line = f"{result['status']:<10} {name}  {result['content_digest'][:19]}{warnings}"
            report({**result, "path": where}, line)
    failed = sum(r["status"] == "failed" for r in results)
    if as_json:
        print_json(results)
    if failed:
        err.print(f"{failed} of {len(results)} failed")
        sys.exit(1)


@click.group(epilog=EXIT_CODES)
def asset() -> None:
    """Assets: list and show (client commands over HTTP)."""


@asset.command("list")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--tag", "tags", multiple=True, help="repeatable; all must match")
@click.option("--owner", help="the owning team")
@click.option("--origin-pilot")
@click.option("--lifecycle", type=click.Choice(["active", "deprecated"]))
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def asset_list(
    ctx: click.Context,
    kind: str | None,
    tags: tuple[str, ...],
    owner: str | None,
    origin_pilot: str | None,
    lifecycle: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Assets with exact filters, newest first (use `registry search` for text)."""
    params: dict[str, Any] = {"kind": kind, "tag": list(tags) or None, "owner": owner, "origin_pilot": origin_pilot,
                              "lifecycle": lifecycle, "limit": limit}  # fmt: skip
    with RegistryClient(settings_of(ctx)) as client:
        page = client.json("GET", "/api/v1/assets", params={k: v for k, v in params.items() if v})
    if as_json:
        print_json(page)
        return
    table = Table(title=f"{page['total']} assets", title_justify="left")
    table.add_column("asset", no_wrap=True)
    for name in ("kind", "latest", "owner", "origin pilot", "reused by", "title"):
        table.add_column(name)
    for a in page["items"]:
        name = a["slug"] + (" (deprecated)" if a["lifecycle"] == "deprecated" else "")
        table.add_row(name, a["kind"], a["latest_version"] or "-", a["owner"], a["origin_pilot"]["slug"],
                      str(a["reuse_count"]), escape(a["title"]))  # fmt: skip
    wide().print(table)


@asset.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@click.pass_context
def asset_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """An asset: summary, versions, labels, origin pilot and who reuses it."""
    with RegistryClient(settings_of(ctx)) as client:
        a = client.json("GET", f"/api/v1/assets/{slug}")
    if as_json:
        print_json(a)
        return
    out.print(f"[bold]{escape(a['title'])}[/] ({a['slug']}, {a['kind']}), owned by {a['owner']}")
    out.print(escape(a["summary"]))
    if a["lifecycle"] == "deprecated":
        successor = f"; use {a['successor']}" if a["successor"] else ""
        out.print(f"[bold]deprecated[/]: {escape(a['deprecation_reason'] or '')}{successor}")
    out.print(f"origin pilot: {a['origin_pilot']['slug']} ({a['origin_pilot']['status']})")
    out.print(f"reused by: {', '.join(a['adopting_pilots']) or '-'}")
    out.print("labels: " + (", ".join(f"{x['name']} -> {x['version']}" for x in a["labels"]) or "-"))
    for v in a["versions"]:
        yanked = f"  YANKED: {v['yanked_reason']}" if v["yanked"] else ""
        out.print(f"  {v['version']:<12} {v['published_at'][:10]}  {escape(v['changelog'][:100])}{escape(yanked)}")


@click.group(epilog=EXIT_CODES)
def version() -> None:
    """One published version (client commands over HTTP)."""


@version.command("show")
@click.argument("target", metavar="SLUG@VERSION")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer (spec, files inline)")
@click.pass_context
def version_show(ctx: click.Context, target: str, as_json: bool) -> None:
    """One version: digest, who published it, dependencies, source and files."""
    slug, wanted = coordinate(target)
    with RegistryClient(settings_of(ctx)) as client:
        v = client.json("GET", f"/api/v1/assets/{slug}/versions/{wanted}")
    if as_json:
        print_json(v)
        return
    out.print(f"[bold]{v['asset']}@{v['version']}[/] ({v['kind']}) {v['content_digest']}")
    out.print(f"published {v['published_at'][:16]} by {v['published_by']}")
    if v["yanked"]:
        out.print(f"[bold]yanked[/]: {escape(v['yanked_reason'] or '')}")
    source = v.get("source") or {}
    if source:
        out.print("source: " + " ".join(f"{k}={source[k]}" for k in ("repo", "commit", "path") if source.get(k)))
    for d in v["depends_on"]:
        out.print(f"depends on {d['slug']} {d['range']} (resolved {d['resolved']})")
    for f in v["files"]:
        out.print(f"file {escape(f['path'])} ({f['size']} bytes, sha256 {f['sha256'][:12]})")


@click.command("yank", epilog=EXIT_CODES)
@click.argument("target", metavar="SLUG@VERSION")
@click.option("--reason", required=True, help="why (adopters see it)")
@json_output
@click.pass_context
def yank(ctx: click.Context, target: str, reason: str) -> None:
    """Yank a version: it stays readable, is never newly adopted, and adopters are warned."""
    slug, wanted = coordinate(target)
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", f"/api/v1/assets/{slug}/versions/{wanted}/yank", json={"reason": reason})
    done(result, f"yanked {slug}@{wanted}")


@click.command("deprecate", epilog=EXIT_CODES)
@click.argument("slug")
@click.option("--reason", required=True, help="why (adopters see it)")
@click.option("--successor", help="the asset teams should move to")
@json_output
@click.pass_context
def deprecate(ctx: click.Context, slug: str, reason: str, successor: str | None) -> None:
    """Deprecate an asset, naming its successor; it stays adoptable, with a warning."""
    body = {"reason": reason, **({"successor": successor} if successor else {})}
    with RegistryClient(settings_of(ctx)) as client:
        result = client.json("POST", f"/api/v1/assets/{slug}/deprecate", json=body)
    done(result, f"deprecated {slug}" + (f"; successor {successor}" if successor else ""))
