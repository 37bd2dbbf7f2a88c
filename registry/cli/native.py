"""`registry import` and `registry export`: assets in and out in the formats teams already keep."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import click
from rich.console import Console

from catalog.archives import manifest_yaml
from catalog.manifests import MANIFEST_NAME
from catalog.native.base import NativeError
from catalog.native.formats import FORMAT_IDS
from catalog.native.importing import Imported, ImportOptions, ImportRun, import_paths
from registry.cli.client import RegistryClient, describe_problem, publish_in_batches
from registry.cli.pull import resolve_version
from registry.settings import Settings

__all__ = ["export_cmd", "import_cmd"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}\Z")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _slug_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _SLUG.match(value):
        raise click.BadParameter(f"{value!r} is not a slug: 2-63 lowercase letters, digits and hyphens")
    return value


def _thresholds(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    parsed = []
    for value in values:
        name, sep, number = value.rpartition("=")
        try:
            parsed.append((name, float(number)))
        except ValueError:
            name = ""
        if not sep or not name:
            raise click.BadParameter(f"{value!r}: write METRIC=VALUE, e.g. acc=0.8")
    return tuple(parsed)


def _write_folders(imported: list[Imported], folder: Path) -> None:
    """One folder per asset: asset.yaml listing the files, and the original bytes beside it."""
    for item in imported:
        target = folder / item.manifest["slug"]
        target.mkdir(parents=True, exist_ok=True)
        manifest = {**item.manifest, "files": list(item.files)}
        (target / MANIFEST_NAME).write_text(manifest_yaml(manifest), encoding="utf-8")
        for rel, raw in item.files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        out.print(f"wrote      {target}/{MANIFEST_NAME} and {len(item.files)} file(s)")


def _publish(settings: Settings, imported: list[Imported]) -> int:
    """Publish through the batch endpoint (a rule file can hold hundreds of alerts); one line per asset."""
    failed = 0
    with RegistryClient(settings, timeout=300.0) as client:
        for index, result in publish_in_batches(client, [item.manifest for item in imported]):
            item = imported[index]
            name = f"{item.manifest['slug']}@{item.manifest['version']}"
            if result["status"] == "failed":
                failed += 1
                out.print(f"failed     {name} ({item.origin}): {describe_problem(result['problem'] or {})}",
                          markup=False)  # fmt: skip
                continue
            out.print(f"{result['status']:<10} {name}  {result['content_digest'][:19]}", markup=False)
    return failed


def _report(run: ImportRun) -> None:
    """One line per file on stderr: imported, attached, skipped or failed (with why); ignored files in one line."""
    for outcome in run.files:
        if outcome.outcome != "ignored":
            err.print(f"{outcome.outcome:<10} {outcome.path}: {outcome.detail}", markup=False)
    ignored = run.having("ignored")
    if ignored:
        names = ", ".join(Path(f.path).name for f in ignored[:8]) + (
            f" and {len(ignored) - 8} more" if len(ignored) > 8 else ""
        )
        err.print(f"ignored    {names} (not native files)", markup=False)
    for notice in dict.fromkeys(n for item in run.imported for n in item.notices):
        err.print(f"notice     {notice}", markup=False)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "format_id", type=click.Choice(["auto", *FORMAT_IDS], case_sensitive=False), default="auto",
              show_default=True, help="the native format; auto detects it")  # fmt: skip
@click.option("--owner", required=True, callback=_slug_option, help="the team that owns the assets")
@click.option("--pilot", required=True, callback=_slug_option, help="the graduated pilot they come from")
@click.option("--version", "version", help="the version to give them (default: the file's semver, else 1.0.0)")
@click.option("--slug-prefix", default="", help="prepended to every slug, e.g. 'fincrime-'")
@click.option("--select", multiple=True, metavar="NAME", help="import only these alerts/prompts (repeatable)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="write one folder per asset")
@click.option("--publish", "do_publish", is_flag=True, help="publish to REGISTRY_URL with REGISTRY_TOKEN")
@click.option("--dry-run", is_flag=True, help="show what would be produced; write nothing")
@click.option("--json", "as_json", is_flag=True, help="print the manifests as one JSON array (files inline)")
@click.option("--allow-secrets", is_flag=True, help="import files that hold literal credentials")
@click.option("--slug", help="the asset's slug (a file that gives one asset; --slug-prefix still applies)")
@click.option("--title", help="the asset's title (a file that gives one asset)")
@click.option("--summary", help="the asset's summary (a file that gives one asset)")
@click.option("--tag", "tags", multiple=True, help="a tag added to every asset (repeatable)")
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="METRIC=VALUE",
    callback=_thresholds,
    help="a metric's threshold (lm-eval files state none; repeatable)",
)
@click.option(
    "--allow-missing-includes",
    is_flag=True,
    help="lm-eval: import a task whose include: parent is absent (recorded in spec.unresolved_includes)",
)
@click.option("--strict", is_flag=True, help="fail when anything is not attached or a file is skipped (notices)")
@click.option("--all-or-nothing", is_flag=True, help="import nothing when any file fails")
@click.option("--source-repo", help="the repository the files come from (recorded as source)")
@click.option("--source-commit", help="the commit they were taken at")
@click.pass_obj
def import_cmd(
    settings: Settings,
    paths: tuple[Path, ...],
    format_id: str,
    owner: str,
    pilot: str,
    version: str | None,
    slug_prefix: str,
    select: tuple[str, ...],
    out_dir: Path | None,
    do_publish: bool,
    dry_run: bool,
    as_json: bool,
    allow_secrets: bool,
    source_repo: str | None,
    source_commit: str | None,
    slug: str | None,
    title: str | None,
    summary: str | None,
    tags: tuple[str, ...],
    thresholds: tuple[tuple[str, float], ...],
    allow_missing_includes: bool,
    strict: bool,
    all_or_nothing: bool,
) -> None:
    """Turn native files (or folders of them) into assets: promptfoo, lm-eval, Haystack, Prompty, Dotprompt,
    LangChain, PromptHub, promptfoo prompt files, Prometheus and Grafana rules.

    One asset per file, except rule files (one per alerting rule) and promptfoo .txt files (one per prompt);
    every asset keeps the original file byte for byte, so `registry export` gives it back.
    Exit codes: 0 done, 1 a file could not be imported or an asset was refused, 2 usage.
    """
    if out_dir is not None and do_publish:
        raise click.UsageError("give --out or --publish, not both")
    options = ImportOptions(
        owner=owner,
        pilot=pilot,
        format=format_id.lower(),
        version=version,
        slug_prefix=slug_prefix,
        select=select,
        allow_secrets=allow_secrets,
        source_repo=source_repo,
        source_commit=source_commit,
        slug=slug,
        title=title,
        summary=summary,
        tags=tags,
        thresholds=thresholds,
        allow_missing_includes=allow_missing_includes,
        strict=strict,
    )
    try:
        run = import_paths(list(paths), options)
    except NativeError as error:
        raise click.ClickException(str(error)) from None
    _report(run)
    imported = run.imported
    failures = run.having("failed")
    if failures and all_or_nothing:
        err.print(f"{len(failures)} file(s) failed; nothing imported (--all-or-nothing)")
        sys.exit(1)
    if as_json:
        sys.stdout.write(json.dumps([item.manifest for item in imported], ensure_ascii=False, indent=2) + "\n")
    elif dry_run or (out_dir is None and not do_publish):
        for item in imported:
            m = item.manifest
            out.print(f"{m['kind']:<18} {m['slug']}@{m['version']}  {m['title']}  ({item.format}: {item.origin})")
    if not dry_run and out_dir is not None:
        _write_folders(imported, out_dir)
    refused = _publish(settings, imported) if not dry_run and do_publish else 0  # --out and --publish: refused above
    if refused:
        err.print(f"{refused} of {len(imported)} asset(s) refused")
    elif not dry_run and out_dir is None and not do_publish and not as_json:
        err.print(f"{len(imported)} asset(s); nothing written: pass --out DIR or --publish")
    if failures:
        err.print(f"{len(failures)} file(s) failed; the others were imported (--all-or-nothing stops them all)")
    if refused or failures:
        sys.exit(1)


@click.command("export")
@click.argument("target", metavar="SLUG[@VERSION|@LABEL]")
@click.option("--format", "format_id", type=click.Choice(FORMAT_IDS, case_sensitive=False),
              help="the native format (default: the asset's own)")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="the file to write (default: the file's own name in the current folder; - for stdout)")  # fmt: skip
@click.option("--regenerate", is_flag=True, help="generate from the manifest even when the original is stored")
@click.pass_obj
def export_cmd(settings: Settings, target: str, format_id: str | None, output: Path | None, regenerate: bool) -> None:
    """Write a version as its native file: the stored original byte for byte, or one generated from the manifest.

    Exit codes: 0 written, 1 the registry refused (e.g. the asset cannot be written in that format), 2 usage.
    """
    slug, _, wanted = target.partition("@")
    with RegistryClient(settings) as client:
        asset = client.json("GET", f"/api/v1/assets/{slug}")
        version = resolve_version(asset, wanted)
        params: dict[str, str] = {"regenerate": "true"} if regenerate else {}
        if format_id:
            params["format"] = format_id.lower()
        response = client.request("GET", f"/api/v1/assets/{slug}/versions/{version}/export", params=params)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(response.content)
        return
    disposition = response.headers.get("content-disposition", "")
    name = unquote(disposition.rsplit("''", 1)[-1]) if "''" in disposition else f"{slug}-{version}"
    path = output or Path(Path(name).name)
    path.write_bytes(response.content)
    kind = response.headers.get("x-registry-export", "original")
    err.print(f"exported   {slug}@{version} as {response.headers.get('x-registry-format')} ({kind}) to {path}")
