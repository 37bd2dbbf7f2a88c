"""The reuse report: how graduated pilots' work compounds. Every figure is defined in docs/metrics.md.

Figures are computed by the database (grouped SQL over indexed columns), so the report stays fast on a
catalog with a million adoptions; Python only shapes the rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from catalog.services.gateflow import when
from catalog.services.journal import now
from catalog.tables import Adoption

__all__ = [
    "LIST_LIMIT",
    "STALE_AFTER_DAYS",
    "STARTED_WITHIN_DAYS",
    "default_period",
    "postgres",
    "query_rows",
    "reuse_report",
]

STALE_AFTER_DAYS = 90
STARTED_WITHIN_DAYS = 30
LIST_LIMIT = 100

_PARAM = re.compile(r":(\w+)")

Row = Mapping[str, Any]

# Assets whose every version published before `until` was yanked before it (few: checked from yanked versions).
_UNAVAILABLE = """SELECT y.asset AS asset_id FROM asset_version y
  WHERE y.yanked_at IS NOT NULL AND y.yanked_at < :until AND NOT EXISTS (
    SELECT 1 FROM asset_version v WHERE v.asset = y.asset AND v.published_at < :until
      AND (v.yanked_at IS NULL OR v.yanked_at >= :until))"""

# Asset counts per (origin pilot, kind, owner), summed per kind, origin and team in Python. An asset was used
# during the period when it was adopted before `until` (asset.first_adopted_at), unless its every stretch of
# use that began before `until` had ended before the period: checked from the few stretches that ended.
_ASSET_COUNTS = """
WITH unavailable AS (
  __UNAVAILABLE__
), stopped AS (
  SELECT u.asset AS asset_id FROM asset_use u
  WHERE u.stopped_at IS NOT NULL AND u.stopped_at < :since AND NOT EXISTS (
    SELECT 1 FROM asset_use w WHERE w.asset = u.asset AND w.started_at < :until
      AND (w.stopped_at IS NULL OR w.stopped_at >= :since))
)
SELECT a.origin_pilot AS id, a.kind AS kind, a.owner AS owner,
  SUM(CASE WHEN a.id IN (SELECT asset_id FROM unavailable) THEN 0 ELSE 1 END) AS available,
  SUM(CASE WHEN a.created_at >= :since THEN 1 ELSE 0 END) AS published,
  SUM(CASE WHEN a.first_adopted_at < :until AND a.id NOT IN (SELECT asset_id FROM unavailable)
    AND a.id NOT IN (SELECT asset_id FROM stopped) THEN 1 ELSE 0 END) AS reused
FROM asset a WHERE a.created_at < :until
GROUP BY a.origin_pilot, a.kind, a.owner
""".replace("__UNAVAILABLE__", _UNAVAILABLE)

# The period's counted adoptions and hours per asset and per adopting pilot. PostgreSQL groups both in one
# pass over its index (GROUPING SETS); SQLite, which has no GROUPING SETS, in two.
_PERIOD = {
    "postgres": """SELECT ad.asset AS asset_id, ad.pilot AS pilot_id, COUNT(*) AS adoptions,
    SUM(ad.hours_saved) AS hours
  FROM adoption ad WHERE ad.first_for_pilot AND ad.adopted_at >= :since AND ad.adopted_at < :until
  GROUP BY GROUPING SETS ((ad.asset), (ad.pilot))""",
    "sqlite": """SELECT ad.asset AS asset_id, NULL AS pilot_id, COUNT(*) AS adoptions, SUM(ad.hours_saved) AS hours
  FROM adoption ad WHERE ad.first_for_pilot AND ad.adopted_at >= :since AND ad.adopted_at < :until GROUP BY ad.asset
  UNION ALL
  SELECT NULL, ad.pilot, COUNT(*), SUM(ad.hours_saved)
  FROM adoption ad WHERE ad.first_for_pilot AND ad.adopted_at >= :since AND ad.adopted_at < :until GROUP BY ad.pilot""",
}

# From those: adoptions and hours per (origin pilot, kind, owner) of the adopted assets; the top assets (most
# adoptions, then hours, then slug); adoptions, hours and adopting pilots per team of the adopting pilots.
_PERIOD_SUMS = """
WITH period AS MATERIALIZED (
  __PERIOD__
), assets AS (
  SELECT asset_id, adoptions, hours FROM period WHERE asset_id IS NOT NULL
), nth AS (
  SELECT adoptions, hours FROM assets ORDER BY adoptions DESC, hours DESC LIMIT 1 OFFSET :nth
)
SELECT 'group' AS section, a.origin_pilot AS id, a.kind AS kind, a.owner AS owner, SUM(p.adoptions) AS adoptions,
  SUM(p.hours) AS hours, 0 AS pilots
