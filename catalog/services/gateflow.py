"""Where a pilot stands at any instant, replayed from its gate decisions, and whether it is stuck there.

Replaying (instead of reading the pilot's current stage) lets the portfolio report answer "as of" the end
of any period with the same rules as the live pilot page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from catalog.schemas import utc
from catalog.schemas.portfolio import (
    Extraction,
    HealthState,
    LastDecision,
    PilotHealth,
    PortfolioPolicy,
    ValueAtStake,
)

__all__ = ["DAYS_PER_MONTH", "Gate", "Replay", "gates_of", "health_of", "load_json", "replay", "when"]

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Gate:
    stage: int
    decision: str
    decided_by: str
    decided_at: datetime
    evidence: dict[str, Any] | None = None


@dataclass
class Replay:
    """The pilot at an instant: its status and stage, since when, and each decision with its stage's entry."""

    status: str = "active"
    stage: int = 1
    entered_at: datetime | None = None
    iterations: int = 0
    last: Gate | None = None
    graduated_at: datetime | None = None
    decided: list[tuple[Gate, datetime]] = field(default_factory=list)


def when(value: Any) -> datetime:
    """A timestamp as an aware UTC datetime: raw SQLite rows carry text."""
    return utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def load_json(value: Any) -> Any:
    """JSON columns arrive decoded from Piccolo and as text from raw queries."""
    return json.loads(value) if isinstance(value, str) else value


def replay(created_at: datetime, gates: list[Gate], as_of: datetime) -> Replay:
    """Gates in decision order, up to `as_of`: commit advances (gate 4 graduates), kill ends, iterate stays."""
    state = Replay(entered_at=created_at)
    for gate in gates:
        if gate.decided_at > as_of or state.status != "active":
            break
        assert state.entered_at is not None
        state.decided.append((gate, state.entered_at))
        state.last = gate
        if gate.decision == "iterate":
            state.iterations += 1
        elif gate.decision == "kill":
            state.status, state.entered_at = "killed", gate.decided_at
        elif gate.decision == "commit":
            state.stage, state.entered_at, state.iterations = gate.stage + 1, gate.decided_at, 0
            if gate.stage == 4:
                state.status, state.graduated_at = "graduated", gate.decided_at
    return state


def _deadline_days(stage: int, overrides: dict[str, Any], policy: PortfolioPolicy) -> tuple[int, str | None]:
    own = overrides.get(str(stage)) if isinstance(overrides, dict) else None
    if isinstance(own, dict) and isinstance(own.get("days"), int):
        return own["days"], own.get("reason")
    return policy.deadlines.get(stage, policy.deadlines[max(policy.deadlines)]), None


def health_of(
    pilot: dict[str, Any], gates: list[Gate], as_of: datetime, policy: PortfolioPolicy, assets_published: int = 0
) -> PilotHealth:
    """The health block of one pilot (see docs/metrics.md, "Pilot health")."""
    created = when(pilot["created_at"])
    state = replay(created, gates, as_of)
    entered = state.entered_at or created
    days_at_stage = max(0, (as_of - entered).days)
    last = state.last
    last_decision = (
        LastDecision(stage=last.stage, decision=last.decision, decided_by=last.decided_by, decided_at=last.decided_at)
        if last
        else None
    )
    common: dict[str, Any] = {
        "stage": state.stage,
        "stage_entered_at": entered,
        "days_at_stage": days_at_stage,
        "iterations_at_gate": state.iterations,
        "last_decision": last_decision,
        "budget_owner": pilot.get("budget_owner"),
    }
    if state.status != "active":
        extraction = None
        if state.graduated_at is not None:
            since = max(0, (as_of - state.graduated_at).days)
            backlog = assets_published == 0 and since > policy.extraction_days
            extraction = Extraction(assets_published=assets_published, days_since_graduation=since, backlog=backlog)
        closed: HealthState = "graduated" if state.status == "graduated" else "killed"
        return PilotHealth(
            state=closed, stalled=False, circling=False, deadline_days=None, deadline=None, days_past_deadline=0,
            value_at_stake=None, extraction=extraction, **common,
        )  # fmt: skip
    days, reason = _deadline_days(state.stage, load_json(pilot.get("deadlines")) or {}, policy)
    deadline = entered + timedelta(days=days)
    stalled = as_of > deadline
    circling = state.iterations >= policy.circling_iterations
    value = load_json(pilot.get("value_per_month"))
    at_stake = None
    if stalled and isinstance(value, dict) and value.get("amount") is not None:
        months = (as_of - deadline).total_seconds() / 86400 / DAYS_PER_MONTH
        at_stake = ValueAtStake(
            amount=round(float(value["amount"]) * months, 2), unit=value["unit"], months_past_deadline=round(months, 2)
        )
    health: HealthState = "circling" if circling else "stalled" if stalled else "on_track"
    return PilotHealth(
        state=health, stalled=stalled, circling=circling, deadline_days=days, deadline=deadline,
        deadline_reason=reason, days_past_deadline=max(0, (as_of - deadline).days), value_at_stake=at_stake, **common,
    )  # fmt: skip


def gates_of(rows: list[dict[str, Any]]) -> list[Gate]:
    """Gate rows (any source) as Gates, in decision order."""
    return [
        Gate(
            stage=int(r["stage"]),
            decision=str(r["decision"]),
            decided_by=str(r.get("decided_by", "")),
            decided_at=when(r["decided_at"]),
            evidence=load_json(r.get("evidence")),
        )
        for r in rows
    ]
