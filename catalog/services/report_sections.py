"""The reuse report's sections: the SQL of each and how its rows become figures (by kind, asset, origin
pilot and team; stale assets, adoptions at risk, unmet demand; new pilots that started with the catalog)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from catalog.schemas import AssetFigures, AtRiskAdoption, OriginPilotFigures, TeamFigures
from catalog.services.gateflow import when
from catalog.services.report_sql import Row, query_rows

__all__ = [
    "ASSET_COUNTS",
    "AT_RISK",
    "DEMAND",
    "DOWNSTREAM",
    "MONTH",
    "NEW_PILOTS",
    "ORIGINS",
    "PERIOD",
    "PERIOD_SUMS",
    "STALE",
    "STALE_AFTER_DAYS",
    "STARTED_WITHIN_DAYS",
    "UNHELPFUL",
    "at_risk",
    "new_pilots",
    "origin_pilots",
    "sum_by",
    "teams",
    "top_assets",
]

STALE_AFTER_DAYS = 90
STARTED_WITHIN_DAYS = 30

# Assets whose every version published before `until` was yanked before it (few: checked from yanked versions).
_UNAVAILABLE = """SELECT y.asset AS asset_id FROM asset_version y
  WHERE y.yanked_at IS NOT NULL AND y.yanked_at < :until AND NOT EXISTS (
    SELECT 1 FROM asset_version v WHERE v.asset = y.asset AND v.published_at < :until
      AND (v.yanked_at IS NULL OR v.yanked_at >= :until))"""

# Asset counts per (origin pilot, kind, owner), summed per kind, origin and team in Python. An asset was used
# during the period when it was adopted before `until` (asset.first_adopted_at), unless its every stretch of
# use that began before `until` had ended before the period: checked from the few stretches that ended.
ASSET_COUNTS = """
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
PERIOD = {
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
PERIOD_SUMS = """
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
ORIGINS = """
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
STALE = """
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
DOWNSTREAM = """
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
MONTH = """SELECT COUNT(*) AS adoptions, SUM(hours_saved) AS hours FROM adoption
WHERE first_for_pilot AND adopted_at >= :start{i} AND adopted_at < :end{i}"""

# Pilots created in the period, and those whose first adoption came less than 30 days after their creation.
NEW_PILOTS = {
    "postgres": """SELECT COUNT(*) AS created, COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM adoption ad
      WHERE ad.pilot = p.id AND ad.adopted_at < p.created_at + :within)) AS started
    FROM pilot p WHERE p.created_at >= :since AND p.created_at < :until""",
    # SQLite keeps times as text: the 30 days are added in Python.
    "sqlite": """SELECT p.created_at AS created_at,
      (SELECT MIN(ad.adopted_at) FROM adoption ad WHERE ad.pilot = p.id) AS first_adoption
    FROM pilot p WHERE p.created_at >= :since AND p.created_at < :until""",
}

# Active adoption records of deprecated assets or yanked versions (both few), the first ones with details.
AT_RISK = """
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

DEMAND = """
SELECT normalized, COUNT(*) AS searches, MAX(at) AS last_at FROM search_log
WHERE hits = 0 AND at >= :since AND at < :until AND normalized <> ''
GROUP BY normalized ORDER BY searches DESC, normalized LIMIT :top
"""


UNHELPFUL = """
SELECT a.slug AS slug, f.problem AS problem, COUNT(*) AS times, MAX(f.given_at) AS last_at,
  (SELECT g.note FROM kit_feedback g WHERE g.asset = f.asset AND g.problem = f.problem AND NOT g.useful
   ORDER BY g.given_at DESC, g.id DESC LIMIT 1) AS last_note
FROM kit_feedback f JOIN asset a ON a.id = f.asset
WHERE NOT f.useful AND f.given_at >= :since AND f.given_at < :until
GROUP BY a.slug, f.asset, f.problem ORDER BY times DESC, last_at DESC, a.slug LIMIT :top
"""


def new_pilots(rows: Sequence[Row]) -> tuple[int, int]:
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


def sum_by(counts: Sequence[Row], sums: Sequence[Row]) -> tuple[dict[Any, _Sums], dict[Any, _Sums], dict[Any, _Sums]]:
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


async def top_assets(candidates: Sequence[Row], top: int, span: Row) -> list[AssetFigures]:
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


def origin_pilots(
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


def teams(owned: dict[Any, _Sums], adopters: Sequence[Row]) -> list[TeamFigures]:
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


def at_risk(r: Row) -> AtRiskAdoption:
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
