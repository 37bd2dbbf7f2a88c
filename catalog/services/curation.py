"""Curation by the owning team or the platform team: yank a version, deprecate an asset, move labels.

Nothing is deleted: each is a flag plus a journal row, and an outbox row when search must see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from catalog.schemas import Actor, AssetOut, DeprecateRequest, LabelRequest, VersionOut, YankRequest
from catalog.services.assets import get_asset, get_version
from catalog.services.journal import enqueue_search, for_update, now, record, write_transaction
from catalog.services.publishing import latest_version
from catalog.tables import Asset, AssetVersion, Label
from catalog.writer import writes

__all__ = ["asset_row", "deprecate_asset", "move_label", "remove_label", "yank_version"]

_LABEL_NAME = r"^[a-z][a-z0-9-]{0,62}$"


async def asset_row(slug: str, actor: Actor | None = None) -> dict[str, Any]:
    """The asset's row; with an actor, also check the actor may curate it."""
    asset = await for_update(Asset.select().where(Asset.slug == slug)).first()
    if asset is None:
        raise NotFound(f"no asset is named {slug!r}", code="asset-not-found")
    if actor is not None and not actor.may_act_for(asset["owner"]):
        raise PermissionDenied(
            f"asset {slug!r} is owned by team {asset['owner']!r}; your token is for team {actor.team!r}. "
            "Ask its owners or the platform team (admin)"
        )
    return dict(asset)


async def _version_row(asset: dict[str, Any], version: str) -> dict[str, Any]:
    row = await AssetVersion.select().where(AssetVersion.coordinate == f"{asset['slug']}@{version}").first()
    if row is None:
        raise NotFound(f"{asset['slug']} has no version {version!r}", code="version-not-found")
    return dict(row)


@writes
async def yank_version(
    slug: str, version: str, request: YankRequest, actor: Actor, *, at: datetime | None = None
) -> VersionOut:
    """Flag a version as yanked: still readable, never newly adopted or resolved as a dependency."""
    at = at or now()
    async with write_transaction():
        asset = await asset_row(slug, actor)
        row = await _version_row(asset, version)
        if row["yanked"]:
            raise Conflict(f"{slug}@{version} is already yanked ({row['yanked_reason']})", code="already-yanked")
        await AssetVersion.update(
            {
                AssetVersion.yanked: True,
                AssetVersion.yanked_reason: request.reason,
                AssetVersion.yanked_at: at,
                AssetVersion.yanked_by: actor.label,
            }
        ).where(AssetVersion.id == row["id"])
        await Asset.update({Asset.latest_version: await latest_version(asset["id"]), Asset.updated_at: at}).where(
            Asset.id == asset["id"]
        )
        await record(
            "version.yank", f"asset:{slug}@{version}", actor, {"reason": request.reason}, at, team=asset["owner"]
        )
        await enqueue_search(slug, "yank")
    return await get_version(slug, version)


@writes
async def deprecate_asset(
    slug: str, request: DeprecateRequest, actor: Actor, *, at: datetime | None = None
) -> AssetOut:
    """Mark an asset deprecated, naming the successor teams should move to."""
    at = at or now()
    async with write_transaction():
        asset = await asset_row(slug, actor)
        if request.successor is not None:
            if request.successor == slug:
                raise InvalidInput(
                    "an asset cannot succeed itself",
                    [
                        FieldProblem(
                            "/successor", "names the deprecated asset itself", "name the asset that replaces it"
                        )
                    ],
                )
            if not await Asset.exists().where(Asset.slug == request.successor):
                raise InvalidInput(
                    f"the successor {request.successor!r} does not exist",
                    [
                        FieldProblem(
                            "/successor", f"no asset is named {request.successor!r}", "publish it first or fix the slug"
                        )
                    ],
                )
        await Asset.update(
            {
                Asset.lifecycle: "deprecated",
                Asset.successor: request.successor,
                Asset.deprecation_reason: request.reason,
                Asset.deprecated_at: asset["deprecated_at"] or at,
                Asset.updated_at: at,
            }
        ).where(Asset.id == asset["id"])
        await record("asset.deprecate", f"asset:{slug}", actor, request.model_dump(), at, team=asset["owner"])
        await enqueue_search(slug, "deprecate")
    return await get_asset(slug)


@writes
async def move_label(
    slug: str, label: str, request: LabelRequest, actor: Actor, *, at: datetime | None = None
) -> AssetOut:
    """Point a label (`production`, `stable`, ...) at a version; the move is journaled with from and to."""
    import re

    if not re.match(_LABEL_NAME, label):
        raise InvalidInput(
            f"{label!r} is not a valid label name",
            [FieldProblem("/label", "labels are 1-63 lowercase letters, digits and hyphens", "use e.g. 'production'")],
        )
    async with write_transaction():
        asset = await asset_row(slug, actor)
        at = at or now()  # taken under the asset's lock: moves of one label are journaled in time order
        row = await _version_row(asset, request.version)
        if row["yanked"]:
            raise Conflict(f"{slug}@{request.version} is yanked; a label cannot point at it", code="version-yanked")
        key = f"{slug}:{label}"
        current = (
            await Label.select(Label.id, Label.version.version.as_alias("version")).where(Label.key == key).first()
        )
        if current is not None and current["version"] == request.version:
            return await get_asset(slug)
        if current is None:
            await Label.insert(
                Label(asset=asset["id"], key=key, name=label, version=row["id"], moved_by=actor.label, moved_at=at)
            )
        else:
            await Label.update({Label.version: row["id"], Label.moved_by: actor.label, Label.moved_at: at}).where(
                Label.id == current["id"]
            )
        await record(
            "label.move",
            f"asset:{slug}",
            actor,
            {
                "label": label,
                "from": current["version"] if current else None,
                "to": request.version,
                "reason": request.reason,
            },
            at,
            team=asset["owner"],
        )
        await enqueue_search(slug, "label")
    return await get_asset(slug)


@writes
async def remove_label(
    slug: str, label: str, actor: Actor, *, reason: str = "", at: datetime | None = None
) -> AssetOut:
    """Take a label off an asset (journaled with the version it pointed at)."""
    async with write_transaction():
        asset = await asset_row(slug, actor)
        at = at or now()
        key = f"{slug}:{label}"
        current = (
            await Label.select(Label.id, Label.version.version.as_alias("version")).where(Label.key == key).first()
        )
        if current is None:
            raise NotFound(f"{slug} has no label {label!r}", code="label-not-found")
        await Label.delete().where(Label.id == current["id"])
        await record(
            "label.remove",
            f"asset:{slug}",
            actor,
            {"label": label, "from": current["version"], "reason": reason},
            at,
            team=asset["owner"],
        )
        await enqueue_search(slug, "label")
    return await get_asset(asset["slug"])
