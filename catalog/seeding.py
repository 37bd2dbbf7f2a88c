"""Load `seed_assets/`: pilots with their gate history, their published assets, and the reuse between them.

Seeding is idempotent: what exists is left alone, so seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from catalog.manifests import find_manifests, load_manifest, publish_order
from catalog.schemas import (
    SYSTEM,
    AdoptionRequest,
    DeprecateRequest,
    GateRequest,
    LabelRequest,
    PilotRequest,
    RetireRequest,
    YankRequest,
    parse_manifest,
)
from catalog.services import adoption, curation, pilots, publishing
from catalog.services.searchlog import record_searches
from catalog.tables import Adoption, Asset, AssetVersion, Label, Pilot, SearchLog

__all__ = ["SeedReport", "seed_catalog"]


@dataclass
class SeedReport:
    pilots: int = 0
    versions: int = 0
    adoptions: int = 0
    curations: int = 0
    searches: int = 0

    @property
    def loaded(self) -> bool:
        return bool(self.pilots or self.versions or self.adoptions or self.curations or self.searches)

    def summary(self) -> str:
        return (
            f"{self.pilots} pilots, {self.versions} asset versions, {self.adoptions} adoptions, "
            f"{self.curations} curation steps, {self.searches} logged searches"
        )


def _when(value: Any) -> datetime:
    """Seed files give dates or datetimes; the catalog stores UTC datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(10, 0), tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def _seed_pilot(data: dict[str, Any], report: SeedReport) -> None:
    gates = data.pop("gates", [])
    created = _when(data.pop("created_at"))
    if await Pilot.exists().where(Pilot.slug == data["slug"]):
        return
    await pilots.create_pilot(PilotRequest.model_validate(data), SYSTEM, at=created)
    for gate in gates:
        decided = _when(gate.pop("decided_at"))
        await pilots.decide_gate(data["slug"], GateRequest.model_validate(gate), SYSTEM, at=decided)
    report.pilots += 1


async def seed_catalog(seed_dir: Path, *, only_if_empty: bool = True, enabled: bool | None = True) -> SeedReport:
    """Load the seed; with `only_if_empty`, only into a catalog that has no pilots yet."""
    report = SeedReport()
    if enabled is False or (only_if_empty and await Pilot.exists()):
        return report
    if not (seed_dir / "history.yaml").is_file():  # an installed package without the seed folder
        return report
    for path in sorted((seed_dir / "pilots").glob("*.yaml")):
        await _seed_pilot(yaml.safe_load(path.read_text(encoding="utf-8")), report)
    history = yaml.safe_load((seed_dir / "history.yaml").read_text(encoding="utf-8"))
    published = {str(k): _when(v) for k, v in (history.get("published") or {}).items()}
    manifests = [load_manifest(p) for p in find_manifests([seed_dir / "assets"])]
    for data in publish_order(manifests):
        manifest = parse_manifest(data)
        at = published.get(f"{manifest.slug}@{manifest.version}")
        if at is None:
            graduated = await Pilot.select(Pilot.graduated_at).where(Pilot.slug == manifest.origin_pilot).first()
            at = _when(graduated["graduated_at"]) + timedelta(days=2) if graduated else None
        result = await publishing.publish_version(manifest, SYSTEM, at=at)
        report.versions += result.status == "created"
    moves: dict[str, list[dict[str, Any]]] = {}
    for item in history.get("labels") or []:  # each label's moves, in order, dated so time travel answers
        moves.setdefault(f"{item['asset']}:{item['label']}", []).append(item)
    for key, items in moves.items():
        if await Label.select(Label.id).where(Label.key == key).first() is None:
            for item in items:
                at = _when(item["at"]) if item.get("at") else None
                request = LabelRequest(version=item["version"], reason=item.get("reason", ""))
                await curation.move_label(item["asset"], item["label"], request, SYSTEM, at=at)
                report.curations += 1
    for item in history.get("adoptions") or []:
        await _seed_adoption(dict(item), report)
    for item in history.get("yanks") or []:
        coordinate = f"{item['asset']}@{item['version']}"
        if not await AssetVersion.exists().where(
            (AssetVersion.coordinate == coordinate) & AssetVersion.yanked.eq(True)
        ):
            yank = YankRequest(reason=item["reason"])
            await curation.yank_version(item["asset"], item["version"], yank, SYSTEM, at=_when(item["at"]))
            report.curations += 1
    if history.get("searches") and not await SearchLog.exists().where(SearchLog.source == "seed"):
        await record_searches(
            [
                {"at": _when(s["at"]), "query": s["q"], "hits": s["hits"], "took_ms": 1.0, "source": "seed"}
                for s in history["searches"]
            ]
        )
        report.searches = len(history["searches"])
    for item in history.get("deprecations") or []:
        if not await Asset.exists().where((Asset.slug == item["asset"]) & (Asset.lifecycle == "deprecated")):
            deprecation = DeprecateRequest(reason=item["reason"], successor=item.get("successor"))
            await curation.deprecate_asset(item["asset"], deprecation, SYSTEM, at=_when(item["at"]))
            report.curations += 1
    return report


async def _seed_adoption(item: dict[str, Any], report: SeedReport) -> None:
    at, retired = _when(item.pop("at")), item.pop("retired_at", None)
    seen = await Adoption.exists().where(
        (Adoption.asset.slug == item["asset"])
        & (Adoption.version.version == item["version"])
        & (Adoption.pilot.slug == item["pilot"])
    )
    if seen:
        return
    result = await adoption.record_adoption(AdoptionRequest.model_validate(item), SYSTEM, at=at)
    if retired:
        reason = RetireRequest(reason="replaced during the pilot")
        await adoption.retire_adoption(result.id, reason, SYSTEM, at=_when(retired))
    report.adoptions += 1