FROM assets p JOIN asset a ON a.id = p.asset_id
GROUP BY a.origin_pilot, a.kind, a.owner
UNION ALL
SELECT * FROM (
  SELECT 'top', p.asset_id, NULL, NULL, p.adoptions, p.hours, 0 FROM assets p
  WHERE NOT EXISTS (SELECT 1 FROM nth) OR (p.adoptions, p.hours) >= (SELECT adoptions, hours FROM nth)
  ORDER BY p.adoptions DESC, p.hours DESC, (SELECT a.slug FROM asset a WHERE a.id = p.asset_id) LIMIT :top
) top_assets
UNION ALL
SELECT 'adopters', NULL, NULL, pl.team, SUM(p.adoptions), SUM(p.hours), COUNT(*)
FROM period p JOIN pilot pl ON pl.id = p.pilot_id WHERE p.pilot_id IS NOT NULL
GROUP BY pl.team
"""

# Every pilot that published assets.
_ORIGINS = """
SELECT p.id, p.slug, p.name, p.team FROM pilot p WHERE EXISTS (SELECT 1 FROM asset a WHERE a.origin_pilot = p.id)
"""

# Pilots that used each listed asset during the period: an adoption record active at some time in it.
_ACTIVE_PILOTS = """(SELECT COUNT(DISTINCT x.pilot) FROM adoption x WHERE x.asset = a.id
  AND x.adopted_at < :until AND (x.retired_at IS NULL OR x.retired_at >= :since))"""

_TOP_DETAILS = """
SELECT a.id, a.slug, a.kind, a.title, a.owner, pl.slug AS origin, __ACTIVE__ AS active_pilots
FROM asset a JOIN pilot pl ON pl.id = a.origin_pilot WHERE a.id IN ({ids})
""".replace("__ACTIVE__", _ACTIVE_PILOTS)

# When fewer than N assets were adopted in the period: assets still in use without a new adoption, by slug.
_IDLE_IN_USE = """
SELECT a.id FROM asset a WHERE a.first_adopted_at < :until AND a.id NOT IN ({ids}) AND EXISTS (
  SELECT 1 FROM adoption x WHERE x.asset = a.id AND x.adopted_at < :until
    AND (x.retired_at IS NULL OR x.retired_at >= :since))
