"""Search and the starter kit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, cast

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import MediaType
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import Actor, AssetDocument, Kind, KitFeedbackOut, KitFeedbackRequest
from catalog.services.indexing import asset_documents
from catalog.services.kit_feedback import record_feedback
from catalog.vocabulary import INPUTS, PATTERNS, RISKS, Term, known_ids
from search.interfaces import SearchAnswer, SearchQuery, SearchResult, Sort
from search.starter_kit import StarterKit, starter_kit

__all__ = ["SearchController", "Vocabulary", "kit_for", "provide_search_query", "vocabulary_ids"]


class VocabularyTerm(BaseModel):
    id: str
    label: str
    signals: list[str] = Field(description="words and phrases that signal it (`*` ends a stem)")


class Vocabulary(BaseModel):
    patterns: list[VocabularyTerm]
    risks: list[VocabularyTerm]
    inputs: list[VocabularyTerm]


def _terms(terms: tuple[Term, ...]) -> list[VocabularyTerm]:
    return [
        VocabularyTerm(id=t.id, label=t.label, signals=[s for s in t.signals if not s.startswith("!")]) for t in terms
    ]


VOCABULARY = Vocabulary(patterns=_terms(PATTERNS), risks=_terms(RISKS), inputs=_terms(INPUTS))


def vocabulary_ids(values: list[str] | None, param: str) -> list[str] | None:
    """Query values naming task patterns (`param` "pattern") or risks ("risk"), checked against the vocabulary."""
    if values is None:
        return None
    terms, what = (PATTERNS, "task pattern") if param == "pattern" else (RISKS, "risk")
    try:
        return known_ids([v for value in values for v in value.split(",") if v.strip()], terms, what)
    except ValueError as err:
        raise InvalidInput(
            str(err), [FieldProblem(f"/query/{param}", str(err), "GET /api/v1/vocabulary lists the known ones")]
        ) from err


async def kit_for(
    request: Request,  # type: ignore[type-arg]
    problem: str,
    *,
    per_kind: int = 3,
    patterns: list[str] | None = None,
    risks: list[str] | None = None,
    source: str = "starter-kit",
) -> StarterKit:
    """The kit as the API and the page give it; the problem is logged, and each kind with nothing fitting is
    logged as a search without result, so the demand report shows what new pilots needed and did not find."""
    kit = await starter_kit(
        request.app.state.search, problem, per_kind=per_kind, patterns=patterns, risks=risks,
        details=_documents,
    )  # fmt: skip
    log = request.app.state.search_log
    log.add(SearchQuery(q=problem[:500]), sum(len(s.assets) for s in kit.sections), 0.0, source=source)
    for section in kit.sections:
        if not section.assets and section.note and section.note.startswith("nothing fits"):
            log.add(SearchQuery(q=problem[:500], kind=section.kind), 0, 0.0, source=source)  # type: ignore[arg-type]
    return kit


async def _documents(slugs: Sequence[str]) -> list[AssetDocument]:
    return (await asset_documents(slugs))[0]


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
    pattern: FromQuery[list[str] | None] = None,
    risk: FromQuery[list[str] | None] = None,
) -> SearchQuery:
    """The search query of the request's parameters; the API and the search page read the same ones."""
    return SearchQuery(
        q=q, kind=kind, tags=tag or [], owner=owner, origin_pilot=origin_pilot, lifecycle=lifecycle,
        sort=sort, limit=limit, offset=offset, patterns=vocabulary_ids(pattern, "pattern") or [],
        risks=vocabulary_ids(risk, "risk") or [],
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

    @get(
        "/starter-kit",
        summary="The assets of each kind that fit a new pilot's task and risks, and why",
        description="The problem is read into task patterns and risks (`reading`); `pattern` and `risk` (repeatable, "
        "or comma-separated) replace what was read. Each section lists its picks best first, and a `note` when "
        "nothing fits. Sections come best-fitting kind first.",
    )
    async def starter_kit(
        self,
        request: Request,  # type: ignore[type-arg]
        problem: Annotated[str, QueryParameter(min_length=3, max_length=2000)],
        per_kind: Annotated[int, QueryParameter(ge=1, le=10)] = 3,
        pattern: FromQuery[list[str] | None] = None,
        risk: FromQuery[list[str] | None] = None,
    ) -> StarterKit:
        patterns, risks = vocabulary_ids(pattern, "pattern"), vocabulary_ids(risk, "risk")
        return await kit_for(request, problem, per_kind=per_kind, patterns=patterns, risks=risks)

    @post(
        "/starter-kit/feedback",
        opt={"scope": "adopt"},
        status_code=201,
        summary="Mark a starter-kit pick useful or not (the misses are listed in the reuse report's demand section)",
    )
    async def kit_feedback(self, data: JSONBody[KitFeedbackRequest], actor: NamedDependency[Actor]) -> KitFeedbackOut:
        return await record_feedback(data, actor)

    @get("/vocabulary", summary="The task patterns and risks assets carry and problem statements are read into")
    async def vocabulary(self) -> Vocabulary:
        return VOCABULARY
