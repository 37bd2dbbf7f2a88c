"""`registry pull`: an asset's files into a folder, and (with --pilot) the adoption recorded in the same step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from catalog.archives import manifest_yaml
from catalog.manifests import MANIFEST_NAME
from catalog.services.publishing import file_bytes
from registry.cli.client import RegistryClient
from registry.settings import Settings

__all__ = ["pull"]

out = Console(highlight=False, soft_wrap=True)


def resolve_version(asset: dict[str, Any], wanted: str) -> str:
    """An exact version, a label (`production`), or the latest when nothing is asked for."""
    if not wanted:
        if not asset["latest_version"]:
            raise click.ClickException(f"{asset['slug']} has no version that is not yanked; name one: SLUG@VERSION")
        return str(asset["latest_version"])
    if any(v["version"] == wanted for v in asset["versions"]):
        return wanted
    for label in asset["labels"]:
        if label["name"] == wanted:
            return str(label["version"])
    versions = ", ".join(v["version"] for v in asset["versions"]) or "none"
    labels = ", ".join(lb["name"] for lb in asset["labels"]) or "none"
    raise click.ClickException(
        f"{asset['slug']} has no version or label {wanted!r} (versions: {versions}; labels: {labels})"
    )


def _planned(folder: Path, version: dict[str, Any]) -> dict[Path, bytes]:
    """Every file to write, each checked to land inside the folder."""
    root = folder.resolve()
    planned = {root / MANIFEST_NAME: manifest_yaml(version["manifest"]).encode("utf-8")}
    for f in version["files"]:
        target = (root / f["path"]).resolve()
        if not target.is_relative_to(root) or target == root / MANIFEST_NAME:
            raise click.ClickException(f"the file path {f['path']!r} would land outside {folder}; nothing was written")
        planned[target] = file_bytes(f["content"], f["encoding"])
    return planned


@click.command()
@click.argument("target", metavar="SLUG[@VERSION|@LABEL]")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--pilot", "pilot_slug", help="record that this pilot adopted what was pulled")
@click.option("--mode", type=click.Choice(["as_is", "adapted", "forked"]), default="as_is", show_default=True)
@click.option("--hours-saved", type=click.FloatRange(min=0), default=0.0, help="estimated hours this saved")
@click.option("--note", default="", help="a note kept with the adoption")
@click.option("--force", is_flag=True, help="overwrite files in DIRECTORY that differ from the pulled ones")
@click.pass_obj
def pull(
    settings: Settings,
    target: str,
    directory: Path | None,
    pilot_slug: str | None,
    mode: str,
    hours_saved: float,
    note: str,
    force: bool,
) -> None:
    """Write an asset's asset.yaml and files into DIRECTORY (default: ./SLUG), byte for byte.

    VERSION may be a label (production) or left out for the latest. With --pilot the adoption is recorded
    too, so the reuse report sees what teams really take. The folder publishes back as the same version.
    Exit codes: 0 done, 1 the registry refused (nothing written), 2 usage.
    """
    slug, _, wanted = target.partition("@")
    with RegistryClient(settings) as client:
        asset = client.json("GET", f"/api/v1/assets/{slug}")
        version_name = resolve_version(asset, wanted)
        version = client.json("GET", f"/api/v1/assets/{slug}/versions/{version_name}")
        folder = directory or Path(slug)
        planned = _planned(folder, version)
        clashes = [p for p, data in planned.items() if p.exists() and p.read_bytes() != data]
        if clashes and not force:
            names = ", ".join(str(p.relative_to(folder.resolve())) for p in clashes)
            raise click.ClickException(f"{folder} already holds other content in {names}; pass --force to overwrite")
        for path, data in planned.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        out.print(f"pulled     {slug}@{version_name} into {folder} ({len(planned) - 1} files and {MANIFEST_NAME})")
        if version["yanked"]:
            out.print(f"warning    {slug}@{version_name} is yanked: {version['yanked_reason']}")
        if asset["lifecycle"] == "deprecated":
            successor = f"; its successor is {asset['successor']}" if asset["successor"] else ""
            out.print(f"warning    {slug} is deprecated{successor}")
        if pilot_slug:
            body = {"asset": slug, "version": version_name, "pilot": pilot_slug, "mode": mode,
                    "hours_saved": hours_saved, "note": note}  # fmt: skip
            adoption = client.json("POST", "/api/v1/adoptions", json=body)
            out.print(f"adopted    {slug}@{version_name} by {pilot_slug} (adoption {adoption['id']})")
            for warning in adoption.get("warnings", []):
                out.print(f"warning    {warning}")
