"""The portfolio report: the gate funnel, time to decision, stalled and circling pilots with the value at stake,
metric movement, the extraction backlog and how far graduated pilots compounded (docs/metrics.md).

Three reads (pilots, gate decisions, first publishes per origin pilot), then one pass in Python: the rules
are the gate-flow replay of the pilot page, so the report and the page never disagree.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import OriginPilotFigures, ReportPeriod, utc
from catalog.schemas.portfolio import (
    BacklogPilot,
    CompoundingPilot,
    GateFunnel,
    MetricMovement,
    PortfolioPolicy,
    PortfolioReport,
    PortfolioSummary,
    WaitingPilot,
)
from catalog.services.gateflow import Gate, Standing, load_json, replay, standing, when
from catalog.services.journal import now
from catalog.services.pilots import STAGE_NAMES
from catalog.services.reports import LIST_LIMIT, default_period, postgres, query_rows, reuse_report

__all__ = ["portfolio_report"]

# The few JSON values the pass needs are read by the database (one parse per pilot in Python was the cost).
_NUMBER = {"postgres": "({column}->>'{key}')::float8", "sqlite": "json_extract({column}, '$.{key}')"}
_PILOTS = """
SELECT id, slug, name, team, budget_owner, baseline, target, value_per_month, created_at, deadlines,
       {baseline_value} AS baseline_value, {target_value} AS target_value
FROM pilot WHERE created_at < :as_of ORDER BY id
"""
_GATES = """
SELECT pilot, stage, decision, decided_at,
       CASE WHEN decision = 'commit' AND stage = 2 THEN {after}
            WHEN decision = 'commit' AND stage = 4 THEN {metric_value} END AS measured
