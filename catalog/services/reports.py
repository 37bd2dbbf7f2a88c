"""The reuse report: how graduated pilots' work compounds. Every figure is defined in docs/metrics.md.

Figures are computed by the database (grouped SQL over indexed columns), so the report stays fast on a
catalog with a million adoptions; Python only shapes the rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from piccolo.engine.postgres import PostgresEngine

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import (
    AssetFigures,
    AtRiskAdoption,
    DemandQuery,
    KindFigures,
    MonthFigures,
    OriginPilotFigures,
    ReportPeriod,
    ReuseReport,
    ReuseSummary,
    StaleAsset,
    TeamFigures,
    utc,
)
from catalog.services.journal import now
from catalog.tables import Adoption, Pilot

__all__ = ["STALE_AFTER_DAYS", "STARTED_WITHIN_DAYS", "reuse_report"]

STALE_AFTER_DAYS = 90
STARTED_WITHIN_DAYS = 30
LIST_LIMIT = 100

_PARAM = re.compile(r":(\w+)")

_AVAILABLE = """EXISTS (SELECT 1 FROM asset_version v WHERE v.asset = a.id AND v.published_at < :until
    AND (v.yanked_at IS NULL OR v.yanked_at >= :until))"""

_SECTIONS = """
WITH per_asset AS MATERIALIZED (
  SELECT ad.asset AS asset_id,
    SUM(CASE WHEN ad.adopted_at >= :since THEN 1 ELSE 0 END) AS adoptions,
    SUM(CASE WHEN ad.adopted_at >= :since THEN ad.hours_saved ELSE 0 END) AS hours,
    SUM(CASE WHEN ad.pair_retired_at IS NULL OR ad.pair_retired_at >= :since THEN 1 ELSE 0 END) AS active_pilots
  FROM adoption ad WHERE ad.first_for_pilot AND ad.adopted_at < :until GROUP BY ad.asset
), assets AS MATERIALIZED (
  SELECT a.id, a.slug, a.kind, a.owner, a.origin_pilot,
    CASE WHEN av.asset IS NULL THEN 0 ELSE 1 END AS available,
    CASE WHEN a.created_at >= :since THEN 1 ELSE 0 END AS published,
    COALESCE(p.adoptions, 0) AS adoptions, COALESCE(p.hours, 0) AS hours, COALESCE(p.active_pilots, 0) AS active_pilots
  FROM asset a LEFT JOIN per_asset p ON p.asset_id = a.id
    LEFT JOIN (
      SELECT v.asset FROM asset_version v
      WHERE v.published_at < :until AND (v.yanked_at IS NULL OR v.yanked_at >= :until) GROUP BY v.asset
    ) av ON av.asset = a.id
  WHERE a.created_at < :until
)
SELECT 'kind' AS section, kind AS key, SUM(available) AS available, SUM(published) AS published,
  SUM(CASE WHEN available = 1 AND active_pilots > 0 THEN 1 ELSE 0 END) AS reused,
  SUM(adoptions) AS adoptions, SUM(hours) AS hours, 0 AS active_pilots
FROM assets GROUP BY kind
UNION ALL
SELECT 'origin', CAST(origin_pilot AS TEXT), SUM(available), SUM(published),
  SUM(CASE WHEN available = 1 AND active_pilots > 0 THEN 1 ELSE 0 END), SUM(adoptions), SUM(hours), 0
FROM assets GROUP BY origin_pilot
UNION ALL
SELECT 'team', owner, SUM(available), SUM(published),
  SUM(CASE WHEN available = 1 AND active_pilots > 0 THEN 1 ELSE 0 END), SUM(adoptions), SUM(hours), 0