ORDER BY a.slug LIMIT :limit
"""

# Available assets first published 90+ days before `until` with no adoption record before it: the never
# adopted ones (a partial index), and, for past periods, those adopted only later.
_STALE = """
SELECT a.slug, a.kind, a.title, a.owner, p.slug AS origin, a.lifecycle, a.created_at, s.total
FROM (
  SELECT c.id, COUNT(*) OVER () AS total FROM (
    SELECT id, created_at, slug FROM asset WHERE first_adopted_at IS NULL AND created_at < :stale_before
    UNION ALL
    SELECT id, created_at, slug FROM asset WHERE first_adopted_at >= :until AND created_at < :stale_before
  ) c WHERE c.id NOT IN (__UNAVAILABLE__)
  ORDER BY c.created_at, c.slug LIMIT :limit
) s JOIN asset a ON a.id = s.id JOIN pilot p ON p.id = a.origin_pilot
ORDER BY a.created_at, a.slug
""".replace("__UNAVAILABLE__", _UNAVAILABLE)

# Pilots reached by each origin's work: pilots that adopted its work before `until` (first_for_origin rows),
# minus the few whose every stretch of use had ended before the period.
_DOWNSTREAM = """
SELECT origin, SUM(pilots) AS pilots FROM (
  SELECT r.origin_pilot AS origin, COUNT(*) AS pilots FROM adoption r
  WHERE r.first_for_origin AND r.adopted_at < :until GROUP BY r.origin_pilot
  UNION ALL
  SELECT s.origin_pilot, -COUNT(DISTINCT s.pilot) FROM origin_reach s
  WHERE s.stopped_at IS NOT NULL AND s.stopped_at < :since AND NOT EXISTS (
    SELECT 1 FROM origin_reach w WHERE w.origin_pilot = s.origin_pilot AND w.pilot = s.pilot
      AND w.started_at < :until AND (w.stopped_at IS NULL OR w.stopped_at >= :since))
  GROUP BY s.origin_pilot
) reach GROUP BY origin
"""

# One range count per month (index-only on PostgreSQL): cheaper than grouping every row by a month expression.
_MONTH = """SELECT COUNT(*) AS adoptions, SUM(hours_saved) AS hours FROM adoption
WHERE first_for_pilot AND adopted_at >= :start{i} AND adopted_at < :end{i}"""

# Pilots created in the period, and those whose first adoption came less than 30 days after their creation.
_NEW_PILOTS = {
    "postgres": """SELECT COUNT(*) AS created, COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM adoption ad
      WHERE ad.pilot = p.id AND ad.adopted_at < p.created_at + :within)) AS started
    FROM pilot p WHERE p.created_at >= :since AND p.created_at < :until""",
    # SQLite keeps times as text: the 30 days are added in Python.
    "sqlite": """SELECT p.created_at AS created_at,
      (SELECT MIN(ad.adopted_at) FROM adoption ad WHERE ad.pilot = p.id) AS first_adoption
    FROM pilot p WHERE p.created_at >= :since AND p.created_at < :until""",
}

# Active adoption records of deprecated assets or yanked versions (both few), the first ones with details.
_AT_RISK = """
WITH risky AS (
  SELECT ad.id, ad.adopted_at FROM asset a JOIN adoption ad ON ad.asset = a.id
  WHERE a.deprecated_at IS NOT NULL AND a.deprecated_at < :until
    AND ad.adopted_at < :until AND (ad.retired_at IS NULL OR ad.retired_at >= :until)
  UNION ALL
  SELECT ad.id, ad.adopted_at FROM asset_version v JOIN adoption ad ON ad.version = v.id
    JOIN asset a ON a.id = ad.asset
  WHERE v.yanked_at IS NOT NULL AND v.yanked_at < :until
    AND NOT (a.deprecated_at IS NOT NULL AND a.deprecated_at < :until)
    AND ad.adopted_at < :until AND (ad.retired_at IS NULL OR ad.retired_at >= :until)
), first_ones AS (
  SELECT id, COUNT(*) OVER () AS total FROM risky ORDER BY adopted_at, id LIMIT :limit
)
SELECT ad.id, pl.slug AS pilot, a.slug AS asset, v.version, a.successor, a.latest_version, ad.adopted_at,
  CASE WHEN a.deprecated_at IS NOT NULL AND a.deprecated_at < :until THEN 1 ELSE 0 END AS deprecated,
  CASE WHEN v.yanked_at IS NOT NULL AND v.yanked_at < :until THEN 1 ELSE 0 END AS yanked, f.total
FROM first_ones f JOIN adoption ad ON ad.id = f.id JOIN asset a ON a.id = ad.asset
  JOIN asset_version v ON v.id = ad.version JOIN pilot pl ON pl.id = ad.pilot
