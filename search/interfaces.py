"""The contract every search backend implements. The index is derived data, rebuilt from the catalog."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from catalog.schemas import AssetDocument, Kind

__all__ = [
    "FACETS",
    "QUERY_LIMIT",
    "IndexState",
    "SearchAnswer",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "Sort",
    "elapsed_ms",
]

Sort = Literal["relevance", "reuse", "newest"]
FACETS = ("kind", "tags", "owner", "origin_pilot", "lifecycle", "patterns", "risks")
QUERY_LIMIT = 500  # characters of free text; also the search log's column


class SearchQuery(BaseModel):
    """What a user asks: free text (typo-tolerant, the last word as a prefix), exact filters, sort, page."""

    q: str = Field(default="", max_length=QUERY_LIMIT)
    kind: Kind | None = None
    tags: list[str] = Field(default_factory=list, description="all must be present")
    patterns: list[str] = Field(default_factory=list, description="task patterns, all must be served")
    risks: list[str] = Field(default_factory=list, description="risks, all must be covered")
    owner: str | None = None
    origin_pilot: str | None = None
    lifecycle: Literal["active", "deprecated"] | None = None
    sort: Sort = "relevance"
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)

    def filters(self) -> dict[str, object]:
        """The filters that were set, as logged and echoed back."""
        values = {
            "kind": self.kind,
            "tags": self.tags or None,
            "patterns": self.patterns or None,
            "risks": self.risks or None,
            "owner": self.owner,
            "origin_pilot": self.origin_pilot,
            "lifecycle": self.lifecycle,
        }
        return {k: v for k, v in values.items() if v}


class SearchHit(BaseModel):
    slug: str
    kind: str
    title: str
    summary: str
    tags: list[str]
    patterns: list[str] = Field(default_factory=list, description="the task patterns it serves")
    risks: list[str] = Field(default_factory=list, description="the risks it covers")
    owner: str
    origin_pilot: str
    latest_version: str
    reuse_count: int
    lifecycle: str
    successor: str | None = None
    published_at: datetime
    highlights: dict[str, str] = Field(
        default_factory=dict, description="title, summary and a description snippet with matches in <mark>"
    )


class SearchResult(BaseModel):
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(
        description="counts per value of kind, tags, owner, origin_pilot, lifecycle, patterns, risks"
    )
    took_ms: float


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a `time.perf_counter()`), as a result's `took_ms` says them."""
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass(frozen=True)
class SearchAnswer:
    """A search's result as the API sends it, JSON, with what the search log records of it."""

    body: bytes
    total: int
    took_ms: float

    @classmethod
    def of(cls, result: SearchResult) -> SearchAnswer:
        return cls(result.model_dump_json().encode(), result.total, result.took_ms)


@dataclass(frozen=True)
class IndexState:
    """The identity an index carries: which full build it comes from, and the newest change applied to it
    (an outbox id). Checked against the catalog, it tells a live index from a lost, replaced or stale one."""

    generation: str
    applied_through: int
    documents: str = ""  # the DOCUMENT_FORMAT it was built with ("": before formats were recorded)


class SearchBackend(Protocol):
    """A search index of assets. Writes come from the outbox worker; nothing lives only in the index."""

    name: str

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run a query (raises SearchUnavailable when the backend cannot answer)."""

    async def search_json(self, query: SearchQuery) -> SearchAnswer:
        """Run a query for the API: its result as JSON (a backend that keeps results as JSON answers repeats
        without decoding and encoding them again)."""

    async def upsert(self, documents: Sequence[AssetDocument]) -> None:
        """Add or replace these assets' documents."""

    async def delete(self, slugs: Sequence[str]) -> None:
        """Remove these assets from the index (absent ones are ignored)."""

    async def rebuild(self, batches: AsyncIterator[list[AssetDocument]], state: IndexState) -> int:
        """Build a fresh index from all documents carrying `state`, swap it in, and return how many it holds."""

    async def state(self) -> IndexState | None:
        """The live index's identity, read afresh (None: the index has none: new, replaced or foreign).

        Raises SearchUnavailable when the index cannot be read."""

    async def mark_applied(self, through: int) -> None:
        """Record that changes up to outbox id `through` are in the index (the generation stays)."""

    async def health(self) -> str | None:
        """None when the index answers, else why it does not."""

    async def document_count(self) -> int:
        """How many assets the live index holds."""

    async def close(self) -> None:
        """Release files, writers and connections."""