FROM gate_decision WHERE decided_at <= :as_of ORDER BY pilot, decided_at, id
"""


def _sql(template: str) -> str:
    number = _NUMBER["postgres" if postgres() else "sqlite"]
    return template.format(
        baseline_value=number.format(column="baseline", key="value"),
        target_value=number.format(column="target", key="value"),
        after=number.format(column="evidence", key="after"),
        metric_value=number.format(column="evidence", key="metric_value"),
    )


_PUBLISHED = "SELECT origin_pilot, COUNT(*) AS assets FROM asset WHERE created_at <= :as_of GROUP BY origin_pilot"


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    """Median, and the 90th percentile by nearest rank (the smallest value with 90% at or below it)."""
    if not values:
        return None, None
    ordered = sorted(values)
    return round(statistics.median(ordered), 1), round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def portfolio_report(
    since: datetime | None = None, until: datetime | None = None, *, policy: PortfolioPolicy | None = None
) -> PortfolioReport:
    """The report for [since, until); health and lists as of `until` (or now, when `until` is later)."""
    policy = policy or PortfolioPolicy()
    period = default_period(until) if since is None else ReportPeriod(since=since, until=until or now())
    start, end = utc(period.since), utc(period.until)
    if start >= end:
        raise InvalidInput(
            "the period is empty",
            [FieldProblem("/query/since", f"since ({start:%Y-%m-%d}) is not before until ({end:%Y-%m-%d})",
                          "give a `since` earlier than `until`")],
        )  # fmt: skip
    as_of = min(end, now())
    pilots = [dict(r) for r in await query_rows(_sql(_PILOTS), {"as_of": as_of})]
    flows: dict[int, list[Gate]] = defaultdict(list)
    for r in await query_rows(_sql(_GATES), {"as_of": as_of}):
        measured = None if r["measured"] is None else {"measured": float(r["measured"])}
        flows[int(r["pilot"])].append(Gate(int(r["stage"]), r["decision"], when(r["decided_at"]), measured))
    published = {int(r["origin_pilot"]): int(r["assets"]) for r in await query_rows(_PUBLISHED, {"as_of": as_of})}
    reuse = {o.pilot: o for o in (await reuse_report(start, end)).by_origin_pilot}

    funnel = {stage: _Gate() for stage in range(1, 5)}
    graduation_days: list[float] = []
    standings: list[tuple[dict[str, Any], Standing]] = []
    movement: list[tuple[dict[str, Any], tuple[float, int, datetime] | None]] = []
    for pilot in pilots:
        flow = flows.get(int(pilot["id"]), [])
        created = when(pilot["created_at"])
        state = replay(created, flow, as_of)
        if start <= created < end:
            funnel[1].entered += 1
        for gate, entered in state.decided:
            if start <= gate.decided_at < end:
                funnel[gate.stage].count(gate, entered, funnel)
                if gate.decision == "commit" and gate.stage == 4:
                    graduation_days.append(_days(created, gate.decided_at))
        standings.append((pilot, standing(pilot, state, as_of, policy, published.get(int(pilot["id"]), 0))))
        if pilot["baseline_value"] is not None and pilot["target_value"] is not None:
            movement.append((pilot, _latest(flow)))

    waiting = sorted(
        ((p, s) for p, s in standings if s.stalled or s.circling),
        key=lambda w: (-(w[1].at_stake or 0), -w[1].days_past_deadline, w[0]["slug"]),
    )
    backlog = sorted(
        ((p, s) for p, s in standings if s.backlog),
        key=lambda b: (-(b[1].days_since_graduation or 0), b[0]["slug"]),
    )
    moved = sorted(movement, key=_furthest_first)
    graduated = [(p, s) for p, s in standings if s.state == "graduated"]
    compounding = sorted(graduated, key=lambda g: _reach(reuse.get(g[0]["slug"]), g[0]["slug"]))
    median_grad, p90_grad = _median_p90(graduation_days)
    states = [s.state for _, s in standings]
    summary = PortfolioSummary(
        active=sum(s in {"on_track", "stalled", "circling"} for s in states),
        graduated=states.count("graduated"), killed=states.count("killed"), on_track=states.count("on_track"),
        stalled=sum(s.stalled for _, s in standings), circling=sum(s.circling for _, s in standings),
        value_at_stake_usd=round(sum(s.at_stake or 0 for _, s in waiting if s.at_stake_unit == "usd"), 2),
        value_at_stake_hours=round(sum(s.at_stake or 0 for _, s in waiting if s.at_stake_unit == "hours"), 2),
        graduations=len(graduation_days), median_days_to_graduation=median_grad,
        p90_days_to_graduation=p90_grad, extraction_backlog=len(backlog),
    )  # fmt: skip
    return PortfolioReport(
        period=period, as_of=as_of, deadlines=policy.deadlines, extraction_days=policy.extraction_days,
        summary=summary, funnel=[f.row(stage) for stage, f in funnel.items()],
        waiting=[_waiting(p, s) for p, s in waiting[:LIST_LIMIT]], waiting_total=len(waiting),
        metric_movement=[_movement(p, latest) for p, latest in moved[:LIST_LIMIT]], metric_movement_total=len(moved),
        extraction_backlog=[_backlog(p, s) for p, s in backlog[:LIST_LIMIT]], extraction_backlog_total=len(backlog),
        compounding=[_compounding(p, s, reuse.get(p["slug"])) for p, s in compounding[:LIST_LIMIT]],
        compounding_total=len(compounding),
    )  # fmt: skip


class _Gate:
    """What one gate saw in the period."""

    def __init__(self) -> None:
        self.entered = 0
        self.decisions = {"commit": 0, "iterate": 0, "kill": 0}
        self.days: list[float] = []

    def count(self, gate: Gate, entered: datetime, funnel: dict[int, _Gate]) -> None:
        self.decisions[gate.decision] += 1
        if gate.decision != "iterate":
            self.days.append(_days(entered, gate.decided_at))
        if gate.decision == "commit" and gate.stage < 4:
            funnel[gate.stage + 1].entered += 1

    def row(self, stage: int) -> GateFunnel:
        median, p90 = _median_p90(self.days)
        commit, kill = self.decisions["commit"], self.decisions["kill"]
        return GateFunnel(
            stage=stage, name=STAGE_NAMES[stage], entered=self.entered, commit=commit,
            iterate=self.decisions["iterate"], kill=kill, conversion_rate=_rate(commit, commit + kill),
            kill_rate=_rate(kill, commit + kill), median_days_to_decision=median, p90_days_to_decision=p90,
        )  # fmt: skip


def _backlog(pilot: dict[str, Any], s: Standing) -> BacklogPilot:
    return BacklogPilot(pilot=pilot["slug"], name=pilot["name"], team=pilot["team"], graduated_at=s.entered,
                        days_since_graduation=s.days_since_graduation or 0)  # fmt: skip


def _gap_closed(pilot: dict[str, Any], latest: tuple[float, int, datetime] | None) -> float | None:
    """(latest - baseline) / (target - baseline): 1 is the target reached."""
    span = float(pilot["target_value"]) - float(pilot["baseline_value"])
    return round((latest[0] - float(pilot["baseline_value"])) / span, 4) if latest and span else None


def _furthest_first(item: tuple[dict[str, Any], tuple[float, int, datetime] | None]) -> tuple[bool, float, str]:
    """Measured pilots furthest from their target first, then those not measured yet."""
    closed = _gap_closed(*item)
    return (closed is None, closed if closed is not None else 0.0, item[0]["slug"])


def _waiting(pilot: dict[str, Any], s: Standing) -> WaitingPilot:
    value = load_json(pilot.get("value_per_month")) or {}
    return WaitingPilot(
        pilot=pilot["slug"], name=pilot["name"], team=pilot["team"], state=s.state, stage=s.stage,
        days_at_stage=s.days_at_stage, deadline_days=s.deadline_days or 0, days_past_deadline=s.days_past_deadline,
        iterations_at_gate=s.iterations, budget_owner=pilot.get("budget_owner"), value_per_month=value.get("amount"),
        value_unit=value.get("unit"), value_at_stake=s.at_stake,
    )  # fmt: skip


def _latest(flow: list[Gate]) -> tuple[float, int, datetime] | None:
    """The last measured value: gate 2 `after` or gate 4 `metric_value` of a commit (read by `_GATES`)."""
    latest = None
    for gate in flow:
        if gate.evidence is not None:
            latest = (gate.evidence["measured"], gate.stage, gate.decided_at)
    return latest


def _movement(pilot: dict[str, Any], latest: tuple[float, int, datetime] | None) -> MetricMovement:
    baseline, target = load_json(pilot["baseline"]), load_json(pilot["target"])
    closed = _gap_closed(pilot, latest)
    return MetricMovement(
        pilot=pilot["slug"], name=pilot["name"], metric=baseline["metric"], unit=baseline["unit"],
        baseline=baseline["value"], target=target["value"], latest=latest[0] if latest else None,
        measured_at_gate=latest[1] if latest else None, measured_at=latest[2] if latest else None, gap_closed=closed,
    )  # fmt: skip


def _reach(figures: OriginPilotFigures | None, slug: str) -> tuple[int, int, str]:
    """The reuse report's order of origin pilots: most downstream pilots, then most adoptions."""
    return (-figures.downstream_pilots, -figures.adoptions, slug) if figures else (0, 0, slug)


def _compounding(pilot: dict[str, Any], s: Standing, figures: Any) -> CompoundingPilot:
    values = figures.model_dump() if figures is not None else {
        "pilot": pilot["slug"], "name": pilot["name"], "team": pilot["team"], "assets_available": 0,
        "assets_reused": 0, "downstream_pilots": 0, "adoptions": 0, "hours_saved": 0.0,
    }  # fmt: skip
    return CompoundingPilot(**values, graduated_at=s.entered)
