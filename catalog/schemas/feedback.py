"""Starter-kit feedback: a pick someone marked useful or not for a problem."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from catalog.schemas.common import Slug, StrictModel, examples

__all__ = ["KitFeedbackOut", "KitFeedbackRequest", "UnhelpfulPick"]


class KitFeedbackRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({
        "problem": "Summarize supplier contracts and flag risky clauses", "slug": "llm-latency-slo-monitor",
        "useful": False, "note": "Latency does not matter for an overnight batch.",
    }))  # fmt: skip

    problem: str = Field(min_length=3, max_length=2000)
    """the problem statement the kit was asked for"""
    slug: Slug
    """the picked asset"""
    useful: bool
    """whether the pick helped"""
    note: str = Field(default="", max_length=2000)
    """why (shown to the asset's owners and curators in the reuse report)"""


class KitFeedbackOut(BaseModel):
    id: int
    problem: str
    slug: str
    useful: bool
    note: str
    given_by: str
    given_at: datetime


class UnhelpfulPick(BaseModel):
    """A pick marked not useful for a problem, in the reuse report's demand section."""

    slug: str
    problem: str
    times: int
    last_note: str
    last_marked_at: datetime
