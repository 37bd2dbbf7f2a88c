"""`registry pull`: an asset's files into a folder, and (with --pilot) the adoption recorded in the same step."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from catalog.archives import manifest_yaml
from catalog.filepaths import path_clash, path_problem
from catalog.manifests import MANIFEST_NAME
from catalog.services.publishing import file_bytes
from registry.cli.client import RegistryClient
from registry.settings import Settings

__all__ = ["pull", "pull_into"]

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


def _planned(version: dict[str, Any]) -> dict[str, bytes]:
    """Every file to write by its relative path, each path checked by the rules publishing applies today
    (a version published before them may hold a path no folder can take)."""
    planned = {MANIFEST_NAME: manifest_yaml(version["manifest"]).encode("utf-8")}
    paths = [f["path"] for f in version["files"]]
    for f in version["files"]:
        if problem := path_problem(f["path"]):
            raise click.ClickException(f"the file path {f['path']!r} {problem}; nothing was written")
        planned[f["path"]] = file_bytes(f["content"], f["encoding"])
    if clash := path_clash(paths):
        raise click.ClickException(f"{clash[1]}; nothing was written")
    return planned


def _clashes(folder: Path, planned: dict[str, bytes]) -> list[str]:
    """The planned paths that already hold something else in the folder."""
    found = []
    for path, data in planned.items():
        target = folder / path
        if target.is_dir() or (target.exists() and target.read_bytes() != data):
            found.append(path)
    return found


def _write(folder: Path, planned: dict[str, bytes]) -> None:
    """Write everything into a fresh folder beside the target, then move it into place: a failure leaves
    nothing behind (into an existing folder, files are moved over one by one once all were written)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.pull-", dir=folder.parent))
    try:
        for path, data in planned.items():
            (staging / path).parent.mkdir(parents=True, exist_ok=True)
            (staging / path).write_bytes(data)
        if not folder.exists():
            staging.rename(folder)
            return
        for path in planned:
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            if (folder / path).is_dir():
                shutil.rmtree(folder / path)
            os.replace(staging / path, folder / path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
    adoption = {"pilot": pilot_slug, "mode": mode, "hours_saved": hours_saved, "note": note} if pilot_slug else None
    with RegistryClient(settings) as client:
        pull_into(client, slug, wanted, directory or Path(slug), force=force, adoption=adoption)


def pull_into(
    client: RegistryClient, slug: str, wanted: str, folder: Path, *, force: bool, adoption: dict[str, Any] | None
) -> str:
    """Pull one asset version into a folder and, given `adoption` (pilot, mode, hours_saved, note), record it;
    returns the version pulled. Prints one line per step, and the warnings of yanked and deprecated assets."""
    asset = client.json("GET", f"/api/v1/assets/{slug}")
    version_name = resolve_version(asset, wanted)
    version = client.json("GET", f"/api/v1/assets/{slug}/versions/{version_name}")
    planned = _planned(version)
    try:
        if folder.exists() and not folder.is_dir():
            raise click.ClickException(f"{folder} is a file; name a folder to pull into")
        clashes = _clashes(folder, planned)
        if clashes and not force:
            raise click.ClickException(
                f"{folder} already holds other content in {', '.join(clashes)}; pass --force to overwrite"
            )
        _write(folder, planned)
    except OSError as err:
        raise click.ClickException(f"could not write into {folder}: {err.strerror or err}") from None
    out.print(f"pulled     {slug}@{version_name} into {folder} ({len(planned) - 1} files and {MANIFEST_NAME})")
    if version["yanked"]:
        out.print(f"warning    {slug}@{version_name} is yanked: {version['yanked_reason']}")
    if asset["lifecycle"] == "deprecated":
        successor = f"; its successor is {asset['successor']}" if asset["successor"] else ""
        out.print(f"warning    {slug} is deprecated{successor}")
    if adoption:
        body = {"asset": slug, "version": version_name, **adoption}
        recorded = client.json("POST", "/api/v1/adoptions", json=body)
        out.print(f"adopted    {slug}@{version_name} by {adoption['pilot']} (adoption {recorded['id']})")
        for warning in recorded.get("warnings", []):
            out.print(f"warning    {warning}")
    return version_name
