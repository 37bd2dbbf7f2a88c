"""What search is fed: documents built from the database, which stays the source of truth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio

from catalog.roles import Roles, row_roles
from catalog.schemas import AssetDocument, utc
from catalog.tables import Adoption, Asset, AssetVersion

__all__ = ["all_asset_documents", "asset_documents"]


async def _documents(rows: list[dict[str, Any]]) -> list[AssetDocument]:
    if not rows:
        return []
    coordinates = [f"{r['slug']}@{r['latest_version']}" for r in rows]
    versions = {
        v["coordinate"]: v
        for v in await AssetVersion.select(
            AssetVersion.coordinate, AssetVersion.spec, AssetVersion.manifest, AssetVersion.published_at
        )
        .where(AssetVersion.coordinate.is_in(coordinates))
        .output(load_json=True)
    }
    adopters: dict[int, set[int]] = {r["id"]: set() for r in rows}
    for a in await Adoption.select(Adoption.asset, Adoption.pilot).where(
        Adoption.asset.is_in(list(adopters)) & Adoption.retired_at.is_null()
    ):
        adopters[a["asset"]].add(a["pilot"])
    out = []

    def read_roles() -> list[Roles]:
        return [row_roles(r, versions[c]["manifest"]) for r, c in zip(rows, coordinates, strict=True)]

    all_roles = await anyio.to_thread.run_sync(read_roles)  # regular expressions over prompt text: off the loop
    for r, coordinate, roles in zip(rows, coordinates, all_roles, strict=True):
        version = versions[coordinate]
        out.append(
            AssetDocument(
                slug=r["slug"],
                kind=r["kind"],
                title=r["title"],
                summary=r["summary"],
                description=r["description"],
                tags=list(r["tags"] or []),
                owner=r["owner"],
                origin_pilot=r["origin_slug"],
                origin_pilot_name=r["origin_name"],
                origin_pilot_problem=r["origin_problem"],
                lifecycle=r["lifecycle"],
                successor=r["successor"],
                latest_version=r["latest_version"],
                spec=version["spec"],
                patterns=roles.patterns,
                risks=roles.risks,
                reuse_count=len(adopters[r["id"]]),
                published_at=utc(version["published_at"]),
            )
        )
    return out


_COLUMNS = (
    Asset.id,
    Asset.slug,
    Asset.kind,
    Asset.title,
    Asset.summary,
    Asset.description,
    Asset.tags,
    Asset.owner,
    Asset.lifecycle,
    Asset.successor,
    Asset.latest_version,
    Asset.origin_pilot.slug.as_alias("origin_slug"),
    Asset.origin_pilot.name.as_alias("origin_name"),
    Asset.origin_pilot.problem.as_alias("origin_problem"),
)


async def asset_documents(slugs: Sequence[str]) -> tuple[list[AssetDocument], list[str]]:
    """Documents for these assets, and the slugs that must leave the index (gone, or every version yanked)."""
    unique = sorted(set(slugs))
    # In id order, as a full reindex writes them: equal sort keys then rank the same either way.
    rows = (
        await Asset.select(*_COLUMNS)
        .where(Asset.slug.is_in(unique) & Asset.latest_version.is_not_null())
        .order_by(Asset.id)
    )
    documents = await _documents(rows)
    present = {d.slug for d in documents}
    return documents, [s for s in unique if s not in present]


async def all_asset_documents(batch_size: int = 500) -> AsyncIterator[list[AssetDocument]]:
    """Every indexable asset, in batches by id (for a full reindex)."""
    last_id = 0
    while True:
        rows = (
            await Asset.select(*_COLUMNS)
            .where((Asset.id > last_id) & Asset.latest_version.is_not_null())
            .order_by(Asset.id)
            .limit(batch_size)
        )
        if not rows:
            return
        last_id = rows[-1]["id"]
        yield await _documents(rows)
