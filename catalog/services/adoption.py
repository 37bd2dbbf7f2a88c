"""Adoption: a pilot records that it took an asset version as is, adapted or forked. This is reuse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.query.methods.count import Count
from piccolo.query.methods.select import Select

from catalog.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from catalog.schemas import Actor, AdoptionOut, AdoptionPage, AdoptionRequest, RetireRequest, utc
from catalog.services.journal import enqueue_search, for_update, now, record, write_transaction
from catalog.statements import statement
from catalog.tables import Adoption, Asset, AssetUse, AssetVersion, Label, OriginReach, Pilot
from catalog.versions import InvalidVersion, parse_version
from catalog.writer import writes

__all__ = ["get_adoption", "list_adoptions", "record_adoption", "retire_adoption"]

_COLUMNS = (
    Adoption.id,
    Adoption.asset.slug.as_alias("asset"),
    Adoption.asset.kind.as_alias("kind"),
    Adoption.asset._.origin_pilot._.slug.as_alias("origin_pilot"),
    Adoption.version.version.as_alias("version"),
    Adoption.pilot.slug.as_alias("pilot"),
    Adoption.mode,
    Adoption.hours_saved,
    Adoption.note,
    Adoption.adopted_by,
    Adoption.on_behalf_of,
    Adoption.adopted_at,
    Adoption.retired_at,
    Adoption.retire_reason,
)
# What live warnings read: the version's and the asset's state now.
_STATE = (
    Adoption.asset.as_alias("asset_id"),
    Adoption.version.yanked.as_alias("yanked"),
    Adoption.version.yanked_reason.as_alias("yanked_reason"),
    Adoption.version.yanked_at.as_alias("yanked_at"),
    Adoption.version.major.as_alias("major"),
    Adoption.version.minor.as_alias("minor"),
    Adoption.version.patch.as_alias("patch"),
    Adoption.asset.lifecycle.as_alias("lifecycle"),
    Adoption.asset.successor.as_alias("successor"),
    Adoption.asset.deprecated_at.as_alias("deprecated_at"),
)


def _out(row: dict[str, Any], warnings: list[str] | None = None) -> AdoptionOut:
    return AdoptionOut(
        **{
            k: row[k]
            for k in (
                "id",
                "asset",
                "kind",
                "version",
                "pilot",
                "origin_pilot",
                "mode",
                "note",
                "adopted_by",
                "on_behalf_of",
                "retire_reason",
            )
        },
        hours_saved=float(row["hours_saved"]),
        adopted_at=utc(row["adopted_at"]),
        retired_at=utc(row["retired_at"]) if row["retired_at"] else None,
        active=row["retired_at"] is None,
        warnings=warnings or [],
    )


async def _resolve_version(asset: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """An exact version, a label, or (when empty) the latest version."""
    slug = asset["slug"]
    if not wanted:
        if asset["latest_version"] is None:
            raise Conflict(f"every version of {slug} is yanked; there is nothing to adopt", code="version-yanked")
        wanted = asset["latest_version"]
    try:
        parse_version(wanted)
        coordinate = f"{slug}@{wanted}"
    except InvalidVersion:
        label = (
            await Label.select(Label.version.coordinate.as_alias("coordinate"))
            .where(Label.key == f"{slug}:{wanted}")
            .first()
        )
        if label is None:
            raise InvalidInput(
                f"{slug} has no version or label {wanted!r}",
                [
                    FieldProblem(
                        "/version",
                        f"{wanted!r} is neither a published version nor a label of {slug}",
                        "give a version such as 1.2.0, a label, or leave it empty for the latest",
                    )
                ],
            ) from None
        coordinate = label["coordinate"]
    row = (
        await AssetVersion.select(
            AssetVersion.id, AssetVersion.version, AssetVersion.yanked, AssetVersion.yanked_reason
        )
        .where(AssetVersion.coordinate == coordinate)
        .first()
    )
    if row is None:
        raise InvalidInput(
            f"{slug} has no version {wanted!r}",
            [FieldProblem("/version", f"{slug}@{wanted} was never published", "pick a published version")],
        )
    return dict(row)


@writes
async def record_adoption(request: AdoptionRequest, actor: Actor, *, at: datetime | None = None) -> AdoptionOut:
    """Record that a pilot adopted an asset version; recording the same active adoption twice is a no-op."""
    at = at or now()
    async with write_transaction():
        query = Asset.select(
            Asset.id,
            Asset.slug,
            Asset.lifecycle,
            Asset.successor,
            Asset.latest_version,
            Asset.owner,
            Asset.origin_pilot.as_alias("origin_id"),
            Asset.origin_pilot.slug.as_alias("origin"),
        ).where(Asset.slug == request.asset)
        asset = await for_update(query).first()
        if asset is None:
            raise InvalidInput(
                f"no asset is named {request.asset!r}",
                [
                    FieldProblem(
                        "/asset", f"no asset is named {request.asset!r}", "check the slug with GET /api/v1/assets"
                    )
                ],
            )
        # Locked too: "first adoption of this origin's work by this pilot" spans several assets.
        pilot = await for_update(
            Pilot.select(Pilot.id, Pilot.slug, Pilot.team, Pilot.status).where(Pilot.slug == request.pilot)
        ).first()
        if pilot is None:
            raise InvalidInput(
                f"no pilot is named {request.pilot!r}",
                [
                    FieldProblem(
                        "/pilot", f"no pilot is named {request.pilot!r}", "create the pilot first or fix the slug"
                    )
                ],
            )
        if not actor.may_act_for(pilot["team"]):
            raise PermissionDenied(
                f"pilot {request.pilot!r} belongs to team {pilot['team']!r}; your token is for team {actor.team!r}. "
                "Record adoptions with a token of the adopting pilot's team"
            )
        if pilot["status"] == "killed":
            raise Conflict(f"pilot {request.pilot!r} was killed; it cannot adopt assets", code="pilot-closed")
        if asset["origin"] == request.pilot:
            raise InvalidInput(
                f"{request.asset} came from pilot {request.pilot}; a pilot using its own asset is not reuse",
                [FieldProblem("/pilot", "is the asset's origin pilot", "record adoptions for other pilots only")],
                code="self-adoption",
            )
        version = await _resolve_version(dict(asset), request.version)
        if version["yanked"]:
            raise Conflict(
                f"{request.asset}@{version['version']} is yanked ({version['yanked_reason']}); adopt another version",
                code="version-yanked",
                title="Version yanked",
            )
        existing = (
            await Adoption.select(*_COLUMNS)
            .where(
                (Adoption.version == version["id"]) & (Adoption.pilot == pilot["id"]) & Adoption.retired_at.is_null()
            )
            .first()
        )
        if existing is not None:  # the same active adoption: a no-op
            return await get_adoption(existing["id"])
        seen_before = await Adoption.exists().where((Adoption.asset == asset["id"]) & (Adoption.pilot == pilot["id"]))
        reach = (Adoption.origin_pilot == asset["origin_id"]) & (Adoption.pilot == pilot["id"])
        reached_before = await Adoption.exists().where(reach)
        await Asset.update({Asset.first_adopted_at: at}).where(
            (Asset.id == asset["id"]) & (Asset.first_adopted_at.is_null() | (Asset.first_adopted_at > at))
        )
        # A stretch of use starts when nothing was in use (the asset; this pilot with the origin's work).
        if not await Adoption.exists().where((Adoption.asset == asset["id"]) & Adoption.retired_at.is_null()):
            await AssetUse.insert(AssetUse(asset=asset["id"], started_at=at))
        if not await Adoption.exists().where(reach & Adoption.retired_at.is_null()):
            await OriginReach.insert(OriginReach(origin_pilot=asset["origin_id"], pilot=pilot["id"], started_at=at))
        new_id = (
            await Adoption.insert(
                Adoption(
                    first_for_pilot=not seen_before,
                    origin_pilot=asset["origin_id"],
                    first_for_origin=not reached_before,
                    asset=asset["id"],
                    version=version["id"],
                    pilot=pilot["id"],
                    mode=request.mode,
                    hours_saved=request.hours_saved,
                    note=request.note,
                    adopted_by=actor.label,
                    on_behalf_of=request.on_behalf_of,
                    adopted_at=at,
                )
            )
        )[0]["id"]
        await record(
            "adoption.record",
            f"asset:{request.asset}@{version['version']}",
            actor,
            {"adoption": new_id, "pilot": request.pilot, "mode": request.mode, "hours_saved": request.hours_saved},
            at,
            team=asset["owner"],
            pilot=request.pilot,
        )
        await enqueue_search(request.asset, "adoption")
    return await get_adoption(new_id)


@writes
async def retire_adoption(
    adoption_id: int, request: RetireRequest, actor: Actor, *, at: datetime | None = None
) -> AdoptionOut:
    """Mark an adoption as no longer in use; it stays in history and counts for the time it was active."""
    at = at or now()
    async with write_transaction():
        owners = await Adoption.select(Adoption.asset, Adoption.pilot).where(Adoption.id == adoption_id).first()
        if owners is None:
            raise _not_found(adoption_id)
        # Locks in record_adoption's order (asset, pilot, then adoption rows): "is anything of it still in
        # use" must not race a new adoption, and the two must not deadlock.
        await for_update(Asset.select(Asset.id).where(Asset.id == owners["asset"])).first()
        await for_update(Pilot.select(Pilot.id).where(Pilot.id == owners["pilot"])).first()
        row = await for_update(
            Adoption.select(
                *_COLUMNS,
                Adoption.pilot.team.as_alias("team"),
                Adoption.asset.owner.as_alias("owner"),
                Adoption.asset.as_alias("asset_id"),
                Adoption.pilot.as_alias("pilot_id"),
                Adoption.origin_pilot.as_alias("origin_id"),
            ).where(Adoption.id == adoption_id)
        ).first()
        if row is None:  # adoptions are never deleted; typed for the checker
            raise _not_found(adoption_id)
        if not actor.may_act_for(row["team"]):
            raise PermissionDenied(
                f"adoption {adoption_id} belongs to team {row['team']!r}; your token is for {actor.team!r}"
            )
        if row["retired_at"] is not None:
            raise Conflict(f"adoption {adoption_id} was already retired", code="already-retired")
        await Adoption.update(
            {Adoption.retired_at: at, Adoption.retired_by: actor.label, Adoption.retire_reason: request.reason}
        ).where(Adoption.id == adoption_id)
        await _stop_stretches(row, at)
        await record(
            "adoption.retire",
            f"asset:{row['asset']}@{row['version']}",
            actor,
            {"adoption": adoption_id, "pilot": row["pilot"], "reason": request.reason},
            at,
            team=row["owner"],
            pilot=row["pilot"],
        )
        await enqueue_search(row["asset"], "adoption")
    return await get_adoption(adoption_id)


def _not_found(adoption_id: int) -> NotFound:
    return NotFound(f"no adoption has id {adoption_id}", code="adoption-not-found")


async def _stop_stretches(row: dict[str, Any], at: datetime) -> None:
    """End the stretches of use that this retirement ends: nothing of the asset, or of its origin's work for
    this pilot, is in use any more."""
    if not await Adoption.exists().where((Adoption.asset == row["asset_id"]) & Adoption.retired_at.is_null()):
        await AssetUse.update({AssetUse.stopped_at: at}).where(
            (AssetUse.asset == row["asset_id"]) & AssetUse.stopped_at.is_null()
        )
    reach = (Adoption.origin_pilot == row["origin_id"]) & (Adoption.pilot == row["pilot_id"])
    if not await Adoption.exists().where(reach & Adoption.retired_at.is_null()):
        await OriginReach.update({OriginReach.stopped_at: at}).where(
            (OriginReach.origin_pilot == row["origin_id"])
            & (OriginReach.pilot == row["pilot_id"])
            & OriginReach.stopped_at.is_null()
        )


@statement
def _releases_of(asset_ids: list[int]) -> Select[Any]:
    return AssetVersion.select(
        AssetVersion.asset, AssetVersion.major, AssetVersion.minor, AssetVersion.patch, AssetVersion.version
    ).where(AssetVersion.asset.is_in(asset_ids) & (AssetVersion.yanked == False) & (AssetVersion.prerelease == ""))  # noqa: E712


async def _newer(rows: list[dict[str, Any]]) -> dict[int, list[tuple[int, int, int, str]]]:
    """Per asset, its usable releases (not yanked, no pre-release) as (major, minor, patch, version)."""
    ids = list({r["asset_id"] for r in rows if r["retired_at"] is None})
    if not ids:
        return {}
    releases: dict[int, list[tuple[int, int, int, str]]] = {}
    for v in await _releases_of.run(ids):
        releases.setdefault(v["asset"], []).append((v["major"], v["minor"], v["patch"], v["version"]))
    return releases


def _warnings(row: dict[str, Any], releases: list[tuple[int, int, int, str]]) -> list[str]:
    """What an active adoption should know now (not what was true when it was recorded)."""
    if row["retired_at"] is not None:
        return []
    coordinate = f"{row['asset']}@{row['version']}"
    warnings = []
    if row["yanked"]:
        since = f" on {utc(row['yanked_at']).date().isoformat()}" if row["yanked_at"] else ""
        same_major = [r for r in releases if r[0] == row["major"]]
        target = max(same_major or releases, default=None)
        move = f"move to {row['asset']}@{target[3]}" if target else "no version of it is usable now"
        warnings.append(f"{coordinate} was yanked{since} ({row['yanked_reason']}); {move}")
    if row["lifecycle"] == "deprecated":
        since = f" on {utc(row['deprecated_at']).date().isoformat()}" if row["deprecated_at"] else ""
        successor = f"; move to its successor {row['successor']}" if row["successor"] else ""
        warnings.append(f"{row['asset']} was deprecated{since}{successor}")
    mine = (row["major"], row["minor"], row["patch"])
    newer = [r for r in releases if r[0] == row["major"] and r[:3] > mine]
    if newer:
        warnings.append(f"{row['asset']} {max(newer)[3]} is available (same major version: no breaking change)")
    return warnings


async def get_adoption(adoption_id: int, warnings: list[str] | None = None) -> AdoptionOut:
    """One adoption with its warnings as of now (plus `warnings` the caller adds)."""
    row = await Adoption.select(*_COLUMNS, *_STATE).where(Adoption.id == adoption_id).first()
    if row is None:
        raise _not_found(adoption_id)
    releases = await _newer([row])
    live = _warnings(row, releases.get(row["asset_id"], []))
    return _out(dict(row), list(dict.fromkeys([*(warnings or []), *live])))


async def list_adoptions(
    *, asset: str | None = None, pilot: str | None = None, active: bool | None = None, limit: int = 100, offset: int = 0
) -> AdoptionPage:
    """Adoptions, oldest first, by asset and/or adopting pilot."""
    rows = await _adoption_page.run(asset or None, pilot or None, active, limit=limit, offset=offset)
    releases = await _newer(rows)
    items = [_out(dict(r), _warnings(r, releases.get(r["asset_id"], []))) for r in rows]
    return AdoptionPage(total=await _adoption_count.run(asset or None, pilot or None, active), items=items)


def _adoption_conditions(asset: str | None, pilot: str | None, active: bool | None) -> list[Combinable]:
    conditions: list[Combinable] = []
    if asset:
        conditions.append(Adoption.asset.slug == asset)
    if pilot:
        conditions.append(Adoption.pilot.slug == pilot)
    if active is True:
        conditions.append(Adoption.retired_at.is_null())
    elif active is False:
        conditions.append(Adoption.retired_at.is_not_null())
    return conditions


@statement
def _adoption_page(
    asset: str | None, pilot: str | None, active: bool | None, *, limit: int, offset: int
) -> Select[Any]:
    query = Adoption.select(*_COLUMNS, *_STATE)
    for condition in _adoption_conditions(asset, pilot, active):
        query = query.where(condition)
    return query.order_by(Adoption.adopted_at).order_by(Adoption.id).limit(limit).offset(offset)


@statement
def _adoption_count(asset: str | None, pilot: str | None, active: bool | None) -> Count:
    count = Adoption.count()
    for condition in _adoption_conditions(asset, pilot, active):
        count = count.where(condition)
    return count
