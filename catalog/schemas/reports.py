"""The reuse report: its period, summary and every breakdown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from catalog.schemas.feedback import UnhelpfulPick

__all__ = [
    "AssetFigures",
    "AtRiskAdoption",
    "DemandQuery",
    "KindFigures",
    "MonthFigures",
    "OriginPilotFigures",
    "ReportPeriod",
    "ReuseReport",
    "ReuseSummary",
    "StaleAsset",
    "TeamFigures",
]


class ReportPeriod(BaseModel):
    since: datetime = Field(description="inclusive, UTC")
    until: datetime = Field(description="exclusive, UTC")


class ReuseSummary(BaseModel):
    assets_available: int = Field(description="assets published before `until` with a version not yanked by then")
    assets_published: int = Field(description="assets whose first version was published in the period")
    assets_reused: int = Field(description="available assets with an adoption active during the period")
    reuse_rate: float = Field(description="assets_reused / assets_available")
    adoptions: int = Field(description="first adoptions of an asset by a pilot, in the period")
    adopting_pilots: int = Field(description="pilots with at least one such adoption in the period")
    hours_saved: float = Field(description="hours saved those adoptions declared")
    pilots_created: int
    started_with_catalog: int = Field(description="pilots created in the period that adopted within 30 days")
    started_with_catalog_share: float


class MonthFigures(BaseModel):
    month: str
    adoptions: int
    hours_saved: float


class KindFigures(BaseModel):
    kind: str
    assets_available: int
    assets_published: int
    assets_reused: int
    reuse_rate: float
    adoptions: int
    hours_saved: float


class AssetFigures(BaseModel):
    slug: str
    kind: str
    title: str
    owner: str
    origin_pilot: str
    adoptions: int = Field(description="first adoptions in the period")
    active_pilots: int = Field(description="pilots with an adoption active during the period")
    hours_saved: float


class OriginPilotFigures(BaseModel):
    pilot: str
    name: str
    team: str
    assets_available: int
    assets_reused: int
    downstream_pilots: int = Field(description="other pilots using any of its assets during the period")
    adoptions: int
    hours_saved: float


class TeamFigures(BaseModel):
    team: str
    assets_available: int
    assets_reused: int
    adoptions_received: int
    hours_saved: float
    adoptions_made: int = Field(description="first adoptions by the team's own pilots in the period")


class StaleAsset(BaseModel):
    slug: str
    kind: str
    title: str
    owner: str
    origin_pilot: str
    lifecycle: str
    first_published_at: datetime
    days_since_published: int


class AtRiskAdoption(BaseModel):
    adoption_id: int
    pilot: str
    asset: str
    version: str
    reason: Literal["deprecated", "yanked", "deprecated and yanked"]
    successor: str | None
    move_to: str | None = Field(description="the successor asset, or the version to move to")
    adopted_at: datetime


class DemandQuery(BaseModel):
    query: str
    searches: int
    last_searched_at: datetime


class ReuseReport(BaseModel):
    period: ReportPeriod
    summary: ReuseSummary
    adoptions_per_month: list[MonthFigures]
    by_kind: list[KindFigures]
    by_asset: list[AssetFigures]
    by_origin_pilot: list[OriginPilotFigures]
    by_team: list[TeamFigures]
    stale: list[StaleAsset]
    stale_total: int
    at_risk: list[AtRiskAdoption]
    at_risk_total: int
    demand: list[DemandQuery]
    unhelpful_picks: list[UnhelpfulPick] = Field(
        default_factory=list, description="starter-kit picks marked not useful, most often first (demand)"
    )