ORDER BY ad.adopted_at, ad.id
"""

_DEMAND = """
SELECT normalized, COUNT(*) AS searches, MAX(at) AS last_at FROM search_log
WHERE hits = 0 AND at >= :since AND at < :until AND normalized <> ''
GROUP BY normalized ORDER BY searches DESC, normalized LIMIT :top
"""


def postgres() -> bool:
    return isinstance(Adoption._meta.db, PostgresEngine)


def _value(value: Any) -> Any:
    """SQLite keeps timestamps as text: compare with text written the same way."""
    if isinstance(value, datetime) and not postgres():
        return value.astimezone(UTC).isoformat(sep=" ")
    return value


async def query_rows(sql: str, params: Row) -> Sequence[Row]:
    """Run SQL written with :named parameters.

    On PostgreSQL with a pool (the server), straight through asyncpg: the report reads tens of thousands of
    grouped rows, and its records need no conversion to dicts. Otherwise Piccolo's raw query (positional `{}`).
    """
    names = _PARAM.findall(sql)
    args = [_value(params[name]) for name in names]
    engine = Adoption._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        numbers = iter(range(1, len(names) + 1))
        async with engine.pool.acquire() as connection:
            records: Sequence[Row] = await connection.fetch(_PARAM.sub(lambda _: f"${next(numbers)}", sql), *args)
            return records
    rows: list[Row] = await Adoption.raw(_PARAM.sub("{}", sql), *args)
    return rows


async def _one_by_one(queries: Sequence[tuple[str, Row]]) -> list[Sequence[Row]]:
    return [await query_rows(sql, params) for sql, params in queries]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _months(since: datetime, until: datetime) -> list[tuple[str, datetime, datetime]]:
    """Each calendar month (UTC) the period touches, as (label, start, end) clipped to the period."""
    out, start = [], since
    while start < until:
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        end = min(datetime(year, month, 1, tzinfo=UTC), until)
        out.append((f"{start.year:04d}-{start.month:02d}", start, end))
        start = end
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
    dialect = "postgres" if postgres() else "sqlite"
    months = _months(since, until)
    month_sql = "\nUNION ALL\n".join(_MONTH.format(i=i) for i in range(len(months)))
    month_params = {
        f"{edge}{i}": value for i, m in enumerate(months) for edge, value in (("start", m[1]), ("end", m[2]))
    }
    span = {"since": since, "until": until}
    stale_before = until - timedelta(days=STALE_AFTER_DAYS)
    # Independent reads. On PostgreSQL in two lanes side by side, each on its own pooled connection: the
    # period aggregation (the longest read) alone, the others one after another; it takes about as long as
    # they do together. Nine reads at once ran slower than two lanes on a small server.
    period_sums = (_PERIOD_SUMS.replace("__PERIOD__", _PERIOD[dialect]), {**span, "nth": top - 1, "top": top})
    others: list[tuple[str, Row]] = [
        (_ASSET_COUNTS, span),
        (_ORIGINS, {}),
        (_STALE, {"until": until, "stale_before": stale_before, "limit": LIST_LIMIT}),
        (_DOWNSTREAM, span),
        (month_sql, month_params),
        (_NEW_PILOTS[dialect], {**span, "within": timedelta(days=STARTED_WITHIN_DAYS)}),
        (_AT_RISK, {"until": until, "limit": LIST_LIMIT}),
        (_DEMAND, {**span, "top": top}),
    ]
    if postgres():
        sums, rest = await asyncio.gather(query_rows(*period_sums), _one_by_one(others))
    else:
        sums, rest = await query_rows(*period_sums), await _one_by_one(others)
    counts, origins, stale, downstream_rows, month_rows, new_pilots, at_risk, demand = rest
    adopters = [r for r in sums if r["section"] == "adopters"]
    by_origin, by_kind_sums, by_owner = _sum_by(counts, [r for r in sums if r["section"] == "group"])
    candidates = [r for r in sums if r["section"] == "top"]

    by_kind = [
        KindFigures(
            kind=kind, assets_available=f.available, assets_published=f.published, assets_reused=f.reused,
            reuse_rate=_rate(f.reused, f.available), adoptions=f.adoptions, hours_saved=f.hours,
        )
        for kind, f in sorted(by_kind_sums.items())
    ]  # fmt: skip
    created, started = _new_pilots(new_pilots)
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
        pilots_created=created,
        started_with_catalog=started,
        started_with_catalog_share=_rate(started, created),
    )
    return ReuseReport(
        period=ReportPeriod(since=since, until=until),
        summary=summary,
        adoptions_per_month=[
            MonthFigures(month=label, adoptions=int(row["adoptions"]), hours_saved=float(row["hours"] or 0))
            for (label, _, _), row in zip(months, month_rows, strict=True)
        ],
        by_kind=by_kind,
        by_asset=await _top_assets(candidates, top, span),
        by_origin_pilot=_origin_pilots(
            by_origin, origins, {int(r["origin"]): int(r["pilots"]) for r in downstream_rows}
        ),
        by_team=_teams(by_owner, adopters),
        stale=[
            StaleAsset(
                slug=r["slug"],
                kind=r["kind"],
                title=r["title"],
                owner=r["owner"],
                origin_pilot=r["origin"],
                lifecycle=r["lifecycle"],
                first_published_at=when(r["created_at"]),
                days_since_published=(until - when(r["created_at"])).days,
            )
            for r in stale
        ],
        stale_total=int(stale[0]["total"]) if stale else 0,
        at_risk=[_at_risk(r) for r in at_risk],
        at_risk_total=int(at_risk[0]["total"]) if at_risk else 0,
        demand=[
            DemandQuery(query=r["normalized"], searches=int(r["searches"]), last_searched_at=when(r["last_at"]))
            for r in demand
        ],
    )


def _new_pilots(rows: Sequence[Row]) -> tuple[int, int]:
    """(pilots created, of which started with the catalog), from either dialect's query."""
    if rows and "started" in rows[0]:
        return int(rows[0]["created"]), int(rows[0]["started"] or 0)
    within = timedelta(days=STARTED_WITHIN_DAYS)
    started = sum(1 for p in rows if p["first_adoption"] and when(p["first_adoption"]) < when(p["created_at"]) + within)
    return len(rows), started


@dataclass(slots=True)
class _Sums:
    """Asset figures of one kind, origin pilot or owning team, summed from the finer groups."""

    available: int = 0
    published: int = 0
    reused: int = 0
    adoptions: int = 0
    hours: float = 0.0