FROM assets GROUP BY owner
UNION ALL
SELECT * FROM (
  SELECT 'asset', CAST(id AS TEXT), available, published, CASE WHEN active_pilots > 0 THEN 1 ELSE 0 END,
    adoptions, hours, active_pilots
  FROM assets WHERE adoptions > 0 OR active_pilots > 0 ORDER BY adoptions DESC, active_pilots DESC, hours DESC, slug
  LIMIT :top
) top_assets
"""

_DOWNSTREAM = """
SELECT origin, COUNT(*) AS pilots FROM (
  SELECT a.origin_pilot AS origin, ad.pilot
  FROM adoption ad JOIN asset a ON a.id = ad.asset
  WHERE ad.first_for_pilot AND ad.adopted_at < :until AND (ad.pair_retired_at IS NULL OR ad.pair_retired_at >= :since)
  GROUP BY a.origin_pilot, ad.pilot
) pairs GROUP BY origin
"""

_ADOPTERS = """
SELECT p.team AS team, COUNT(*) AS adoptions, COUNT(DISTINCT ad.pilot) AS pilots, SUM(ad.hours_saved) AS hours
FROM adoption ad JOIN pilot p ON p.id = ad.pilot
WHERE ad.first_for_pilot AND ad.adopted_at >= :since AND ad.adopted_at < :until
GROUP BY p.team
"""

_MONTHS = """
SELECT {month} AS month, COUNT(*) AS adoptions, SUM(hours_saved) AS hours
FROM adoption WHERE first_for_pilot AND adopted_at >= :since AND adopted_at < :until
GROUP BY {month} ORDER BY 1
"""

_NEW_PILOTS = """
SELECT p.created_at AS created_at, (SELECT MIN(ad.adopted_at) FROM adoption ad WHERE ad.pilot = p.id) AS first_adoption
FROM pilot p WHERE p.created_at >= :since AND p.created_at < :until
"""

_STALE = """
SELECT a.slug, a.kind, a.title, a.owner, p.slug AS origin, a.lifecycle, a.created_at, COUNT(*) OVER () AS total
FROM asset a JOIN pilot p ON p.id = a.origin_pilot
WHERE a.created_at < :stale_before AND __AVAILABLE__
  AND NOT EXISTS (SELECT 1 FROM adoption ad WHERE ad.asset = a.id AND ad.adopted_at < :until)
ORDER BY a.created_at, a.slug LIMIT :limit
"""

_STALE = _STALE.replace("__AVAILABLE__", _AVAILABLE)

_AT_RISK = """
WITH risky AS (
  SELECT a.id AS asset_id FROM asset a WHERE a.deprecated_at IS NOT NULL AND a.deprecated_at < :until
  UNION SELECT v.asset FROM asset_version v WHERE v.yanked_at IS NOT NULL AND v.yanked_at < :until
)
SELECT ad.id, pl.slug AS pilot, a.slug AS asset, v.version, a.successor, a.latest_version, ad.adopted_at,
  CASE WHEN a.deprecated_at IS NOT NULL AND a.deprecated_at < :until THEN 1 ELSE 0 END AS deprecated,
  CASE WHEN v.yanked_at IS NOT NULL AND v.yanked_at < :until THEN 1 ELSE 0 END AS yanked,
  COUNT(*) OVER () AS total
FROM risky r JOIN adoption ad ON ad.asset = r.asset_id JOIN asset a ON a.id = ad.asset
  JOIN asset_version v ON v.id = ad.version JOIN pilot pl ON pl.id = ad.pilot
WHERE ad.adopted_at < :until AND (ad.retired_at IS NULL OR ad.retired_at >= :until)
  AND ((a.deprecated_at IS NOT NULL AND a.deprecated_at < :until) OR (v.yanked_at IS NOT NULL AND v.yanked_at < :until))
ORDER BY ad.adopted_at, ad.id LIMIT :limit
"""

_DEMAND = """
SELECT normalized, COUNT(*) AS searches, MAX(at) AS last_at FROM search_log
WHERE hits = 0 AND at >= :since AND at < :until AND normalized <> ''
GROUP BY normalized ORDER BY searches DESC, normalized LIMIT :top
"""


def _postgres() -> bool:
    return isinstance(Adoption._meta.db, PostgresEngine)


def _value(value: Any) -> Any:
    """SQLite keeps timestamps as text: compare with text written the same way."""
    if isinstance(value, datetime) and not _postgres():
        return value.astimezone(UTC).isoformat(sep=" ")
    return value


async def _rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run SQL written with :named parameters (Piccolo's raw queries take positional `{}`)."""
    names = _PARAM.findall(sql)
    args = [_value(params[name]) for name in names]
    rows: list[dict[str, Any]] = await Adoption.raw(_PARAM.sub("{}", sql), *args)
    return rows


