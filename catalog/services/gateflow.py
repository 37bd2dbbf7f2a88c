"""Where a pilot stands at any instant, replayed from its gate decisions, and whether it is stuck there.

Replaying (instead of reading the pilot's current stage) lets the portfolio report answer "as of" the end
of any period with the same rules as the live pilot page.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from catalog.schemas import utc
from catalog.schemas.portfolio import (
    Extraction,
    HealthState,
    LastDecision,
    PilotHealth,
    PortfolioPolicy,
    ValueAtStake,
)

__all__ = [
    "DAYS_PER_MONTH",
    "Gate",
    "Replay",
    "Standing",
    "collector_paused",
    "gates_of",
    "health_of",
    "load_json",
    "replay",
    "standing",
    "when",
]

DAYS_PER_MONTH = 365.25 / 12


class Gate(NamedTuple):
    stage: int
    decision: str
    decided_at: datetime
    decided_by: str = ""


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a short pass that allocates tens of thousands of acyclic objects.

    In a server holding many long-lived objects, each full collection walks all of them; the portfolio pass
    would trigger several (measured: a third of its time). Collection resumes right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def when(value: Any) -> datetime:
    """A timestamp as an aware UTC datetime: raw SQLite rows carry text, PostgreSQL aware datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return utc(datetime.fromisoformat(str(value)))


def load_json(value: Any) -> Any:
    """JSON columns arrive decoded from Piccolo and as text from raw queries."""
    if value == "{}":  # most pilots have no own deadline: skip the parser
        return {}
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


@dataclass(slots=True)
class Standing:
    """The figures of a pilot's health, cheap enough to compute for every pilot of a large portfolio."""

    state: HealthState
    entered: datetime
    days_at_stage: int
    stage: int = 1
    iterations: int = 0
    stalled: bool = False
    circling: bool = False
    deadline_days: int | None = None
    deadline: datetime | None = None
    deadline_reason: str | None = None
    days_past_deadline: int = 0
    months_past_deadline: float = 0.0
    at_stake: float | None = None
    at_stake_unit: str | None = None
    backlog: bool = False
    days_since_graduation: int | None = None


class Extracted(NamedTuple):
    """Stage 5 of a graduated pilot: has it published what others can reuse?"""

    graduated_at: datetime
    days_since_graduation: int
    backlog: bool


def extraction(graduated_at: datetime, as_of: datetime, assets_published: int, policy: PortfolioPolicy) -> Extracted:
    """In the backlog: graduated longer than the extraction window ago and nothing published."""
    since = max(0, (as_of - graduated_at).days)
    return Extracted(graduated_at, since, assets_published == 0 and since > policy.extraction_days)


def standing(
    state: Replay,
    as_of: datetime,
    policy: PortfolioPolicy,
    *,
    deadlines: Any = None,
    value: tuple[float, str] | None = None,
    assets_published: int = 0,
) -> Standing:
    """Stalled, circling, value at stake and extraction backlog (docs/metrics.md, "Pilot health").

    `deadlines` is the pilot's own deadlines (JSON), `value` its value per month as (amount, unit).
    """
    assert state.entered_at is not None
    entered = state.entered_at
    days_at_stage = max(0, (as_of - entered).days)
    if state.status == "killed":
        return Standing("killed", entered, days_at_stage, state.stage)
    if state.status == "graduated":
        done = extraction(entered, as_of, assets_published, policy)
        return Standing("graduated", entered, days_at_stage, state.stage, backlog=done.backlog,
                        days_since_graduation=done.days_since_graduation)  # fmt: skip
    days, reason = _deadline_days(state.stage, load_json(deadlines) or {}, policy)
    deadline = entered + timedelta(days=days)
    out = Standing("on_track", entered, days_at_stage, state.stage, state.iterations, deadline_days=days,
                   deadline=deadline, deadline_reason=reason)  # fmt: skip
    out.stalled = as_of > deadline
    out.circling = state.iterations >= policy.circling_iterations
    out.state = "circling" if out.circling else "stalled" if out.stalled else "on_track"
    if out.stalled:
        out.days_past_deadline = (as_of - deadline).days
        out.months_past_deadline = (as_of - deadline).total_seconds() / 86400 / DAYS_PER_MONTH
        if value is not None:
            out.at_stake = round(value[0] * out.months_past_deadline, 2)
            out.at_stake_unit = value[1]
    return out


def health_of(
    pilot: dict[str, Any], gates: list[Gate], as_of: datetime, policy: PortfolioPolicy, assets_published: int = 0
) -> PilotHealth:
    """The health block of one pilot (see docs/metrics.md, "Pilot health")."""
    state = replay(when(pilot["created_at"]), gates, as_of)
    monthly = load_json(pilot.get("value_per_month"))
    value = (float(monthly["amount"]), str(monthly["unit"])) if isinstance(monthly, dict) else None
    s = standing(state, as_of, policy, deadlines=pilot.get("deadlines"), value=value, assets_published=assets_published)
    last = state.last
    return PilotHealth(
        state=s.state,
        stalled=s.stalled,
        circling=s.circling,
        stage=state.stage,
        stage_entered_at=s.entered,
        days_at_stage=s.days_at_stage,
        deadline_days=s.deadline_days,
        deadline=s.deadline,
        deadline_reason=s.deadline_reason,
        days_past_deadline=s.days_past_deadline,
        iterations_at_gate=s.iterations,
        last_decision=LastDecision(
            stage=last.stage, decision=last.decision, decided_by=last.decided_by, decided_at=last.decided_at
        )
        if last
        else None,
        budget_owner=pilot.get("budget_owner"),
        value_at_stake=ValueAtStake.model_validate(
            {"amount": s.at_stake, "unit": s.at_stake_unit, "months_past_deadline": round(s.months_past_deadline, 2)}
        )
        if s.at_stake is not None
        else None,
        extraction=Extraction(
            assets_published=assets_published, days_since_graduation=s.days_since_graduation, backlog=s.backlog
        )
        if s.days_since_graduation is not None
        else None,
    )


def gates_of(rows: list[dict[str, Any]]) -> list[Gate]:
    """Gate rows (any source) as Gates, in decision order."""
    return [
        Gate(int(r["stage"]), str(r["decision"]), when(r["decided_at"]), str(r.get("decided_by", ""))) for r in rows
    ]