def _sum_by(counts: Sequence[Row], sums: Sequence[Row]) -> tuple[dict[Any, _Sums], dict[Any, _Sums], dict[Any, _Sums]]:
    """Sum the (origin, kind, owner) groups per origin pilot, per kind and per owner, in one pass each."""
    by: tuple[dict[Any, _Sums], dict[Any, _Sums], dict[Any, _Sums]] = ({}, {}, {})
    for r in counts:
        available, published, reused = int(r["available"]), int(r["published"]), int(r["reused"])
        for out, key in zip(by, (r["id"], r["kind"], r["owner"]), strict=True):
            f = out.get(key) or out.setdefault(key, _Sums())
            f.available += available
            f.published += published
            f.reused += reused
    for r in sums:
        adoptions, hours = int(r["adoptions"]), float(r["hours"] or 0)
        for out, key in zip(by, (r["id"], r["kind"], r["owner"]), strict=True):
            f = out.get(key) or out.setdefault(key, _Sums())
            f.adoptions += adoptions
            f.hours += hours
    return by


async def _top_assets(candidates: Sequence[Row], top: int, span: Row) -> list[AssetFigures]:
    """The top assets: most counted adoptions in the period, then hours, then slug; with pilots using them."""
    figures = {int(r["id"]): (int(r["adoptions"]), float(r["hours"] or 0)) for r in candidates}
    if len(figures) < top:  # few adoptions in the period: add assets still in use, without a new adoption
        idle = await query_rows(
            _IDLE_IN_USE.format(ids=", ".join(map(str, figures)) or "-1"), {**span, "limit": top - len(figures)}
        )
        figures.update({int(r["id"]): (0, 0.0) for r in idle})
    if not figures:
        return []
    details = await query_rows(_TOP_DETAILS.format(ids=", ".join(map(str, figures))), span)
    out = [
        AssetFigures(
            slug=d["slug"], kind=d["kind"], title=d["title"], owner=d["owner"], origin_pilot=d["origin"],
            adoptions=figures[int(d["id"])][0], active_pilots=int(d["active_pilots"]),
            hours_saved=figures[int(d["id"])][1],
        )
        for d in details
    ]  # fmt: skip
    return sorted(out, key=lambda a: (-a.adoptions, -a.hours_saved, a.slug))[:top]


def _origin_pilots(
    groups: dict[Any, _Sums], origins: Sequence[Row], downstream: dict[int, int]
) -> list[OriginPilotFigures]:
    pilots = {int(p["id"]): p for p in origins}
    out = [
        OriginPilotFigures(
            pilot=p["slug"], name=p["name"], team=p["team"], assets_available=f.available, assets_reused=f.reused,
            downstream_pilots=downstream.get(int(i), 0), adoptions=f.adoptions, hours_saved=f.hours,
        )
        for i, f in groups.items()
        for p in (pilots[int(i)],)
    ]  # fmt: skip
    return sorted(out, key=lambda o: (-o.downstream_pilots, -o.adoptions, o.pilot))


def _teams(owned: dict[Any, _Sums], adopters: Sequence[Row]) -> list[TeamFigures]:
    made = {r["owner"]: int(r["adoptions"]) for r in adopters}  # the adopting team, in the owner column
    out = [
        TeamFigures(
            team=t,
            assets_available=owned[t].available if t in owned else 0,
            assets_reused=owned[t].reused if t in owned else 0,
            adoptions_received=owned[t].adoptions if t in owned else 0,
            hours_saved=owned[t].hours if t in owned else 0.0,
            adoptions_made=made.get(t, 0),
        )
        for t in set(owned) | set(made)
    ]
    return sorted(out, key=lambda t: (-t.adoptions_received, -t.assets_available, t.team))


def _at_risk(r: Row) -> AtRiskAdoption:
    deprecated, yanked = bool(r["deprecated"]), bool(r["yanked"])
    reason: Literal["deprecated", "yanked", "deprecated and yanked"] = (
        "deprecated and yanked" if deprecated and yanked else ("deprecated" if deprecated else "yanked")
    )
    move_to = r["successor"] if deprecated and r["successor"] else None
    if move_to is None and yanked and r["latest_version"] and r["latest_version"] != r["version"]:
        move_to = f"{r['asset']}@{r['latest_version']}"
    return AtRiskAdoption(
        adoption_id=int(r["id"]), pilot=r["pilot"], asset=r["asset"], version=r["version"], reason=reason,
        successor=r["successor"], move_to=move_to, adopted_at=when(r["adopted_at"]),
    )  # fmt: skip
