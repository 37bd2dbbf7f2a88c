"""The portfolio report: the gate funnel, time to decision, stalled and circling pilots with the value at stake,
metric movement, the extraction backlog and how far graduated pilots compounded (docs/metrics.md).

Grouped reads (`portfolio_reads`), then one pass in Python with the pilot page's own health rules
(`gateflow.standing`), so the report and the page never disagree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from heapq import nsmallest
from typing import Any

from catalog.schemas import OriginPilotFigures, ReportPeriod, utc
from catalog.schemas.portfolio import (
    BacklogPilot,
    CompoundingPilot,
    GateFunnel,
    KilledPilot,
    MetricMovement,
    PortfolioPolicy,
    PortfolioReport,
    PortfolioSummary,
    WaitingPilot,
)
from catalog.services.gateflow import Extracted, Standing, collector_paused, extraction, load_json, standing, when
from catalog.services.journal import now
from catalog.services.pilots import STAGE_NAMES
from catalog.services.portfolio_reads import (
    Figures,
    decision_figures,
    killed_in_period,
    latest_measure,
    pilot_details,
    pilot_rows,
    published_counts,
    state_of,
)
from catalog.services.reports import LIST_LIMIT, report_period, reuse_report

__all__ = ["portfolio_report"]

Row = Mapping[str, Any]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def portfolio_report(
    since: datetime | None = None, until: datetime | None = None, *, policy: PortfolioPolicy | None = None
) -> PortfolioReport:
    """The report for [since, until); health and lists as of `until` (or now, when `until` is later)."""
    policy = policy or PortfolioPolicy()
    start, end = report_period(since, until)
    as_of = min(end, now())
    with collector_paused():  # the rows decoded and the pass allocate tens of thousands of acyclic objects
        # Independent reads side by side, each on its own pooled connection on PostgreSQL.
        pilots, figures, published, reuse_figures, killed = await asyncio.gather(
            pilot_rows(as_of), decision_figures(start, end, as_of), published_counts(as_of), reuse_report(start, end),
            killed_in_period(start, end, as_of, LIST_LIMIT),
        )  # fmt: skip
        reuse = {o.pilot: o for o in reuse_figures.by_origin_pilot}
        report = await _report(ReportPeriod(since=start, until=end), as_of, policy, pilots, figures, published, reuse)
        report.killed = [KilledPilot.model_validate(k) for k in killed]
        return report


async def _report(
    period: ReportPeriod,
    as_of: datetime,
    policy: PortfolioPolicy,
    pilots: Sequence[Row],
    figures: dict[int, Figures],
    published: dict[int, int],
    reuse: dict[str, OriginPilotFigures],
) -> PortfolioReport:
    """One pass over every pilot; lists keep their first LIST_LIMIT rows (the sorts pick only those)."""
    start, end = utc(period.since), utc(period.until)
    entered_first = 0
    active: list[tuple[Row, Standing]] = []
    graduated: list[tuple[Row, Extracted]] = []
    killed = 0
    movement: list[tuple[Row, float | None]] = []
    for pilot in pilots:
        created = when(pilot["created_at"])
        if start <= created < end:
            entered_first += 1
        if pilot["baseline_value"] is not None and pilot["target_value"] is not None:
            movement.append((pilot, pilot["gap_closed"]))
        if pilot["killed_at"] is not None:
            killed += 1
        elif pilot["commits"] >= 4:  # graduated: only what stage 5 asks (most pilots of a mature portfolio)
            graduated.append((pilot, extraction(when(pilot["last_commit"]), as_of, published.get(pilot["id"], 0),
                                                policy)))  # fmt: skip
        else:
            amount = pilot["value_amount"]
            value = (float(amount), str(pilot["value_unit"])) if amount is not None else None
            active.append((pilot, standing(state_of(pilot, created), as_of, policy, deadlines=pilot["deadlines"],
                                           value=value)))  # fmt: skip

    waiting = [(p, s) for p, s in active if s.stalled or s.circling]
    backlog = [(p, e) for p, e in graduated if e.backlog]
    waiting_top = nsmallest(
        LIST_LIMIT, waiting, key=lambda w: (-(w[1].at_stake or 0), -w[1].days_past_deadline, w[0]["slug"])
    )
    backlog_top = nsmallest(LIST_LIMIT, backlog, key=lambda b: (-b[1].days_since_graduation, b[0]["slug"]))
    moved_top = nsmallest(LIST_LIMIT, movement, key=lambda m: (m[1] is None, m[1] or 0.0, m[0]["slug"]))
    graduated_top = nsmallest(LIST_LIMIT, graduated, key=lambda g: _reach(reuse.get(g[0]["slug"]), g))
    shown = [p["id"] for p, _ in waiting_top + backlog_top + graduated_top] + [p["id"] for p, _ in moved_top]
    details = await pilot_details(shown)
    gate4 = figures.get(4)
    summary = PortfolioSummary(
        active=len(active), graduated=len(graduated), killed=killed,
        on_track=sum(s.state == "on_track" for _, s in active),
        stalled=sum(s.stalled for _, s in active), circling=sum(s.circling for _, s in active),
        value_at_stake_usd=round(sum(s.at_stake or 0 for _, s in waiting if s.at_stake_unit == "usd"), 2),
        value_at_stake_hours=round(sum(s.at_stake or 0 for _, s in waiting if s.at_stake_unit == "hours"), 2),
        graduations=gate4.commit if gate4 else 0,
        median_days_to_graduation=_round(gate4.graduation_median) if gate4 else None,
        p90_days_to_graduation=_round(gate4.graduation_p90) if gate4 else None,
        extraction_backlog=len(backlog),
    )  # fmt: skip
    return PortfolioReport(
        period=period, as_of=as_of, deadlines=policy.deadlines, extraction_days=policy.extraction_days,
        summary=summary, funnel=_funnel(figures, entered_first),
        waiting=[_waiting(details[p["id"]], p, s) for p, s in waiting_top], waiting_total=len(waiting),
        metric_movement=[_movement(details[p["id"]], p, closed) for p, closed in moved_top],
        metric_movement_total=len(movement),
        extraction_backlog=[_backlog(details[p["id"]], e) for p, e in backlog_top],
        extraction_backlog_total=len(backlog),
        compounding=[_compounding(details[p["id"]], e, reuse.get(p["slug"])) for p, e in graduated_top],
        compounding_total=len(graduated), killed=[],
    )  # fmt: skip


def _funnel(figures: dict[int, Figures], entered_first: int) -> list[GateFunnel]:
    """Per gate: who entered the stage (created, or committed at the gate before), decisions, days to decide."""
    empty = Figures(0, 0, 0, None, None, None, None)
    rows = []
    for stage in range(1, 5):
        f = figures.get(stage, empty)
        entered = entered_first if stage == 1 else figures.get(stage - 1, empty).commit
        rows.append(GateFunnel(
            stage=stage, name=STAGE_NAMES[stage], entered=entered, commit=f.commit, iterate=f.iterate, kill=f.kill,
            conversion_rate=_rate(f.commit, f.commit + f.kill), kill_rate=_rate(f.kill, f.commit + f.kill),
            median_days_to_decision=_round(f.median), p90_days_to_decision=_round(f.p90),
        ))  # fmt: skip
    return rows


def _reach(figures: OriginPilotFigures | None, item: tuple[Row, Extracted]) -> tuple[int, int, str]:
    """The reuse report's order of origin pilots: most downstream pilots, then most adoptions."""
    slug = str(item[0]["slug"])
    return (-figures.downstream_pilots, -figures.adoptions, slug) if figures else (0, 0, slug)