def _dt(value: Any) -> datetime:
    return utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _months(since: datetime, until: datetime) -> list[str]:
    out, year, month = [], since.year, since.month
    while (year, month) <= ((until - timedelta(microseconds=1)).year, (until - timedelta(microseconds=1)).month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def default_period(until: datetime | None = None) -> ReportPeriod:
    """The last twelve months up to now."""
    end = until or now()
    return ReportPeriod(since=end - timedelta(days=365), until=end)


async def reuse_report(since: datetime | None = None, until: datetime | None = None, *, top: int = 10) -> ReuseReport:
    """The reuse report for [since, until): summary, breakdowns, stale, at risk and unmet demand."""
    return await _report(since, until, top)


async def _report(since: datetime | None, until: datetime | None, top: int) -> ReuseReport:
    period = default_period(until) if since is None else ReportPeriod(since=since, until=until or now())
    since, until = utc(period.since), utc(period.until)
    if since >= until:
        raise InvalidInput(
            "the period is empty",
            [FieldProblem("/query/since", f"since ({since:%Y-%m-%d}) is not before until ({until:%Y-%m-%d})",
                          "give a `since` earlier than `until`")],
        )  # fmt: skip
    month_expr = "to_char(adopted_at AT TIME ZONE 'UTC', 'YYYY-MM')" if _postgres() else "substr(adopted_at, 1, 7)"
    stale_before = until - timedelta(days=STALE_AFTER_DAYS)
    # Independent reads: on PostgreSQL they run side by side on their own connections.
    queries: list[tuple[str, dict[str, Any]]] = [
        (_SECTIONS, {"since": since, "until": until, "top": top}),
        (_DOWNSTREAM, {"since": since, "until": until}),
        (_ADOPTERS, {"since": since, "until": until}),
        (_MONTHS.format(month=month_expr), {"since": since, "until": until}),
        (_NEW_PILOTS, {"since": since, "until": until}),
        (_STALE, {"until": until, "stale_before": stale_before, "limit": LIST_LIMIT}),
        (_AT_RISK, {"until": until, "limit": LIST_LIMIT}),
        (_DEMAND, {"since": since, "until": until, "top": top}),
    ]
    if _postgres():
        results = await asyncio.gather(*(_rows(sql, **params) for sql, params in queries))
    else:
        results = [await _rows(sql, **params) for sql, params in queries]
    sections, downstream_rows, adopters, month_rows, new_pilots, stale, at_risk, demand = results
    downstream = {int(r["origin"]): int(r["pilots"]) for r in downstream_rows}
    months = {r["month"]: r for r in month_rows}

    by_section: dict[str, list[dict[str, Any]]] = {}
    for row in sections:
        by_section.setdefault(row["section"], []).append(row)
    by_kind = [
        KindFigures(
            kind=r["key"], assets_available=int(r["available"]), assets_published=int(r["published"]),
            assets_reused=int(r["reused"]), reuse_rate=_rate(int(r["reused"]), int(r["available"])),
            adoptions=int(r["adoptions"]), hours_saved=float(r["hours"] or 0),
        )
        for r in sorted(by_section.get("kind", []), key=lambda r: r["key"])
    ]  # fmt: skip
    started = sum(
        1
        for p in new_pilots
        if p["first_adoption"] is not None
        and _dt(p["first_adoption"]) < _dt(p["created_at"]) + timedelta(days=STARTED_WITHIN_DAYS)
    )
    available = sum(k.assets_available for k in by_kind)
    reused = sum(k.assets_reused for k in by_kind)
    summary = ReuseSummary(
        assets_available=available,
        assets_published=sum(k.assets_published for k in by_kind),
        assets_reused=reused,
        reuse_rate=_rate(reused, available),
        adoptions=sum(int(r["adoptions"]) for r in adopters),
        adopting_pilots=sum(int(r["pilots"]) for r in adopters),
        hours_saved=round(sum(float(r["hours"] or 0) for r in adopters), 2),
        pilots_created=len(new_pilots),
        started_with_catalog=started,
        started_with_catalog_share=_rate(started, len(new_pilots)),
    )
    return ReuseReport(
        period=ReportPeriod(since=since, until=until),
        summary=summary,
        adoptions_per_month=[
            MonthFigures(
                month=m,
                adoptions=int(months[m]["adoptions"]) if m in months else 0,
                hours_saved=float(months[m]["hours"] or 0) if m in months else 0.0,
            )
            for m in _months(since, until)
        ],
        by_kind=by_kind,
        by_asset=await _top_assets(by_section.get("asset", [])),
        by_origin_pilot=await _origin_pilots(by_section.get("origin", []), downstream),
        by_team=_teams(by_section.get("team", []), adopters),
        stale=[
            StaleAsset(
                slug=r["slug"],
                kind=r["kind"],
                title=r["title"],
                owner=r["owner"],
                origin_pilot=r["origin"],
                lifecycle=r["lifecycle"],
                first_published_at=_dt(r["created_at"]),
                days_since_published=(until - _dt(r["created_at"])).days,
            )
            for r in stale
        ],
        stale_total=int(stale[0]["total"]) if stale else 0,
        at_risk=[_at_risk(r) for r in at_risk],
        at_risk_total=int(at_risk[0]["total"]) if at_risk else 0,
        demand=[
            DemandQuery(query=r["normalized"], searches=int(r["searches"]), last_searched_at=_dt(r["last_at"]))
            for r in demand
        ],
    )


async def _top_assets(rows: Sequence[dict[str, Any]]) -> list[AssetFigures]:
    from catalog.tables import Asset

    ids = [int(r["key"]) for r in rows]
    details = {
        a["id"]: a
        for a in await Asset.select(
            Asset.id, Asset.slug, Asset.kind, Asset.title, Asset.owner, Asset.origin_pilot.slug.as_alias("origin")
        ).where(Asset.id.is_in(ids or [-1]))
    }
    return [
        AssetFigures(
            slug=details[int(r["key"])]["slug"], kind=details[int(r["key"])]["kind"],
            title=details[int(r["key"])]["title"], owner=details[int(r["key"])]["owner"],
            origin_pilot=details[int(r["key"])]["origin"], adoptions=int(r["adoptions"]),
            active_pilots=int(r["active_pilots"]), hours_saved=float(r["hours"] or 0),
        )
        for r in rows
    ]  # fmt: skip


async def _origin_pilots(rows: Sequence[dict[str, Any]], downstream: dict[int, int]) -> list[OriginPilotFigures]:
    ids = [int(r["key"]) for r in rows]
    pilots = {
        p["id"]: p
        for p in await Pilot.select(Pilot.id, Pilot.slug, Pilot.name, Pilot.team).where(Pilot.id.is_in(ids or [-1]))
    }
    out = [
        OriginPilotFigures(
            pilot=pilots[int(r["key"])]["slug"], name=pilots[int(r["key"])]["name"], team=pilots[int(r["key"])]["team"],
            assets_available=int(r["available"]), assets_reused=int(r["reused"]),
            downstream_pilots=downstream.get(int(r["key"]), 0), adoptions=int(r["adoptions"]),
            hours_saved=float(r["hours"] or 0),
        )
        for r in rows
    ]  # fmt: skip
    return sorted(out, key=lambda o: (-o.downstream_pilots, -o.adoptions, o.pilot))


def _teams(rows: Sequence[dict[str, Any]], adopters: Sequence[dict[str, Any]]) -> list[TeamFigures]:
    made = {r["team"]: int(r["adoptions"]) for r in adopters}
    teams = {r["key"] for r in rows} | set(made)
    owned = {r["key"]: r for r in rows}
    out = [
        TeamFigures(
            team=t,
            assets_available=int(owned[t]["available"]) if t in owned else 0,
            assets_reused=int(owned[t]["reused"]) if t in owned else 0,
            adoptions_received=int(owned[t]["adoptions"]) if t in owned else 0,
            hours_saved=float(owned[t]["hours"] or 0) if t in owned else 0.0,
            adoptions_made=made.get(t, 0),
        )
        for t in teams
    ]
    return sorted(out, key=lambda t: (-t.adoptions_received, -t.assets_available, t.team))


def _at_risk(r: dict[str, Any]) -> AtRiskAdoption:
    deprecated, yanked = bool(r["deprecated"]), bool(r["yanked"])
    reason: Literal["deprecated", "yanked", "deprecated and yanked"] = (
        "deprecated and yanked" if deprecated and yanked else ("deprecated" if deprecated else "yanked")
    )
    move_to = r["successor"] if deprecated and r["successor"] else None
    if move_to is None and yanked and r["latest_version"] and r["latest_version"] != r["version"]:
        move_to = f"{r['asset']}@{r['latest_version']}"
    return AtRiskAdoption(
        adoption_id=int(r["id"]), pilot=r["pilot"], asset=r["asset"], version=r["version"], reason=reason,
        successor=r["successor"], move_to=move_to, adopted_at=_dt(r["adopted_at"]),
    )  # fmt: skip
