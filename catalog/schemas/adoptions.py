"""Adoptions (which pilot reuses which version) and API tokens: requests and what reads return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from catalog.inputs import single_line
from catalog.schemas.common import Name, Scope, Slug, StrictModel, examples

__all__ = ["AdoptionOut", "AdoptionPage", "AdoptionRequest", "NewToken", "RetireRequest", "TokenOut", "TokenRequest"]


class AdoptionRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({
        "asset": "claims-triage-prompt", "version": "production", "pilot": "motor-fnol-intake", "mode": "adapted",
        "hours_saved": 40, "note": "Used for FNOL emails; categories replaced.",
    }))  # fmt: skip

    asset: Slug
    """the asset adopted"""
    version: str | None = Field(
        default=None,
        max_length=100,
        description="an exact version, a label such as `production`, or empty for the latest",
    )
    pilot: Slug
    """the adopting pilot"""
    mode: Literal["as_is", "adapted", "forked"] = "as_is"
    """as_is, adapted or forked"""
    hours_saved: float = Field(default=0.0, ge=0, le=100_000)
    """the hours this saved the adopting pilot (an estimate)"""
    note: str = Field(default="", max_length=5000)
    """what was kept or changed"""
    on_behalf_of: Name | None = Field(
        default=None, description="who the adoption was recorded for (a note); the token is who recorded it"
    )

    adopted_by: SkipJsonSchema[Any] = Field(default=None, exclude=True)

    @field_validator("adopted_by", mode="before")
    @classmethod
    def _adopted_by_is_the_token(cls, value: Any) -> None:
        raise PydanticCustomError(
            "adopted_by_not_accepted",
            "`adopted_by` is the identity of the token that records the adoption and cannot be set; "
            "name the person or group it was for in `on_behalf_of`",
        )


class RetireRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({"reason": "moved to 1.1.0"}))

    reason: str = Field(default="", max_length=5000)
    """why it is no longer used"""


class TokenRequest(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(single_line)]
    team: Slug
    scopes: list[Scope] = Field(min_length=1)


class AdoptionOut(BaseModel):
    id: int
    asset: str
    kind: str
    version: str
    pilot: str
    origin_pilot: str
    mode: str
    hours_saved: float
    note: str
    adopted_by: str = Field(description="the token that recorded it: team/name")
    on_behalf_of: str | None = None
    adopted_at: datetime
    retired_at: datetime | None
    retire_reason: str | None
    active: bool
    warnings: list[str] = Field(default_factory=list)


class AdoptionPage(BaseModel):
    total: int
    items: list[AdoptionOut]


class TokenOut(BaseModel):
    id: int
    name: str
    team: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")
