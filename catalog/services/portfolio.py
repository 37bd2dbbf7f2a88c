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
from catalog.schemas import ReportPeriod, utc
from catalog.schemas.portfolio import (
    BacklogPilot,
    CompoundingPilot,
    GateFunnel,
    MetricMovement,
    PilotHealth,
    PortfolioPolicy,
    PortfolioReport,
    PortfolioSummary,
    WaitingPilot,
)
from catalog.services.gateflow import Gate, gates_of, health_of, load_json, replay, when
from catalog.services.journal import now
from catalog.services.pilots import STAGE_NAMES
from catalog.services.reports import default_period, query_rows, reuse_report

__all__ = ["portfolio_report"]

_PILOTS = """
SELECT id, slug, name, team, budget_owner, baseline, target, value_per_month, created_at, deadlines
FROM pilot WHERE created_at < :as_of ORDER BY id
"""
_GATES = """
SELECT pilot, stage, decision, decided_by, decided_at,
       CASE WHEN decision = 'commit' AND stage IN (2, 4) THEN evidence END AS evidence
FROM gate_decision WHERE decided_at <= :as_of ORDER BY pilot, decided_at, id
"""
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
    pilots = [dict(r) for r in await query_rows(_PILOTS, {"as_of": as_of})]
    gates: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await query_rows(_GATES, {"as_of": as_of}):
        gates[int(row["pilot"])].append(dict(row))
    published = {int(r["origin_pilot"]): int(r["assets"]) for r in await query_rows(_PUBLISHED, {"as_of": as_of})}
    reuse = {o.pilot: o for o in (await reuse_report(start, end)).by_origin_pilot}

    funnel: dict[int, dict[str, Any]] = {s: {"entered": 0, "commit": 0, "iterate": 0, "kill": 0, "days": []}
                                          for s in range(1, 5)}  # fmt: skip
    graduation_days: list[float] = []
    healths: list[tuple[dict[str, Any], PilotHealth]] = []
    movement: list[MetricMovement] = []
    for pilot in pilots:
        flow = gates_of(gates.get(int(pilot["id"]), []))
        created = when(pilot["created_at"])
        state = replay(created, flow, as_of)
        if start <= created < end:
            funnel[1]["entered"] += 1
        for gate, entered in state.decided:
            if not start <= gate.decided_at < end:
                continue
            figures = funnel[gate.stage]
            figures[gate.decision] += 1
            if gate.decision != "iterate":
                figures["days"].append(_days(entered, gate.decided_at))
            if gate.decision == "commit" and gate.stage < 4:
                funnel[gate.stage + 1]["entered"] += 1
            if gate.decision == "commit" and gate.stage == 4:
                graduation_days.append(_days(created, gate.decided_at))
        healths.append((pilot, health_of(pilot, flow, as_of, policy, published.get(int(pilot["id"]), 0))))
        moved = _movement(pilot, flow)
        if moved is not None:
            movement.append(moved)

    gate_rows = []
    for stage, f in funnel.items():
        median, p90 = _median_p90(f["days"])
        decided = f["commit"] + f["kill"]
        gate_rows.append(GateFunnel(
            stage=stage, name=STAGE_NAMES[stage], entered=f["entered"], commit=f["commit"], iterate=f["iterate"],
            kill=f["kill"], conversion_rate=_rate(f["commit"], decided), kill_rate=_rate(f["kill"], decided),
            median_days_to_decision=median, p90_days_to_decision=p90,
        ))  # fmt: skip
    waiting = sorted(
        (_waiting(p, h) for p, h in healths if h.stalled or h.circling),
        key=lambda w: (-(w.value_at_stake or 0), -w.days_past_deadline, w.pilot),
    )
    backlog = sorted(
        (BacklogPilot(pilot=p["slug"], name=p["name"], team=p["team"], graduated_at=h.stage_entered_at,
                      days_since_graduation=h.extraction.days_since_graduation)
         for p, h in healths if h.extraction is not None and h.extraction.backlog),
        key=lambda b: (-b.days_since_graduation, b.pilot),
    )  # fmt: skip
    compounding = sorted(
        (_compounding(p, h, reuse.get(p["slug"])) for p, h in healths if h.state == "graduated"),
        key=lambda c: (-c.downstream_pilots, -c.adoptions, c.pilot),
    )
    median_grad, p90_grad = _median_p90(graduation_days)
    states = [h.state for _, h in healths]
    summary = PortfolioSummary(
        active=sum(s in {"on_track", "stalled", "circling"} for s in states),
        graduated=states.count("graduated"), killed=states.count("killed"), on_track=states.count("on_track"),
        stalled=sum(h.stalled for _, h in healths), circling=sum(h.circling for _, h in healths),
        value_at_stake_usd=round(sum(w.value_at_stake or 0 for w in waiting if w.value_unit == "usd"), 2),
        value_at_stake_hours=round(sum(w.value_at_stake or 0 for w in waiting if w.value_unit == "hours"), 2),
        graduations=len(graduation_days), median_days_to_graduation=median_grad,
        p90_days_to_graduation=p90_grad, extraction_backlog=len(backlog),
    )  # fmt: skip
    return PortfolioReport(
        period=period, as_of=as_of, deadlines=policy.deadlines, extraction_days=policy.extraction_days,
        summary=summary, funnel=gate_rows, waiting=waiting,
        metric_movement=sorted(movement, key=lambda m: m.pilot), extraction_backlog=backlog, compounding=compounding,
    )  # fmt: skip


