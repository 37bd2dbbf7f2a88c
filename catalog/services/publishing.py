"""Publishing: a graduated pilot's team records an immutable asset version, with its files and dependencies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from catalog.errors import ConcurrentWrite, Conflict, FieldProblem, InvalidInput, PermissionDenied
from catalog.native.validation import native_problems
from catalog.schemas import Actor, Manifest, PublishResult
from catalog.services.journal import enqueue_search, for_update, now, record, write_transaction
from catalog.services.pilots import STAGE_NAMES
from catalog.tables import Asset, AssetFile, AssetVersion, Pilot
from catalog.versions import VersionRange, parse_version, sort_key
from catalog.writer import writes

__all__ = [
    "check_publisher",
    "content_digest",
    "file_bytes",
    "latest_version",
    "publish_in_transaction",
    "publish_version",
    "resolve_dependencies",
]


def file_bytes(content: str, encoding: str) -> bytes:
    """The bytes of an attached file as sent (UTF-8 text, or base64 for binary)."""
    if encoding == "base64":
        return base64.b64decode(content, validate=True)
    return content.encode("utf-8")


def content_digest(manifest: Manifest) -> str:
    """sha256 of the canonical manifest and attached files: equal content gives an equal digest."""
    body = manifest.model_dump(mode="json", exclude={"files"})
    body["files"] = sorted(
        (f.path, hashlib.sha256(file_bytes(f.content, f.encoding)).hexdigest()) for f in manifest.files
    )
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def latest_version(asset_id: int) -> str | None:
    """The highest non-yanked version, releases preferred over pre-releases."""
    rows = await AssetVersion.select(AssetVersion.version, AssetVersion.prerelease).where(
        (AssetVersion.asset == asset_id) & AssetVersion.yanked.eq(False)
    )
    releases = [r["version"] for r in rows if not r["prerelease"]]
    pool = releases or [r["version"] for r in rows]
    return max(pool, key=sort_key) if pool else None


def _check_files(manifest: Manifest) -> None:
    problems = []
    decoded = []
    for i, f in enumerate(manifest.files):
        try:
            decoded.append((f.path, file_bytes(f.content, f.encoding)))
        except (binascii.Error, ValueError):
            problems.append(
                FieldProblem(f"/files/{i}/content", f"{f.path} is not valid base64", "encode the file with base64")
            )
    if problems:
        raise InvalidInput("an attached file cannot be decoded", problems)
    problems = native_problems(manifest.kind, manifest.spec.model_dump(mode="json"), decoded)
    if problems:
        raise InvalidInput(
            f"{manifest.slug}@{manifest.version}: the native files do not match what the manifest says they are",
            problems,
            code="invalid-native-file",
        )


async def resolve_dependencies(manifest: Manifest) -> list[dict[str, str]]:
    """Each dependency's highest non-yanked version in its range: two reads, whatever the list's length."""
    if not manifest.depends_on:
        return []
    slugs = [dep.slug for dep in manifest.depends_on]
    rows = await AssetVersion.select(AssetVersion.asset.slug.as_alias("slug"), AssetVersion.version).where(
        AssetVersion.asset.slug.is_in(slugs) & AssetVersion.yanked.eq(False)
    )
    versions: dict[str, list[str]] = {}
    for row in rows:
        versions.setdefault(row["slug"], []).append(row["version"])
    missing = set(slugs) - set(versions)
    known: set[str] = set()
    if missing:  # no asset, or every version yanked: tell which
        known = {r["slug"] for r in await Asset.select(Asset.slug).where(Asset.slug.is_in(sorted(missing)))}
    resolved, problems = [], []
    for i, dep in enumerate(manifest.depends_on):
        if dep.slug in missing and dep.slug not in known:
            problems.append(
                FieldProblem(
                    f"/depends_on/{i}/slug", f"no asset is named {dep.slug!r}", "publish it first or fix the slug"
                )
            )
            continue
        available = versions.get(dep.slug, [])
        best = VersionRange(dep.version).best(available)
        if best is None:
            problems.append(
                FieldProblem(
                    f"/depends_on/{i}/version",
                    f"no non-yanked version of {dep.slug} matches {dep.version!r} "
                    f"(available: {sorted(available, key=sort_key) or 'none'})",
                    "widen the range or publish a matching version",
                )
            )
            continue
        resolved.append({"slug": dep.slug, "range": dep.version, "resolved": best})
    if problems:
        raise InvalidInput(
            "`depends_on` names versions that do not exist or are yanked", problems, code="unresolved-dependency"
        )
    return resolved


async def _graduated_pilot(manifest: Manifest, actor: Actor) -> dict[str, Any]:
    pilot = (
        await Pilot.select(Pilot.id, Pilot.slug, Pilot.team, Pilot.status, Pilot.stage)
        .where(Pilot.slug == manifest.origin_pilot)
        .first()
    )
    if pilot is None:
        raise InvalidInput(
            f"the origin pilot {manifest.origin_pilot!r} does not exist",
            [
                FieldProblem(
                    "/origin_pilot",
                    f"no pilot is named {manifest.origin_pilot!r}",
                    "create the pilot first or fix the slug",
                )
            ],
            code="unknown-pilot",
        )
    if not actor.may_act_for(pilot["team"]):
        raise PermissionDenied(
            f"the origin pilot {manifest.origin_pilot!r} belongs to team {pilot['team']!r}, not {actor.team!r}: "
            "only a pilot's own team (or an admin) publishes the assets it produced, so reuse is credited truly. "
            "Name your team's pilot in `origin_pilot`"
        )
    if pilot["status"] != "graduated":
        where = (
            f"at stage {pilot['stage']} ({STAGE_NAMES[pilot['stage']]})" if pilot["status"] == "active" else "killed"
        )
        raise Conflict(
            f"pilot {manifest.origin_pilot!r} is {where}; only a graduated pilot's assets can be published. "
            "Take it through gate 4 (commit) first",
            code="pilot-not-graduated",
            title="Pilot not graduated",
            pilot_status=pilot["status"],
            pilot_stage=pilot["stage"],
        )
    return dict(pilot)


async def _existing(manifest: Manifest, digest: str) -> PublishResult | None:
    row = (
        await AssetVersion.select(AssetVersion.content_digest)
        .where(AssetVersion.coordinate == f"{manifest.slug}@{manifest.version}")
        .first()
    )
    if row is None:
        return None
    if row["content_digest"] == digest:
        return PublishResult(status="unchanged", asset=manifest.slug, version=manifest.version, content_digest=digest)
    raise Conflict(
        f"{manifest.slug}@{manifest.version} is already published with other content "
        f"({row['content_digest'][:19]}..., this is {digest[:19]}...). Published versions are immutable: "
        "publish the change under a new version",
        code="version-exists",
        title="Version already published",
        published_digest=row["content_digest"],
    )


def check_publisher(manifest: Manifest, actor: Actor) -> None:
    """What needs no database: the token's team owns the asset, and the files are storable."""
    if not actor.may_act_for(manifest.owner):
        raise PermissionDenied(
            f"asset {manifest.slug!r} is owned by team {manifest.owner!r}; your token is for team {actor.team!r}. "
            f"Publish with a token of team {manifest.owner!r}"
        )
    _check_files(manifest)


