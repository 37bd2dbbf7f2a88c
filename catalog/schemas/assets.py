"""What asset reads return (versions, labels, files), publish results, curation requests, search documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from catalog.schemas.common import SemVer, Slug, StrictModel, examples
from catalog.schemas.pilots import PilotRef

__all__ = [
    "AssetDocument",
    "AssetOut",
    "AssetPage",
    "DeprecateRequest",
    "FileOut",
    "LabelOut",
    "LabelRequest",
    "PublishResult",
    "ResolvedDependency",
    "VersionOut",
    "VersionSummary",
    "YankRequest",
]


class YankRequest(StrictModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"reason": "Urgency rules misroute injury claims; use 1.1.0."})
    )

    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    """why (adopters see it in their warnings)"""


class DeprecateRequest(StrictModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"reason": "Superseded: adds retrieval recall.", "successor": "rag-answer-quality-eval"}
        )
    )

    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    """why (adopters see it)"""
    successor: Slug | None = None
    """the asset teams should move to"""


class LabelRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({"version": "1.1.0", "reason": "canary passed"}))

    version: SemVer
    """the version the label points at from now on"""
    reason: str = Field(
        default="", max_length=2000, description="why the label moves (kept in its history)", examples=["canary passed"]
    )


class VersionSummary(BaseModel):
    version: str
    content_digest: str
    published_by: str
    published_at: datetime
    changelog: str
    yanked: bool
    yanked_reason: str | None


class LabelOut(BaseModel):
    name: str
    version: str
    moved_by: str
    moved_at: datetime


class AssetOut(BaseModel):
    slug: str
    kind: str
    title: str
    summary: str
    description: str
    tags: list[str]
    owner: str
    origin_pilot: PilotRef
    lifecycle: Literal["active", "deprecated"]
    successor: str | None
    deprecation_reason: str | None
    latest_version: str | None
    created_at: datetime
    updated_at: datetime
    reuse_count: int = Field(description="pilots other than the origin with an active adoption")
    adoptions: int = Field(description="active adoptions, the origin pilot's own excluded")
    adopting_pilots: list[str] = Field(default_factory=list)
    versions: list[VersionSummary] = Field(default_factory=list)
    labels: list[LabelOut] = Field(default_factory=list)


class AssetPage(BaseModel):
    total: int
    items: list[AssetOut]


class FileOut(BaseModel):
    path: str
    size: int
    sha256: str
    content: str
    encoding: Literal["utf-8", "base64"] = "utf-8"


class ResolvedDependency(BaseModel):
    slug: str
    range: str
    resolved: str


class VersionOut(VersionSummary):
    asset: str
    kind: str
    spec: dict[str, Any]
    manifest: dict[str, Any]
    source: dict[str, Any] | None
    depends_on: list[ResolvedDependency]
    yanked_at: datetime | None
    files: list[FileOut]


class PublishResult(BaseModel):
    status: Literal["created", "unchanged"]
    asset: str
    version: str
    content_digest: str
    warnings: list[str] = Field(default_factory=list)


class AssetDocument(BaseModel):
    """What the search index needs of one asset: its latest non-yanked version and its reuse."""

    slug: str
    kind: str
    title: str
    summary: str
    description: str
    tags: list[str]
    owner: str
    origin_pilot: str
    origin_pilot_name: str
    origin_pilot_problem: str = ""
    lifecycle: str
    successor: str | None
    latest_version: str
    spec: dict[str, Any]
    reuse_count: int
    published_at: datetime
