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
    "BatchItemResult",
    "BatchRequest",
    "BatchResult",
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
    patterns: list[str] = Field(
        default_factory=list, description="task patterns it serves (declared in the manifest, else read from it)"
    )
    risks: list[str] = Field(default_factory=list, description="risks it covers (declared, else read from it)")
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


class BatchRequest(StrictModel):
    model_config = ConfigDict(json_schema_extra=examples({"manifests": [
        {"kind": "monitor", "slug": "redis-down", "version": "1.0.0", "title": "Redis down",
         "summary": "Redis instance is down.", "owner": "claims-ai", "origin_pilot": "claims-triage-assistant",
         "spec": {"signal": "redis_up == 0", "condition": {"op": "==", "threshold": 0, "window": "1m"},
                  "severity": "critical", "format": "prometheus"}},
    ]}))  # fmt: skip

    manifests: list[dict[str, Any]] = Field(min_length=1, max_length=1000)
    """up to 1,000 manifests (the fields of asset.yaml, files inline), published in this order"""


class BatchItemResult(BaseModel):
    index: int = Field(description="the item's position in `manifests`")
    status: Literal["created", "unchanged", "failed"]
    asset: str | None = None
    version: str | None = None
    content_digest: str | None = None
    warnings: list[str] = Field(default_factory=list)
    problem: dict[str, Any] | None = Field(default=None, description="why it failed: a problem details object")


class BatchResult(BaseModel):
    created: int
    unchanged: int
    failed: int
    results: list[BatchItemResult]


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
    patterns: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    reuse_count: int
    published_at: datetime
