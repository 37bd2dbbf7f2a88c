"""Search and the starter kit."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.enums import MediaType
from litestar.params import FromQuery, QueryParameter

from catalog.schemas import Kind
from search.interfaces import SearchAnswer, SearchQuery, SearchResult, Sort
from search.starter_kit import StarterKit, starter_kit

__all__ = ["SearchController", "provide_search_query"]


def provide_search_query(
    q: Annotated[str, QueryParameter(max_length=500)] = "",
    kind: FromQuery[Kind | None] = None,
    tag: FromQuery[list[str] | None] = None,
    owner: FromQuery[str | None] = None,
    origin_pilot: FromQuery[str | None] = None,
    lifecycle: FromQuery[Literal["active", "deprecated"] | None] = None,
    sort: FromQuery[Sort] = "relevance",
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    offset: Annotated[int, QueryParameter(ge=0, le=10_000)] = 0,
) -> SearchQuery:
    """The search query of the request's parameters; the API and the search page read the same ones."""
    return SearchQuery(
        q=q, kind=kind, tags=tag or [], owner=owner, origin_pilot=origin_pilot, lifecycle=lifecycle,
        sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


class SearchController(Controller):
    path = "/api/v1"
    tags = ["search"]

    @get(
        "/search",
        summary="Search assets: typo-tolerant, as-you-type, with facets and filters",
        dependencies={"search_query": Provide(provide_search_query, sync_to_thread=False)},
    )
    async def search(
        self,
        request: Request,  # type: ignore[type-arg]
        search_query: NamedDependency[SearchQuery],
    ) -> Response[SearchResult]:
        answer: SearchAnswer = await request.app.state.search.search_json(search_query)
        request.app.state.search_log.add(search_query, answer.total, answer.took_ms, source="api")
        # JSON from the backend (kept as such in its cache): the generic path (to dicts, then to JSON) took a
        # sixth of a search's time in the worker's event loop. The annotation documents the body's schema.
        return Response(cast(SearchResult, answer.body), media_type=MediaType.JSON)

    @get("/starter-kit", summary="The best few assets of each kind for a new pilot's problem statement")
    async def starter_kit(
        self,
        request: Request,  # type: ignore[type-arg]
        problem: Annotated[str, QueryParameter(min_length=3, max_length=2000)],
        per_kind: Annotated[int, QueryParameter(ge=1, le=10)] = 3,
    ) -> StarterKit:
        kit = await starter_kit(request.app.state.search, problem, per_kind=per_kind)
        found = sum(len(s.assets) for s in kit.sections)
        request.app.state.search_log.add(SearchQuery(q=problem[:500]), found, 0.0, source="starter-kit")
        return kit
