"""The Meilisearch backend (production): the official client, its blocking calls kept off the event loop.

Index settings mirror the embedded backend's ranking: words, typos, proximity, attribute weights,
exactness, then lifecycle, reuse and freshness as tie-breakers; synonyms and stop words from the same
lists. Every write returns a task that is awaited; failures are wrapped in our own errors.
"""

from __future__ import annotations

import html
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from catalog.schemas import AssetDocument
from search.analysis import LAST_WORDS, STOPWORDS
from search.documents import index_fields
from search.errors import SearchError, SearchUnavailable
from search.interfaces import FACETS, IndexState, SearchAnswer, SearchHit, SearchQuery, SearchResult, elapsed_ms
from search.synonyms import SYNONYM_GROUPS

__all__ = ["MeilisearchBackend", "filter_expression", "index_settings", "quote"]

T = TypeVar("T")
PRE, POST = "\x02", "\x03"  # highlight markers no document contains; replaced by <mark> after escaping


def quote(value: str) -> str:
    """A filter value as a Meilisearch string literal: user text can never close the quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(query: SearchQuery) -> list[str]:
    """The AND-ed filter clauses of a query, every value quoted."""
    clauses = []
    for field in ("kind", "owner", "origin_pilot", "lifecycle"):
        value = getattr(query, field)
        if value:
            clauses.append(f"{field} = {quote(value)}")
    clauses += [f"tags = {quote(tag.lower())}" for tag in query.tags]
    clauses += [f"patterns = {quote(p)}" for p in query.patterns] + [f"risks = {quote(r)}" for r in query.risks]
    return clauses


def _synonyms() -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for group in SYNONYM_GROUPS:
        for term in group:
            mapping.setdefault(term, [])
            mapping[term] += [t for t in group if t != term and t not in mapping[term]]
    return mapping


def index_settings() -> dict[str, Any]:
    """The whole settings object of the assets index (applied on start and to every fresh index)."""
    return {
        "searchableAttributes": [
            "title", "tags", "slug", "summary", "origin_pilot_name", "owner", "description", "spec_text",
            "roles_text", "origin_pilot_problem",
        ],
        "filterableAttributes": list(FACETS),
        "sortableAttributes": ["reuse_count", "published_at"],
        "rankingRules": [
            "words", "typo", "proximity", "attribute", "sort", "exactness",
            "lifecycle_rank:desc", "reuse_count:desc", "published_at:desc",
        ],
        "synonyms": _synonyms(),
        "stopWords": sorted(STOPWORDS),
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "faceting": {"maxValuesPerFacet": 100},
        "pagination": {"maxTotalHits": 10_000},
    }  # fmt: skip


def _document(doc: AssetDocument) -> dict[str, Any]:
    fields = index_fields(doc)
    fields["lifecycle_rank"] = 0 if doc.lifecycle == "deprecated" else 1
    return fields


def _marked(text: str) -> str:
    return html.escape(text).replace(PRE, "<mark>").replace(POST, "</mark>")


class MeilisearchBackend:
    """An index named `index_uid` on a Meilisearch server."""

    name = "meilisearch"

    def __init__(self, url: str, api_key: str | None, *, index_uid: str = "assets", timeout: int = 10) -> None:
        self.url = url
        self.index_uid = index_uid
        self.client = meilisearch.Client(url, api_key, timeout=timeout)
        self._ready = False

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            try:
                return fn(*args, **kwargs)
            except (MeilisearchCommunicationError, MeilisearchTimeoutError) as err:
                raise SearchUnavailable(f"Meilisearch at {self.url} is unreachable: {err}") from err
            except MeilisearchApiError as err:
                if err.code == "index_not_found":
                    raise SearchUnavailable(
                        f"the Meilisearch index {self.index_uid!r} does not exist; run `registry search reindex`"
                    ) from err
                raise SearchError(
                    f"Meilisearch refused the request ({err.code or err.status_code}): {err.message}"
                ) from err

        return await anyio.to_thread.run_sync(run)

    async def _wait(self, task: Any, timeout_ms: int = 60_000) -> None:
        done = await self._call(self.client.wait_for_task, task.task_uid, timeout_in_ms=timeout_ms)
        if done.status != "succeeded":
            message = (done.error or {}).get("message", done.status)
            raise SearchError(f"Meilisearch task {task.task_uid} ({done.type}) {done.status}: {message}")

    async def _prepare(self, uid: str) -> None:
        """Create the index if needed and apply the settings (idempotent)."""
        try:
            await self._call(self.client.get_index, uid)
        except SearchUnavailable as err:
            if "does not exist" not in err.detail:
                raise
            await self._wait(await self._call(self.client.create_index, uid, {"primaryKey": "slug"}))
        await self._wait(await self._call(self.client.index(uid).update_settings, index_settings()))

    async def _ensure_ready(self) -> None:
        if not self._ready:
            await self._prepare(self.index_uid)
            self._ready = True

    async def upsert(self, documents: Sequence[AssetDocument]) -> None:
        if not documents:
            return
        await self._ensure_ready()
        index = self.client.index(self.index_uid)
        await self._wait(await self._call(index.add_documents, [_document(d) for d in documents], primary_key="slug"))

    async def delete(self, slugs: Sequence[str]) -> None:
        if not slugs:
            return
        await self._ensure_ready()
        index = self.client.index(self.index_uid)
        await self._wait(await self._call(index.delete_documents, list(slugs)))

    async def rebuild(self, batches: AsyncIterator[list[AssetDocument]], state: IndexState) -> int:
        """Fill a fresh index, then swap it with the live one atomically, drop the old one, record the state."""
        await self._ensure_ready()
        fresh = f"{self.index_uid}_{datetime.now(UTC):%Y%m%d%H%M%S}"
        await self._prepare(fresh)
        count = 0
        async for batch in batches:
            task = await self._call(
                self.client.index(fresh).add_documents, [_document(d) for d in batch], primary_key="slug"
            )
            await self._wait(task, timeout_ms=300_000)
            count += len(batch)
        await self._wait(await self._call(self.client.swap_indexes, [{"indexes": [self.index_uid, fresh]}]))
        await self._wait(await self._call(self.client.delete_index, fresh))
        await self._write_state(state)
        return count

    @property
    def state_uid(self) -> str:
        """A one-document index holding the assets index's identity (Meilisearch has no index metadata)."""
        return f"{self.index_uid}_registry_state"

    async def _write_state(self, state: IndexState) -> None:
        document = {"id": "state", "generation": state.generation, "applied_through": state.applied_through,
                    "documents": state.documents}  # fmt: skip
        task = await self._call(self.client.index(self.state_uid).add_documents, [document], primary_key="id")
        await self._wait(task)

    async def state(self) -> IndexState | None:
        try:
            raw = await self._call(self.client.index(self.state_uid).get_document, "state")
        except SearchUnavailable as err:
            if "does not exist" in err.detail:
                return None
            raise
        except SearchError as err:
            if "document_not_found" in err.detail:
                return None
            raise
        return IndexState(str(raw.generation), int(raw.applied_through), str(getattr(raw, "documents", "") or ""))

    async def mark_applied(self, through: int) -> None:
        current = await self.state()
        if current is not None and through > current.applied_through:
            await self._write_state(IndexState(current.generation, through, current.documents))

    def search_params(self, query: SearchQuery) -> dict[str, Any]:
        """The body of a search request for this query."""
        params: dict[str, Any] = {
            "filter": filter_expression(query),
            "facets": list(FACETS),
            "attributesToHighlight": ["title", "summary", "description"],
            "attributesToCrop": ["description"],
            "cropLength": 30,
            "highlightPreTag": PRE,
            "highlightPostTag": POST,
            "limit": query.limit,
            "offset": query.offset,
            # "last" drops words from the end (as you type); long problem statements drop the commonest first.
            "matchingStrategy": "last" if len(query.q.split()) <= LAST_WORDS else "frequency",
        }
        if query.sort == "reuse":
            params["sort"] = ["reuse_count:desc", "published_at:desc"]
        elif query.sort == "newest":
            params["sort"] = ["published_at:desc"]
        return params

    async def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        await self._ensure_ready()
        index = self.client.index(self.index_uid)
        raw = await self._call(index.search, query.q, self.search_params(query))
        return self.result(raw, query, took_ms=elapsed_ms(started))

    async def search_json(self, query: SearchQuery) -> SearchAnswer:
        return SearchAnswer.of(await self.search(query))

    @staticmethod
    def result(raw: dict[str, Any], query: SearchQuery, *, took_ms: float) -> SearchResult:
        """Map a Meilisearch search response onto our result."""
        hits = []
        for hit in raw.get("hits", []):
            formatted = hit.get("_formatted") or {}
            highlights = {k: _marked(str(formatted.get(k) or hit.get(k) or "")) for k in ("title", "summary")}
            if query.q.strip() and hit.get("description"):
                highlights["description"] = _marked(str(formatted.get("description") or ""))
            hits.append(
                SearchHit(
                    slug=hit["slug"],
                    kind=hit["kind"],
                    title=hit["title"],
                    summary=hit["summary"],
                    tags=hit.get("tags") or [],
                    patterns=hit.get("patterns") or [],
                    risks=hit.get("risks") or [],
                    owner=hit["owner"],
                    origin_pilot=hit["origin_pilot"],
                    latest_version=hit["latest_version"],
                    reuse_count=int(hit.get("reuse_count") or 0),
                    lifecycle=hit["lifecycle"],
                    successor=hit.get("successor"),
                    published_at=datetime.fromtimestamp(int(hit.get("published_at") or 0), UTC),
                    highlights=highlights,
                )
            )
        distribution = raw.get("facetDistribution") or {}
        facets = {name: {str(k): int(v) for k, v in (distribution.get(name) or {}).items()} for name in FACETS}
        total = raw.get("estimatedTotalHits", raw.get("totalHits", len(hits)))
        return SearchResult(total=int(total), hits=hits, facets=facets, took_ms=took_ms)

    async def health(self) -> str | None:
        try:
            await self._call(self.client.health)
            await self._ensure_ready()
        except SearchError as err:
            return err.detail
        return None

    async def document_count(self) -> int:
        await self._ensure_ready()
        stats = await self._call(self.client.index(self.index_uid).get_stats)
        return int(stats.number_of_documents)

    async def close(self) -> None:
        self._ready = False