@writes
async def publish_version(manifest: Manifest, actor: Actor, *, at: datetime | None = None) -> PublishResult:
    """Publish one version. Identical re-publish is a no-op; other content under a published version is a 409."""
    check_publisher(manifest, actor)
    digest = content_digest(manifest)
    at = at or now()
    # Reads before the write transaction: on SQLite, other writers wait for as long as it is open.
    try:
        resolved: list[dict[str, str]] | InvalidInput = await resolve_dependencies(manifest)
    except InvalidInput as unresolved:  # raised only if this is not an identical re-publish
        resolved = unresolved
    for _attempt in range(3):
        try:
            async with write_transaction():
                return await publish_in_transaction(manifest, digest, resolved, actor, at)
        except ConcurrentWrite:
            # A concurrent publish of this asset committed first; the next attempt sees its rows and
            # answers as if this request had come second (unchanged, conflict, or a new version).
            continue
    raise Conflict(f"{manifest.slug} is being published concurrently; retry the publish", code="concurrent-publish")


async def publish_in_transaction(
    manifest: Manifest, digest: str, resolved: list[dict[str, str]] | InvalidInput, actor: Actor, at: datetime
) -> PublishResult:
    """The publish itself, inside the caller's transaction (one publish, or one item of a batch)."""
    existing = await _existing(manifest, digest)
    if existing is not None:
        return existing
    pilot = await _graduated_pilot(manifest, actor)
    if isinstance(resolved, InvalidInput):
        raise resolved
    asset = await for_update(Asset.select().where(Asset.slug == manifest.slug)).first()
    warnings = []
    if asset is not None:
        mismatched = {
            field: (asset_value, new)
            for field, asset_value, new in (
                ("kind", asset["kind"], manifest.kind),
                ("owner", asset["owner"], manifest.owner),
                ("origin_pilot", asset["origin_pilot"], pilot["id"]),
            )
            if asset_value != new
        }
        if mismatched:
            fields = ", ".join(mismatched)
            raise Conflict(
                f"{manifest.slug} already exists with another {fields}; an asset's kind, owner and origin pilot "
                "never change. Publish under a new slug instead",
                code="asset-identity-mismatch",
                fields=sorted(mismatched),
            )
        if asset["lifecycle"] == "deprecated":
            warnings.append(
                f"{manifest.slug} is deprecated"
                + (f"; its successor is {asset['successor']}" if asset["successor"] else "")
            )
    manifest_json = manifest.model_dump(mode="json", exclude={"files"})
    manifest_json["files"] = [f.path for f in manifest.files]
    descriptive = {
        "title": manifest.title,
        "summary": manifest.summary,
        "description": manifest.description,
        "tags": manifest.tags,
    }
    if asset is None:
        asset_id = (
            await Asset.insert(
                Asset(
                    slug=manifest.slug,
                    kind=manifest.kind,
                    owner=manifest.owner,
                    origin_pilot=pilot["id"],
                    title=manifest.title,
                    summary=manifest.summary,
                    description=manifest.description,
                    tags=manifest.tags,
                    created_at=at,
                    updated_at=at,
                )
            )
        )[0]["id"]
    else:
        asset_id = asset["id"]
    v = parse_version(manifest.version)
    version_id = (
        await AssetVersion.insert(
            AssetVersion(
                asset=asset_id,
                coordinate=f"{manifest.slug}@{manifest.version}",
                version=manifest.version,
                major=v.major,
                minor=v.minor,
                patch=v.patch,
                prerelease=v.prerelease or "",
                manifest=manifest_json,
                spec=manifest.spec.model_dump(mode="json"),
                content_digest=digest,
                source=manifest.source.model_dump(mode="json") if manifest.source else None,
                depends_on=resolved,
                changelog=manifest.changelog,
                published_by=actor.label,
                published_at=at,
            )
        )
    )[0]["id"]
    if manifest.files:
        await AssetFile.insert(
            *[
                AssetFile(
                    version=version_id,
                    path=f.path,
                    content=f.content,
                    encoding=f.encoding,
                    size=len(file_bytes(f.content, f.encoding)),
                    sha256=hashlib.sha256(file_bytes(f.content, f.encoding)).hexdigest(),
                )
                for f in manifest.files
            ]
        )
    latest = await latest_version(asset_id)
    update: dict[Any, Any] = {Asset.latest_version: latest, Asset.updated_at: at}
    if latest == manifest.version:
        update.update({getattr(Asset, k): val for k, val in descriptive.items()})
    await Asset.update(update).where(Asset.id == asset_id)
    await record(
        "asset.publish",
        f"asset:{manifest.slug}@{manifest.version}",
        actor,
        {"digest": digest, "kind": manifest.kind, "files": len(manifest.files), "depends_on": resolved},
        at,
        team=manifest.owner,
        pilot=manifest.origin_pilot,
    )
    await enqueue_search(manifest.slug, "publish")
    return PublishResult(
        status="created", asset=manifest.slug, version=manifest.version, content_digest=digest, warnings=warnings
    )