def _waiting(d: Row, pilot: Row, s: Standing) -> WaitingPilot:
    return WaitingPilot(
        pilot=d["slug"], name=d["name"], team=d["team"], state=s.state, stage=s.stage,
        days_at_stage=s.days_at_stage, deadline_days=s.deadline_days or 0, days_past_deadline=s.days_past_deadline,
        iterations_at_gate=s.iterations, budget_owner=d["budget_owner"], value_per_month=pilot["value_amount"],
        value_unit=pilot["value_unit"], value_at_stake=s.at_stake,
    )  # fmt: skip


def _movement(d: Row, pilot: Row, closed: float | None) -> MetricMovement:
    baseline, target = load_json(d["baseline"]), load_json(d["target"])
    latest = latest_measure(pilot)
    closed = None if closed is None else round(float(closed), 4)
    return MetricMovement(
        pilot=d["slug"], name=d["name"], metric=baseline["metric"], unit=baseline["unit"],
        baseline=baseline["value"], target=target["value"], latest=latest[0] if latest else None,
        measured_at_gate=latest[1] if latest else None, measured_at=when(latest[2]) if latest else None,
        gap_closed=closed,
    )  # fmt: skip


def _backlog(d: Row, e: Extracted) -> BacklogPilot:
    return BacklogPilot(pilot=d["slug"], name=d["name"], team=d["team"], graduated_at=e.graduated_at,
                        days_since_graduation=e.days_since_graduation)  # fmt: skip


def _compounding(d: Row, e: Extracted, figures: OriginPilotFigures | None) -> CompoundingPilot:
    values = figures.model_dump() if figures is not None else {
        "pilot": d["slug"], "name": d["name"], "team": d["team"], "assets_available": 0,
        "assets_reused": 0, "downstream_pilots": 0, "adoptions": 0, "hours_saved": 0.0,
    }  # fmt: skip
    return CompoundingPilot(**values, graduated_at=e.graduated_at)
