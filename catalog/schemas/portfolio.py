"""A pilot's health at its gate, and the portfolio report: funnel, time to decision, what waiting costs.

Every figure is defined in docs/metrics.md ("Portfolio report").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from catalog.schemas.common import Sentence, StrictModel, examples
from catalog.schemas.reports import OriginPilotFigures, ReportPeriod

__all__ = [
    "DEFAULT_DEADLINES",
    "BacklogPilot",
    "CompoundingPilot",
    "DeadlineRequest",
    "Extraction",
    "GateFunnel",
    "HealthState",
    "KilledPilot",
    "LastDecision",
    "MetricMovement",
    "PilotHealth",
    "PortfolioPolicy",
    "PortfolioReport",
    "PortfolioSummary",
    "ValueAtStake",
    "WaitingPilot",
]

HealthState = Literal["on_track", "stalled", "circling", "graduated", "killed"]
DEFAULT_DEADLINES: dict[int, int] = {1: 30, 2: 60, 3: 60, 4: 90}


class PortfolioPolicy(BaseModel):
    """The operator's rules: days each gate may take, and days a graduated pilot has to publish an asset."""

    deadlines: dict[int, int] = Field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    extraction_days: int = 60
    circling_iterations: int = 3


def _reason(value: str) -> str:
    if len(value.strip()) < 10:
        raise ValueError("say why the deadline differs, in a sentence")
    return value


class DeadlineRequest(StrictModel):
    """A pilot's own deadline for one gate, set by its team with a reason (journaled)."""

    model_config = ConfigDict(json_schema_extra=examples({
        "days": 120, "reason": "Waits for the telephony contract, signed in March.",
    }))  # fmt: skip

    days: int = Field(ge=1, le=3650, description="days the gate may take from entering the stage")
    reason: Annotated[Sentence, AfterValidator(_reason)]
    """why this pilot's gate differs from the default (a sentence)"""


class LastDecision(BaseModel):
    stage: int
    decision: str
    decided_by: str
    decided_at: datetime


class ValueAtStake(BaseModel):
    amount: float = Field(description="value_per_month times the months waited past the deadline")
    unit: Literal["hours", "usd"]
    months_past_deadline: float


class Extraction(BaseModel):
    """Stage 5: whether a graduated pilot has published what others can reuse."""

    assets_published: int
    days_since_graduation: int
    backlog: bool = Field(description="graduated longer than the extraction window ago, nothing published")


class PilotHealth(BaseModel):
    state: HealthState
    stalled: bool = Field(description="active and past its gate's deadline without commit or kill")
    circling: bool = Field(description="active and answered iterate at least three times at its current gate")
    stage: int
    stage_entered_at: datetime
    days_at_stage: int
    deadline_days: int | None = Field(description="None once the pilot graduated or was killed")
    deadline: datetime | None
    deadline_reason: str | None = Field(default=None, description="why the team set its own deadline")
    days_past_deadline: int
    iterations_at_gate: int
    last_decision: LastDecision | None
    budget_owner: str | None
    value_at_stake: ValueAtStake | None
    extraction: Extraction | None = None


class GateFunnel(BaseModel):
    stage: int
    name: str
    entered: int = Field(description="pilots that entered this stage in the period")
    commit: int
    iterate: int
    kill: int
    conversion_rate: float | None = Field(description="commit / (commit + kill) at this gate in the period")
    kill_rate: float | None = Field(description="kill / (commit + kill) at this gate in the period")
    median_days_to_decision: float | None
    p90_days_to_decision: float | None


class WaitingPilot(BaseModel):
    pilot: str
    name: str
    team: str
    state: HealthState
    stage: int
    days_at_stage: int
    deadline_days: int
    days_past_deadline: int
    iterations_at_gate: int
    budget_owner: str | None
    value_per_month: float | None
    value_unit: str | None
    value_at_stake: float | None


class MetricMovement(BaseModel):
    pilot: str
    name: str
    metric: str
    unit: str
    baseline: float
    target: float
    latest: float | None
    measured_at_gate: int | None
    measured_at: datetime | None
    gap_closed: float | None = Field(description="(latest - baseline) / (target - baseline)")


class BacklogPilot(BaseModel):
    pilot: str
    name: str
    team: str
    graduated_at: datetime
    days_since_graduation: int


class KilledPilot(BaseModel):
    """A pilot killed in the period: killing early is healthy, so the report names them."""

    pilot: str
    name: str
    team: str
    stage: int
    killed_at: datetime
    decided_by: str
    notes: str


class CompoundingPilot(OriginPilotFigures):
    """A graduated pilot's reuse, with the reuse report's `by_origin_pilot` definitions (one definition for both)."""

    graduated_at: datetime


class PortfolioSummary(BaseModel):
    active: int
    graduated: int
    killed: int
    on_track: int
    stalled: int
    circling: int
    value_at_stake_usd: float
    value_at_stake_hours: float
    graduations: int
    median_days_to_graduation: float | None
    p90_days_to_graduation: float | None
    extraction_backlog: int


class PortfolioReport(BaseModel):
    period: ReportPeriod
    as_of: datetime = Field(description="the instant health is computed at: the period's end, or now")
    deadlines: dict[int, int]
    extraction_days: int
    summary: PortfolioSummary
    funnel: list[GateFunnel]
    waiting: list[WaitingPilot] = Field(description="stalled and circling pilots, most value at stake first")
    waiting_total: int
    metric_movement: list[MetricMovement] = Field(description="pilots with a business case, furthest from target first")
    metric_movement_total: int
    extraction_backlog: list[BacklogPilot]
    extraction_backlog_total: int
    killed: list[KilledPilot] = Field(description="pilots killed in the period, the latest first")
    compounding: list[CompoundingPilot]
    compounding_total: int
