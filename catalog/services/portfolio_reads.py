"""The reads behind the portfolio report: one row per pilot with where its gate flow stands, and the gate
decisions of the period with the days each took. The database does the grouping, so 20,000 pilots with
80,000 decisions cross the wire as 20,000 short rows plus the period's decisions.

The per-pilot figures follow the gate-flow replay of `catalog/services/gateflow.py` on the histories the
catalog accepts (decisions in order, at the pilot's current gate, none after a kill or graduation):
commits = stage - 1, the last commit is when the stage was entered, a kill ends it.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from catalog.services.gateflow import Replay, when
from catalog.services.report_sql import postgres, query_rows

__all__ = [
    "Figures",
    "decision_figures",
    "latest_measure",
    "pilot_details",
    "pilot_rows",
    "published_counts",
    "state_of",
]


class Figures(NamedTuple):
    """One gate in the period: its decisions, the days commits and kills took from entering the stage (median,
    p90), and for gate 4 the days from the pilot's creation to its graduation."""

    commit: int
    iterate: int
    kill: int
    median: float | None
    p90: float | None
    graduation_median: float | None
    graduation_p90: float | None


_DIALECT = {
    "postgres": {
        "number": "CAST({column}->>'{key}' AS float8)",
        "text": "{column}->>'{key}'",
        "days": "EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0",
        "has_deadlines": "length(CAST(p.deadlines AS text)) > 2",  # not the empty object
    },
    "sqlite": {
        "number": "json_extract({column}, '$.{key}')",
        "text": "json_extract({column}, '$.{key}')",
        "days": "julianday({end}) - julianday({start})",
        "has_deadlines": "length(p.deadlines) > 2",
    },
}

# One pass over the decisions per pilot: commits give the stage, the iterates at the current gate are
# counted, the last measured value is gate 4's `metric_value` when committed, else gate 2's `after`.
_PILOTS = """
WITH flow AS (
  SELECT pilot,
         SUM(CASE WHEN decision = 'commit' THEN 1 ELSE 0 END) AS commits,
         MAX(CASE WHEN decision = 'commit' THEN decided_at END) AS last_commit,
         MAX(CASE WHEN decision = 'kill' THEN decided_at END) AS killed_at,
         SUM(CASE WHEN decision = 'iterate' AND stage = 1 THEN 1 ELSE 0 END) AS iterations_1,
         SUM(CASE WHEN decision = 'iterate' AND stage = 2 THEN 1 ELSE 0 END) AS iterations_2,
         SUM(CASE WHEN decision = 'iterate' AND stage = 3 THEN 1 ELSE 0 END) AS iterations_3,
         SUM(CASE WHEN decision = 'iterate' AND stage = 4 THEN 1 ELSE 0 END) AS iterations_4,
         MAX(CASE WHEN decision = 'commit' AND stage = 2 THEN {after} END) AS after,
         MAX(CASE WHEN decision = 'commit' AND stage = 2 THEN decided_at END) AS after_at,
         MAX(CASE WHEN decision = 'commit' AND stage = 4 THEN {metric_value} END) AS metric_value,
         MAX(CASE WHEN decision = 'commit' AND stage = 4 THEN decided_at END) AS metric_value_at
  FROM gate_decision WHERE decided_at <= :as_of GROUP BY pilot
)
SELECT p.id, p.slug, p.created_at, CASE WHEN {has_deadlines} THEN p.deadlines END AS deadlines,
       {value_amount} AS value_amount, {value_unit} AS value_unit,
       {baseline_value} AS baseline_value, {target_value} AS target_value,
       COALESCE(f.commits, 0) AS commits, f.last_commit, f.killed_at,
       CASE COALESCE(f.commits, 0) WHEN 0 THEN f.iterations_1 WHEN 1 THEN f.iterations_2
            WHEN 2 THEN f.iterations_3 WHEN 3 THEN f.iterations_4 END AS iterations,
       COALESCE(f.metric_value, f.after) AS measured,
       CASE WHEN f.metric_value IS NOT NULL THEN 4 WHEN f.after IS NOT NULL THEN 2 END AS measured_gate,
       CASE WHEN f.metric_value IS NOT NULL THEN f.metric_value_at ELSE f.after_at END AS measured_at,
       (1.0 * COALESCE(f.metric_value, f.after) - {baseline_value}) / NULLIF({target_value} - {baseline_value}, 0)
         AS gap_closed
FROM pilot p LEFT JOIN flow f ON f.pilot = p.id
WHERE p.created_at < :as_of
"""
# As of now (no decision after `as_of`), the state decide_gate keeps on the pilot row is the same figures,
# without reading a single decision.
_PILOTS_NOW = """
SELECT p.id, p.slug, p.created_at, CASE WHEN {has_deadlines} THEN p.deadlines END AS deadlines,
       {value_amount} AS value_amount, {value_unit} AS value_unit,
       {baseline_value} AS baseline_value, {target_value} AS target_value,
       p.stage - 1 AS commits,
       CASE WHEN p.status <> 'killed' AND p.stage > 1 THEN p.stage_entered_at END AS last_commit,
       CASE WHEN p.status = 'killed' THEN p.stage_entered_at END AS killed_at,
       p.gate_iterations AS iterations, p.measured, p.measured_gate, p.measured_at,
       (1.0 * p.measured - {baseline_value}) / NULLIF({target_value} - {baseline_value}, 0) AS gap_closed
FROM pilot p
WHERE p.created_at < :as_of
"""
_LAST_DECISION = "SELECT MAX(decided_at) AS last FROM gate_decision"
_DETAILS = "SELECT id, slug, name, team, budget_owner, baseline, target FROM pilot WHERE id IN ({ids})"

