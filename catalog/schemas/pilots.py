"""Pilots, their business case and stage-gate decisions: what is sent, and what reads return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from catalog.inputs import single_line
from catalog.schemas.common import Name, Sentence, Slug, StrictModel, Text, Url, examples
from catalog.schemas.portfolio import PilotHealth

__all__ = [
    "GATE_EVIDENCE",
    "AdoptedRef",
    "AdoptionEvidence",
    "AssetRef",
    "DownstreamReuse",
    "GateOut",
    "GateRequest",
    "Measure",
    "MonthlyValue",
    "PilotOut",
    "PilotPage",
    "PilotRef",
    "PilotRequest",
    "PilotUpdate",
    "PrototypeEvidence",
    "ReadinessEvidence",
]


def _mapping(data: Any, what: str, example: str) -> Any:
    """A pilot file's nested value must be a mapping: say which shape, with an example, not pydantic's words."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} is a mapping, not {type(data).__name__} {data!r}; e.g. {example}")
    return data


class Measure(StrictModel):
    metric: Name
    """the business metric, e.g. analyst minutes per alert"""
    value: float
    """its value"""
    unit: Annotated[str, Field(min_length=1, max_length=50), AfterValidator(single_line)]
    """its unit, e.g. min"""

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        return _mapping(data, "a measure", "{metric: handling minutes, value: 20, unit: min}")


class MonthlyValue(StrictModel):
    amount: float = Field(ge=0)
    """what the pilot is worth per month when it works"""
    unit: Literal["hours", "usd"]
    """hours or usd"""

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        return _mapping(data, "a monthly value", "{amount: 900, unit: hours}")


class PilotRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({
        "slug": "claims-email-triage", "name": "Claims email triage", "team": "claims-ai",
        "budget_owner": "Head of Claims Operations", "problem": "Claims emails wait a day before anyone reads them.",
        "baseline": {"metric": "hours to first action", "value": 26, "unit": "h"},
        "target": {"metric": "hours to first action", "value": 4, "unit": "h"},
        "value_per_month": {"amount": 900, "unit": "hours"},
    }))  # fmt: skip

    slug: Slug
    """the pilot's unique name"""
    name: Name
    """a human name"""
    team: Slug
    """the team running it"""
    budget_owner: Name | None = None
    """who owns the budget (gate 1 needs it)"""
    problem: Text
    """the problem it addresses, in the business's words"""
    baseline: Measure | None = None
    """the metric today (gate 1 needs it)"""
    target: Measure | None = None
    """the metric it aims for (gate 1 needs it)"""
    value_per_month: MonthlyValue | None = None
    """what reaching the target is worth per month"""
    created_at: datetime | None = Field(
        default=None, description="admin only: when the pilot really started, for pilots older than the registry"
    )


class PilotUpdate(StrictModel):
    """Fields a team fills in while framing the problem (before gate 1); all optional."""

    model_config = ConfigDict(json_schema_extra=examples({
        "budget_owner": "Head of Claims Operations", "value_per_month": {"amount": 900, "unit": "hours"},
    }))  # fmt: skip

    name: Name | None = None
    """a human name"""
    budget_owner: Name | None = Field(default=None, description="null clears it")
    problem: Text | None = None
    """the problem it addresses"""
    baseline: Measure | None = Field(default=None, description="null clears it")
    target: Measure | None = Field(default=None, description="null clears it")
    value_per_month: MonthlyValue | None = Field(default=None, description="null clears it")

    @field_validator("name", "problem", mode="before")
    @classmethod
    def _required_stay_set(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"a pilot always has a {info.field_name}; give a new one, or leave the field out")
        return value


class GateRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({
        "stage": 2, "decision": "commit", "decided_by": "Motor claims leadership",
        "notes": "The prototype cut handling time on real emails.", "evidence_url": "https://wiki.example.com/fnol/gate2",
        "evidence": {"metric": "hours to first action", "before": 26, "after": 6,
                     "workflow": "Motor claims emails, two weeks in shadow mode."},
    }))  # fmt: skip

    stage: int = Field(ge=1, le=4, description="the gate being decided: the pilot's current stage (1-4)")
    decision: Literal["commit", "iterate", "kill"]
    """commit (advance), iterate (stay, with notes) or kill (end, with notes)"""
    decided_by: Name
    """who decided: a name or a forum"""
    notes: str = Field(default="", max_length=20_000)
    """why; required for iterate and kill"""
    evidence_url: Url | None = None
    """a link to the review document"""
    evidence: dict[str, Any] = Field(default_factory=dict)
    """what the gate asks: 2 metric, before, after, workflow; 3 the readiness answers; 4 adoption (README)"""
    decided_at: datetime | None = Field(
        default=None, description="admin only: when the gate was really decided (not before the previous decision)"
    )


class PrototypeEvidence(StrictModel):
    """Gate 2: the real metric the prototype moved on a real workflow."""

    metric: Name
    before: float
    after: float
    workflow: Sentence


class ReadinessEvidence(StrictModel):
    """Gate 3, the production readiness review: each answer a real sentence."""

    slo: Sentence
    data_lineage: Sentence
    incident_response: Sentence
    cost_controls: Sentence
    rollback_plan: Sentence


class AdoptionEvidence(StrictModel):
    """Gate 4: who uses it, how often, and where the stage-1 metric stands now."""

    active_users: int = Field(ge=1)
    usage_frequency: Name
    metric_value: float


GATE_EVIDENCE: dict[int, type[StrictModel]] = {2: PrototypeEvidence, 3: ReadinessEvidence, 4: AdoptionEvidence}


class GateOut(BaseModel):
    stage: int
    decision: str
    decided_by: str
    notes: str
    evidence_url: str | None
    evidence: dict[str, Any]
    decided_at: datetime


class AssetRef(BaseModel):
    slug: str
    kind: str
    title: str
    latest_version: str | None
    lifecycle: str


class AdoptedRef(BaseModel):
    adoption_id: int
    asset: str
    kind: str
    version: str
    mode: str
    adopted_at: datetime
    active: bool


class DownstreamReuse(BaseModel):
    assets_reused: int = Field(description="its assets with an active adoption by another pilot")
    adopting_pilots: list[str] = Field(description="other pilots actively using any of its assets")
    active_adoptions: int
    hours_saved: float = Field(description="hours those adoptions declared (first adoption per pilot and asset)")


class PilotOut(BaseModel):
    slug: str
    name: str
    team: str
    budget_owner: str | None
    problem: str
    baseline: Measure | None
    target: Measure | None
    value_per_month: MonthlyValue | None
    stage: int
    status: Literal["active", "graduated", "killed"]
    created_at: datetime
    graduated_at: datetime | None
    gates: list[GateOut] = Field(default_factory=list)
    published_assets: list[AssetRef] = Field(default_factory=list)
    adopted_assets: list[AdoptedRef] = Field(default_factory=list)
    downstream: DownstreamReuse | None = Field(default=None, description="how far this pilot's work compounded")
    health: PilotHealth | None = Field(default=None, description="where it stands at its gate (docs/metrics.md)")


class PilotPage(BaseModel):
    total: int
    items: list[PilotOut]


class PilotRef(BaseModel):
    slug: str
    name: str
    team: str
    status: str
