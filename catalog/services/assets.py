"""Reading the catalog: assets with their versions, labels, origin pilot and reuse; one version in full."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query.methods.exists import Exists
from piccolo.query.methods.select import Select

from catalog.errors import NotFound
from catalog.roles import Roles, row_roles
from catalog.schemas import (
    AssetOut,
    AssetPage,
    FileOut,
    LabelOut,
    PilotRef,
    ResolvedDependency,
    VersionOut,
    VersionSummary,
    utc,
)
from catalog.statements import statement
from catalog.tables import Adoption, Asset, AssetFile, AssetVersion, Label
from catalog.versions import sort_key

__all__ = ["asset_exists", "get_asset", "get_file", "get_version", "list_assets"]

_ASSET_COLUMNS = (
    *Asset.all_columns(exclude=[Asset.origin_pilot]),
    Asset.origin_pilot.slug.as_alias("origin_slug"),
    Asset.origin_pilot.name.as_alias("origin_name"),
    Asset.origin_pilot.team.as_alias("origin_team"),
    Asset.origin_pilot.status.as_alias("origin_status"),
)


@dataclass
class _Reuse:
    pilots: list[str] = field(default_factory=list)
    adoptions: int = 0


@statement
def _adoptions(asset_ids: list[int]) -> Select[Any]:
    return (
        Adoption.select(Adoption.asset, Adoption.pilot.slug.as_alias("pilot"))
        .where(Adoption.asset.is_in(asset_ids) & Adoption.retired_at.is_null())
        .order_by(Adoption.adopted_at)
        .order_by(Adoption.id)
    )


async def _reuse(asset_ids: list[int]) -> dict[int, _Reuse]:
    """Adopting pilots and active adoptions per asset (an origin pilot can never adopt its own asset)."""
    out = {i: _Reuse() for i in asset_ids}
    if not asset_ids:
        return out
    for r in await _adoptions.run(asset_ids):
        reuse = out[r["asset"]]
        reuse.adoptions += 1
        if r["pilot"] not in reuse.pilots:
            reuse.pilots.append(r["pilot"])
    return out


def _asset_out(row: dict[str, Any], reuse: dict[int, _Reuse], **details: Any) -> AssetOut:
    usage = reuse[row["id"]]
    return AssetOut(
        slug=row["slug"],
        kind=row["kind"],
        title=row["title"],
        summary=row["summary"],
        description=row["description"],
        tags=list(row["tags"] or []),
        owner=row["owner"],
        origin_pilot=PilotRef(
            slug=row["origin_slug"], name=row["origin_name"], team=row["origin_team"], status=row["origin_status"]
        ),
        lifecycle=row["lifecycle"],
        successor=row["successor"],
        deprecation_reason=row["deprecation_reason"],
        latest_version=row["latest_version"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        reuse_count=len(usage.pilots),
        adoptions=usage.adoptions,
        adopting_pilots=usage.pilots,
        **details,
    )


def _has_tag(tag: str) -> Combinable:
    """An exact tag match on both databases (Piccolo's `any` is a substring LIKE on SQLite)."""
    if isinstance(Asset._meta.db, SQLiteEngine):
        return WhereRaw("EXISTS (SELECT 1 FROM json_each(asset.tags) WHERE json_each.value = {})", tag)
    return Asset.tags.any(tag)


async def list_assets(
    *,
    kind: str | None = None,
    tags: list[str] | None = None,
    owner: str | None = None,
    origin_pilot: str | None = None,
    lifecycle: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AssetPage:
    """Assets by slug with exact filters (all given tags must be present); search is its own service."""
    conditions: list[Combinable] = []
    if kind:
        conditions.append(Asset.kind == kind)
    if owner:
        conditions.append(Asset.owner == owner)
    if origin_pilot:
        conditions.append(Asset.origin_pilot.slug == origin_pilot)
    if lifecycle:
        conditions.append(Asset.lifecycle == lifecycle)
    conditions += [_has_tag(tag.strip().lower()) for tag in tags or []]
    query = Asset.select(*_ASSET_COLUMNS)
    count = Asset.count()
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Asset.slug).limit(limit).offset(offset)
    reuse = await _reuse([r["id"] for r in rows])
    return AssetPage(total=await count, items=[_asset_out(r, reuse) for r in rows])


@statement
def _asset_named(slug: str) -> Select[Any]:
    return Asset.select(*_ASSET_COLUMNS).where(Asset.slug == slug).limit(1)


@statement
def _versions_of(asset_id: int) -> Select[Any]:
    return AssetVersion.select(
        AssetVersion.version,
        AssetVersion.content_digest,
        AssetVersion.published_by,
        AssetVersion.published_at,
        AssetVersion.changelog,
        AssetVersion.yanked,
        AssetVersion.yanked_reason,
    ).where(AssetVersion.asset == asset_id)


@statement
def _manifest_at(coordinate: str) -> Select[Any]:
    return (
        AssetVersion.select(AssetVersion.manifest).where(AssetVersion.coordinate == coordinate).output(load_json=True)
    )


async def _roles(row: dict[str, Any]) -> Roles:
    """The asset's patterns and risks as search sees them (from its latest version); read off the event loop,
    a prompt's text being up to 100,000 characters."""
    if row["latest_version"] is None:
        return Roles([], [])
    found = await _manifest_at.first(f"{row['slug']}@{row['latest_version']}")
    manifest = found["manifest"] if found else {}
    return await anyio.to_thread.run_sync(row_roles, row, manifest)


@statement
def _labels_of(asset_id: int) -> Select[Any]:
    return (
        Label.select(Label.name, Label.version.version.as_alias("version"), Label.moved_by, Label.moved_at)
        .where(Label.asset == asset_id)
        .order_by(Label.name)
    )


async def get_asset(slug: str) -> AssetOut:
    """One asset with every version (newest first), its labels and who reuses it."""
    row = await _asset_named.first(slug)
    if row is None:
        raise NotFound(f"no asset is named {slug!r}", code="asset-not-found")
    versions = await _versions_of.run(row["id"])
    versions.sort(key=lambda v: sort_key(v["version"]), reverse=True)
    labels = await _labels_of.run(row["id"])
    roles = await _roles(row)
    return _asset_out(
        row,
        await _reuse([row["id"]]),
        patterns=roles.patterns,
        risks=roles.risks,
        versions=[VersionSummary.model_validate({**v, "published_at": utc(v["published_at"])}) for v in versions],
        labels=[LabelOut.model_validate({**lb, "moved_at": utc(lb["moved_at"])}) for lb in labels],
    )


@statement
def _version_at(coordinate: str) -> Select[Any]:
    return (
        AssetVersion.select(
            *AssetVersion.all_columns(),
            AssetVersion.asset.slug.as_alias("slug"),
            AssetVersion.asset.kind.as_alias("kind"),
        )
        .where(AssetVersion.coordinate == coordinate)
        .output(load_json=True)
        .limit(1)
    )


@statement
def _files_of(version_id: int) -> Select[Any]:
    return AssetFile.select().where(AssetFile.version == version_id).order_by(AssetFile.path)


@statement
def asset_exists(slug: str) -> Exists[Any]:
    """Whether an asset of this slug exists (`await asset_exists.run(slug)`)."""
    return Asset.exists().where(Asset.slug == slug)


async def get_version(slug: str, version: str) -> VersionOut:
    """One version with its spec, manifest, resolved dependencies and attached files."""
    row = await _version_at.first(f"{slug}@{version}")
    if row is None:
        if not await asset_exists.run(slug):
            raise NotFound(f"no asset is named {slug!r}", code="asset-not-found")
        raise NotFound(f"{slug} has no version {version!r}", code="version-not-found")
    files = await _files_of.run(row["id"])
    return VersionOut(
        asset=row["slug"],
        kind=row["kind"],
        version=row["version"],
        content_digest=row["content_digest"],
        published_by=row["published_by"],
        published_at=utc(row["published_at"]),
        changelog=row["changelog"],
        yanked=row["yanked"],
        yanked_reason=row["yanked_reason"],
        yanked_at=utc(row["yanked_at"]) if row["yanked_at"] else None,
        spec=row["spec"],
        manifest=row["manifest"],
        source=row["source"],
        depends_on=[ResolvedDependency.model_validate(d) for d in row["depends_on"]],
        files=[
            FileOut(path=f["path"], size=f["size"], sha256=f["sha256"], content=f["content"], encoding=f["encoding"])
            for f in files
        ],
    )


async def get_file(slug: str, version: str, path: str) -> FileOut:
    """One attached file of a version (without reading the others)."""
    row = (
        await AssetFile.select(AssetFile.path, AssetFile.size, AssetFile.sha256, AssetFile.content, AssetFile.encoding)
        .where((AssetFile.version.coordinate == f"{slug}@{version}") & (AssetFile.path == path))
        .first()
    )
    if row is not None:
        return FileOut.model_validate(row)
    if not await AssetVersion.exists().where(AssetVersion.coordinate == f"{slug}@{version}"):
        await get_version(slug, version)  # raises the asset's or the version's NotFound
    paths = [r["path"] for r in await AssetFile.select(AssetFile.path).where(
        AssetFile.version.coordinate == f"{slug}@{version}").order_by(AssetFile.path)]  # fmt: skip
    raise NotFound(
        f"{slug}@{version} has no file {path!r}; its files: {', '.join(paths) or 'none'}",
        code="file-not-found",
    )