# The period's decisions with the days each took from entering its stage (kept on the decision).
_DECISIONS = """
SELECT g.stage, g.decision, {days_at_stage} AS days
FROM gate_decision g
WHERE g.decided_at >= :since AND g.decided_at < :until AND g.decided_at <= :as_of
"""
# Graduations of the period: days from the pilot's creation.
_GRADUATIONS = """
SELECT {days_since_created} AS days
FROM gate_decision g JOIN pilot p ON p.id = g.pilot
WHERE g.stage = 4 AND g.decision = 'commit' AND g.decided_at >= :since AND g.decided_at < :until
  AND g.decided_at <= :as_of
"""
# PostgreSQL summarises them itself: median (continuous, as statistics.median) and p90 by nearest rank.
_DECISION_FIGURES = """
SELECT stage,
       SUM(CASE WHEN decision = 'commit' THEN 1 ELSE 0 END) AS commit,
       SUM(CASE WHEN decision = 'iterate' THEN 1 ELSE 0 END) AS iterate,
       SUM(CASE WHEN decision = 'kill' THEN 1 ELSE 0 END) AS kill,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE decision <> 'iterate') AS median,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY days) FILTER (WHERE decision <> 'iterate') AS p90
FROM ({decisions}) d GROUP BY stage
"""
_GRADUATION_FIGURES = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY days) AS p90
FROM ({graduations}) d
"""

_KILLED = """
SELECT p.slug AS pilot, p.name, p.team, g.stage, g.decided_at AS killed_at, g.decided_by, g.notes
FROM gate_decision g JOIN pilot p ON p.id = g.pilot
WHERE g.decision = 'kill' AND g.decided_at >= :since AND g.decided_at < :until AND g.decided_at <= :as_of
ORDER BY g.decided_at DESC, g.id DESC LIMIT :limit
"""

_PUBLISHED = "SELECT origin_pilot, COUNT(*) AS assets FROM asset WHERE created_at <= :as_of GROUP BY origin_pilot"


def _sql(template: str) -> str:
    d = _DIALECT["postgres" if postgres() else "sqlite"]
    return template.format(
        after=d["number"].format(column="evidence", key="after"),
        metric_value=d["number"].format(column="evidence", key="metric_value"),
        value_amount=d["number"].format(column="p.value_per_month", key="amount"),
        value_unit=d["text"].format(column="p.value_per_month", key="unit"),
        baseline_value=d["number"].format(column="p.baseline", key="value"),
        target_value=d["number"].format(column="p.target", key="value"),
        days_at_stage=d["days"].format(end="g.decided_at", start="g.entered_at"),
        days_since_created=d["days"].format(end="g.decided_at", start="p.created_at"),
        has_deadlines=d["has_deadlines"],
    )


async def pilot_rows(as_of: datetime, *, from_state: bool | None = None) -> Sequence[Mapping[str, Any]]:
    """Every pilot created before `as_of`, with its gate flow up to then (narrow rows, as the driver gives them).

    From the state kept on the pilot rows when no decision was taken after `as_of` (the report as of now),
    else grouped from the decisions up to then; `from_state` forces one (the tests compare them).
    """
    if from_state is None:
        last = (await query_rows(_LAST_DECISION, {}))[0]["last"]
        from_state = last is None or when(last) <= as_of
    return await query_rows(_sql(_PILOTS_NOW if from_state else _PILOTS), {"as_of": as_of})


async def pilot_details(ids: list[int]) -> dict[int, Mapping[str, Any]]:
    """Names, teams, budget owners and business cases of the few pilots a report lists."""
    if not ids:
        return {}
    rows = await query_rows(_DETAILS.format(ids=", ".join(str(int(i)) for i in sorted(set(ids)))), {})
    return {int(r["id"]): r for r in rows}


async def decision_figures(since: datetime, until: datetime, as_of: datetime) -> dict[int, Figures]:
    """Per gate, the decisions of the period and how long they took (see `Figures`)."""
    params = {"since": since, "until": until, "as_of": as_of}
    decisions, graduations = _sql(_DECISIONS), _sql(_GRADUATIONS)
    if postgres():
        rows, (grad,) = await asyncio.gather(
            query_rows(_DECISION_FIGURES.format(decisions=decisions), params),
            query_rows(_GRADUATION_FIGURES.format(graduations=graduations), params),
        )
        return {
            int(r["stage"]): Figures(r["commit"], r["iterate"], r["kill"], r["median"], r["p90"],
                                     *((grad["median"], grad["p90"]) if int(r["stage"]) == 4 else (None, None)))
            for r in rows
        }  # fmt: skip
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"commit": 0, "iterate": 0, "kill": 0})
    days: dict[int, list[float]] = defaultdict(list)
    for r in await query_rows(decisions, params):
        stage, decision = int(r["stage"]), str(r["decision"])
        counts[stage][decision] += 1
        if decision != "iterate":
            days[stage].append(float(r["days"]))
    graduation = _median_p90([float(r["days"]) for r in await query_rows(graduations, params)])
    return {
        stage: Figures(c["commit"], c["iterate"], c["kill"], *_median_p90(days[stage]),
                       *(graduation if stage == 4 else (None, None)))
        for stage, c in counts.items()
    }  # fmt: skip


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    """Median (as percentile_cont(0.5)) and p90 by nearest rank (as percentile_disc(0.9))."""
    if not values:
        return None, None
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1]


async def killed_in_period(since: datetime, until: datetime, as_of: datetime, limit: int) -> list[dict[str, Any]]:
    """The pilots killed in the period, the latest first."""
    params = {"since": since, "until": until, "as_of": as_of, "limit": limit}
    return [{**dict(r), "killed_at": when(r["killed_at"])} for r in await query_rows(_KILLED, params)]


async def published_counts(as_of: datetime) -> dict[int, int]:
    """Assets per origin pilot, first published by `as_of`."""
    return {int(r["origin_pilot"]): int(r["assets"]) for r in await query_rows(_PUBLISHED, {"as_of": as_of})}


def state_of(row: Mapping[str, Any], created: datetime) -> Replay:
    """The replay's result, from a pilot row's grouped gate flow."""
    commits = int(row["commits"])
    if row["killed_at"] is not None:
        return Replay(status="killed", stage=commits + 1, entered_at=when(row["killed_at"]))
    if commits >= 4:
        graduated = when(row["last_commit"])
        return Replay(status="graduated", stage=5, entered_at=graduated, graduated_at=graduated)
    entered = when(row["last_commit"]) if commits else created
    return Replay(status="active", stage=commits + 1, entered_at=entered, iterations=int(row["iterations"] or 0))


def latest_measure(row: Mapping[str, Any]) -> tuple[float, int, Any] | None:
    """The last measured value with its gate and time (as the driver gives it: read `when()` only if shown)."""
    if row["measured"] is None:
        return None
    return float(row["measured"]), int(row["measured_gate"]), row["measured_at"]