def _waiting(pilot: dict[str, Any], h: PilotHealth) -> WaitingPilot:
    value = load_json(pilot.get("value_per_month")) or {}
    return WaitingPilot(
        pilot=pilot["slug"], name=pilot["name"], team=pilot["team"], state=h.state, stage=h.stage,
        days_at_stage=h.days_at_stage, deadline_days=h.deadline_days or 0, days_past_deadline=h.days_past_deadline,
        iterations_at_gate=h.iterations_at_gate, budget_owner=h.budget_owner, value_per_month=value.get("amount"),
        value_unit=value.get("unit"), value_at_stake=h.value_at_stake.amount if h.value_at_stake else None,
    )  # fmt: skip


def _movement(pilot: dict[str, Any], flow: list[Gate]) -> MetricMovement | None:
    """Baseline, target and the latest measured value: gate 2 `after` or gate 4 `metric_value`."""
    baseline, target = load_json(pilot.get("baseline")), load_json(pilot.get("target"))
    if not isinstance(baseline, dict) or not isinstance(target, dict):
        return None
    latest: tuple[float, int, datetime] | None = None
    for gate in flow:
        evidence = gate.evidence or {}
        key = {2: "after", 4: "metric_value"}.get(gate.stage)
        if gate.decision == "commit" and key and isinstance(evidence.get(key), int | float):
            latest = (float(evidence[key]), gate.stage, gate.decided_at)
    span = float(target["value"]) - float(baseline["value"])
    closed = round((latest[0] - float(baseline["value"])) / span, 4) if latest and span else None
    return MetricMovement(
        pilot=pilot["slug"], name=pilot["name"], metric=baseline["metric"], unit=baseline["unit"],
        baseline=baseline["value"], target=target["value"], latest=latest[0] if latest else None,
        measured_at_gate=latest[1] if latest else None, measured_at=latest[2] if latest else None, gap_closed=closed,
    )  # fmt: skip


def _compounding(pilot: dict[str, Any], h: PilotHealth, figures: Any) -> CompoundingPilot:
    values = figures.model_dump() if figures is not None else {
        "pilot": pilot["slug"], "name": pilot["name"], "team": pilot["team"], "assets_available": 0,
        "assets_reused": 0, "downstream_pilots": 0, "adoptions": 0, "hours_saved": 0.0,
    }  # fmt: skip
    return CompoundingPilot(**values, graduated_at=h.stage_entered_at)
