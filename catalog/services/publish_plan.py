"""Publishing as a plan: read what a set of manifests needs in a handful of queries, decide each manifest in
order in memory, then write every accepted version in a handful of statements.

One publish and a chunk of a batch take the same path, so they decide alike; a chunk of 100 versions costs
about as many database round trips as one version (the round trips, not the work, were the cost of a publish).
Decisions are made before anything is written, so a refused manifest leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.query.methods.select import Select

from catalog.errors import CatalogError, ConcurrentWrite, Conflict, FieldProblem, InvalidInput, PermissionDenied
from catalog.schemas import Actor, Manifest, PublishResult
from catalog.services import events
from catalog.services.journal import for_update, journal_turn, now, write_transaction
from catalog.services.pilots import STAGE_NAMES
from catalog.statements import insert_rows, statement
from catalog.tables import Asset, AssetFile, AssetVersion, JournalEntry, Pilot, SearchOutbox
from catalog.versions import VersionRange, parse_version, sort_key

__all__ = ["Outcome", "Plan", "Prepared", "highest", "publish_planned"]


@dataclass(frozen=True)
class Prepared:
    """A manifest that passed the checks needing no database, with its content digest and file bytes."""

    manifest: Manifest
    digest: str
    files: list[bytes]


def highest(versions: list[tuple[str, str]]) -> str | None:
    """The highest of (version, prerelease) pairs, releases preferred over pre-releases."""
    releases = [v for v, pre in versions if not pre]
    pool = releases or [v for v, _ in versions]
    return max(pool, key=sort_key) if pool else None


@dataclass
class _AssetState:
    row: dict[str, Any]  # the asset's columns as read, or as this plan will insert them
    versions: list[tuple[str, str]]  # non-yanked (version, prerelease), this plan's included
    new: bool  # inserted by this plan
    latest_manifest: Manifest | None = None  # a version of this plan that is now the latest


@dataclass
class _Accepted:
    prepared: Prepared
    pilot: dict[str, Any]
    resolved: list[dict[str, str]]


@statement
def _digests(coordinates: list[str]) -> Select[Any]:
    return AssetVersion.select(AssetVersion.coordinate, AssetVersion.content_digest).where(
        AssetVersion.coordinate.is_in(coordinates)
    )


@statement
def _pilots(slugs: list[str]) -> Select[Any]:
    return Pilot.select(Pilot.id, Pilot.slug, Pilot.team, Pilot.status, Pilot.stage).where(Pilot.slug.is_in(slugs))


@statement
def _assets_locked(slugs: list[str]) -> Select[Any]:
    return for_update(Asset.select().where(Asset.slug.is_in(slugs)))


@statement
def _live_versions(slugs: list[str]) -> Select[Any]:
    """Non-yanked versions of these assets."""
    return AssetVersion.select(
        AssetVersion.asset.slug.as_alias("slug"), AssetVersion.version, AssetVersion.prerelease
    ).where(AssetVersion.asset.slug.is_in(slugs) & AssetVersion.yanked.eq(False))


@dataclass
class Plan:
    """What the database holds for a set of manifests, and the versions accepted so far."""

    actor: Actor
    at: datetime
    digests: dict[str, str]  # coordinate -> content digest, published or accepted
    pilots: dict[str, dict[str, Any]]
    assets: dict[str, _AssetState]
    available: dict[str, list[tuple[str, str]]]  # dependency slug -> non-yanked (version, prerelease)
    known: set[str]  # slugs of assets that exist
    accepted: list[_Accepted] = field(default_factory=list)

    @classmethod
    async def load(cls, items: list[Prepared], actor: Actor, at: datetime) -> Plan:
        """Four reads whatever the number of manifests; the assets published to are locked (PostgreSQL)."""
        coordinates = [f"{p.manifest.slug}@{p.manifest.version}" for p in items]
        slugs = sorted({p.manifest.slug for p in items})
        needed = sorted({d.slug for p in items for d in p.manifest.depends_on} | set(slugs))
        digests = await _digests.run(coordinates)
        pilots = await _pilots.run(sorted({p.manifest.origin_pilot for p in items}))
        assets = await _assets_locked.run(slugs)
        versions = await _live_versions.run(needed)
        available: dict[str, list[tuple[str, str]]] = {}
        for row in versions:
            available.setdefault(row["slug"], []).append((row["version"], row["prerelease"]))
        known = {a["slug"] for a in assets} | set(available)
        if missing := sorted(set(needed) - known):  # no asset, or every version yanked: tell which
            known |= {r["slug"] for r in await Asset.select(Asset.slug).where(Asset.slug.is_in(missing))}
        return cls(
            actor=actor,
            at=at,
            digests={r["coordinate"]: r["content_digest"] for r in digests},
            pilots={p["slug"]: dict(p) for p in pilots},
            assets={a["slug"]: _AssetState(dict(a), available.get(a["slug"], []), new=False) for a in assets},
            available=available,
            known=known,
        )

    def decide(self, prepared: Prepared) -> PublishResult:
        """Accept one manifest into the plan, or raise why it cannot be published (nothing of it is kept)."""
        manifest, digest = prepared.manifest, prepared.digest
        coordinate = f"{manifest.slug}@{manifest.version}"
        if (published := self.digests.get(coordinate)) is not None:
            return _unchanged_or_conflict(manifest, digest, published)
        pilot = self._graduated_pilot(manifest)
        resolved = self._resolve(manifest)
        warnings = self._check_identity(manifest, pilot)
        state = self.assets.get(manifest.slug)
        if state is None:
            row = {"id": None, "slug": manifest.slug, "kind": manifest.kind, "owner": manifest.owner,
                   "origin_pilot": pilot["id"], "lifecycle": "active", "successor": None}  # fmt: skip
            state = self.assets[manifest.slug] = _AssetState(row, [], new=True)
        v = parse_version(manifest.version)
        state.versions.append((manifest.version, v.prerelease or ""))
        if highest(state.versions) == manifest.version:
            state.latest_manifest = manifest
        self.available[manifest.slug] = state.versions
        self.known.add(manifest.slug)
        self.digests[coordinate] = digest
        self.accepted.append(_Accepted(prepared, pilot, resolved))
        return PublishResult(
            status="created", asset=manifest.slug, version=manifest.version, content_digest=digest, warnings=warnings
        )

    def _graduated_pilot(self, manifest: Manifest) -> dict[str, Any]:
        pilot = self.pilots.get(manifest.origin_pilot)
        if pilot is None:
            raise InvalidInput(
                f"the origin pilot {manifest.origin_pilot!r} does not exist",
                [FieldProblem("/origin_pilot", f"no pilot is named {manifest.origin_pilot!r}",
                              "create the pilot first or fix the slug")],
                code="unknown-pilot",
            )  # fmt: skip
        if not self.actor.may_act_for(pilot["team"]):
            raise PermissionDenied(
                f"the origin pilot {manifest.origin_pilot!r} belongs to team {pilot['team']!r}, not "
                f"{self.actor.team!r}: only a pilot's own team (or an admin) publishes the assets it produced, so "
                "reuse is credited truly. Name your team's pilot in `origin_pilot`"
            )
        if pilot["status"] != "graduated":
            stage = pilot["stage"]
            where = f"at stage {stage} ({STAGE_NAMES[stage]})" if pilot["status"] == "active" else "killed"
            raise Conflict(
                f"pilot {manifest.origin_pilot!r} is {where}; only a graduated pilot's assets can be published. "
                "Take it through gate 4 (commit) first",
                code="pilot-not-graduated",
                title="Pilot not graduated",
                pilot_status=pilot["status"],
                pilot_stage=stage,
            )
        return pilot

    def _resolve(self, manifest: Manifest) -> list[dict[str, str]]:
        """Each dependency's highest non-yanked version in its range (published, or earlier in this plan)."""
        resolved, problems = [], []
        for i, dep in enumerate(manifest.depends_on):
            if dep.slug not in self.known:
                problems.append(FieldProblem(f"/depends_on/{i}/slug", f"no asset is named {dep.slug!r}",
                                             "publish it first or fix the slug"))  # fmt: skip
                continue
            available = [v for v, _ in self.available.get(dep.slug, [])]
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

    def _check_identity(self, manifest: Manifest, pilot: dict[str, Any]) -> list[str]:
        """An asset's kind, owner and origin pilot never change; publishing to a deprecated one warns."""
        state = self.assets.get(manifest.slug)
        if state is None:
            return []
        asset = state.row
        mismatched = [
            name
            for name, value, new in (
                ("kind", asset["kind"], manifest.kind),
                ("owner", asset["owner"], manifest.owner),
                ("origin_pilot", asset["origin_pilot"], pilot["id"]),
            )
            if value != new
        ]
        if mismatched:
            raise Conflict(
                f"{manifest.slug} already exists with another {', '.join(mismatched)}; an asset's kind, owner and "
                "origin pilot never change. Publish under a new slug instead",
                code="asset-identity-mismatch",
                fields=sorted(mismatched),
            )
        if asset["lifecycle"] != "deprecated":
            return []
        successor = f"; its successor is {asset['successor']}" if asset["successor"] else ""
        return [f"{manifest.slug} is deprecated{successor}"]

    async def write(self) -> None:
        """Write every accepted version: assets, versions, files, journal, webhooks and search outbox in bulk."""
        if not self.accepted:
            return
        await self._write_assets()
        version_ids = await self._write_versions()
        files = [
            AssetFile(version=version_ids[f"{m.slug}@{m.version}"], path=f.path, content=f.content,
                      encoding=f.encoding, size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
            for a in self.accepted
            for m in [a.prepared.manifest]
            for f, raw in zip(m.files, a.prepared.files, strict=True)
        ]  # fmt: skip
        await insert_rows(AssetFile, files)
        entries = [
            JournalEntry(
                at=self.at, actor=self.actor.label, action="asset.publish",
                subject=f"asset:{m.slug}@{m.version}", asset=m.slug, pilot=m.origin_pilot, team=m.owner,
                payload={"digest": a.prepared.digest, "kind": m.kind, "files": len(m.files), "depends_on": a.resolved},
            )
            for a in self.accepted
            for m in [a.prepared.manifest]
        ]  # fmt: skip
        await journal_turn()
        await insert_rows(JournalEntry, entries)
        await events.fan_out_many(entries, {slug: _event_view(state) for slug, state in self.assets.items()})
        queued = now()
        outbox = [SearchOutbox(asset_slug=slug, reason="publish", created_at=queued, next_attempt_at=queued)
                  for slug in dict.fromkeys(a.prepared.manifest.slug for a in self.accepted)]  # fmt: skip
        await insert_rows(SearchOutbox, outbox)

    async def _write_assets(self) -> None:
        """New assets are inserted as they end (latest version, descriptive fields); changed ones updated."""
        touched = {a.prepared.manifest.slug: self.assets[a.prepared.manifest.slug] for a in self.accepted}
        new = [(slug, state) for slug, state in touched.items() if state.new]
        rows = []
        for slug, s in new:
            assert s.latest_manifest is not None  # a new asset's only versions are this plan's
            rows.append(Asset(slug=slug, kind=s.row["kind"], owner=s.row["owner"], origin_pilot=s.row["origin_pilot"],
                              latest_version=highest(s.versions), created_at=self.at, updated_at=self.at,
                              **_descriptive(s.latest_manifest)))  # fmt: skip
        await insert_rows(Asset, rows)
        for (_, state), row in zip(new, rows, strict=True):
            state.row["id"] = row.id
        for slug, state in touched.items():
            if state.new:
                continue
            update: dict[Any, Any] = {Asset.latest_version: highest(state.versions), Asset.updated_at: self.at}
            if state.latest_manifest is not None:
                update.update({getattr(Asset, k): v for k, v in _descriptive(state.latest_manifest).items()})
            await Asset.update(update).where(Asset.slug == slug)

    async def _write_versions(self) -> dict[str, int]:
        rows = []
        for accepted in self.accepted:
            m = accepted.prepared.manifest
            v = parse_version(m.version)
            body = m.model_dump(mode="json", exclude={"files"})
            body["files"] = [f.path for f in m.files]
            rows.append(
                AssetVersion(
                    asset=self.assets[m.slug].row["id"], coordinate=f"{m.slug}@{m.version}", version=m.version,
                    major=v.major, minor=v.minor, patch=v.patch, prerelease=v.prerelease or "", manifest=body,
                    spec=body["spec"], content_digest=accepted.prepared.digest, source=body.get("source"),
                    depends_on=accepted.resolved, changelog=m.changelog, published_by=self.actor.label,
                    published_at=self.at,
                )
            )  # fmt: skip
        await insert_rows(AssetVersion, rows)
        return {row.coordinate: row.id for row in rows}


def _event_view(state: _AssetState) -> dict[str, Any]:
    """The asset as webhook filters see it after the publish (tags follow the latest version)."""
    tags = state.latest_manifest.tags if state.latest_manifest is not None else state.row.get("tags") or []
    return {"slug": state.row["slug"], "kind": state.row["kind"], "owner": state.row["owner"], "tags": tags}


def _descriptive(manifest: Manifest) -> dict[str, Any]:
    return {"title": manifest.title, "summary": manifest.summary, "description": manifest.description,
            "tags": manifest.tags}  # fmt: skip


def _unchanged_or_conflict(manifest: Manifest, digest: str, published: str) -> PublishResult:
    if published == digest:
        return PublishResult(status="unchanged", asset=manifest.slug, version=manifest.version, content_digest=digest)
    raise Conflict(
        f"{manifest.slug}@{manifest.version} is already published with other content "
        f"({published[:19]}..., this is {digest[:19]}...). Published versions are immutable: "
        "publish the change under a new version",
        code="version-exists",
        title="Version already published",
        published_digest=published,
    )


Outcome = PublishResult | CatalogError  # a manifest published (or unchanged), or why not
ATTEMPTS = 3  # planned again from what a concurrent writer committed


async def publish_planned(items: list[Prepared], actor: Actor, at: datetime) -> list[Outcome] | None:
    """Each manifest's outcome, decided in order and written in one transaction; None when concurrent writers
    got in the way of every attempt (the caller answers that as a conflict to retry)."""
    for _attempt in range(ATTEMPTS):
        outcomes: list[Outcome] = []
        try:
            async with write_transaction():
                plan = await Plan.load(items, actor, at)
                for item in items:
                    try:
                        outcomes.append(plan.decide(item))
                    except CatalogError as error:
                        outcomes.append(error)
                await plan.write()
        except ConcurrentWrite:
            continue
        return outcomes
    return None
