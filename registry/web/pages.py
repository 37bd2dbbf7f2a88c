"""Server-rendered pages (Jinja + htmx). Each handler reads through the same services as the API."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import anyio
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from markupsafe import Markup

from catalog.errors import NotFound
from catalog.native.exporting import default_format
from catalog.schemas import template_variables
from catalog.schemas.portfolio import PortfolioPolicy
from catalog.services import adoption, assets, diffs, pilots
from catalog.services.history import label_moves
from catalog.services.pilots import STAGE_NAMES
from catalog.services.portfolio import portfolio_report
from catalog.services.report_sections import STARTED_WITHIN_DAYS
from catalog.services.reports import reuse_report
from registry.api.reports import parse_instant
from registry.api.search import provide_search_query
from registry.web.history_pages import CHANGE_ACTIONS, activity, describe, previous_version
from registry.web.markdown import render_description
from search.errors import SearchError
from search.interfaces import SearchBackend, SearchQuery, SearchResult

__all__ = ["STATIC", "TEMPLATES", "WebController", "marked_template"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
FACET_NAMES = [
    ("kind", "Kind"),
    ("tags", "Tags"),
    ("owner", "Owner"),
    ("origin_pilot", "Origin pilot"),
    ("lifecycle", "Lifecycle"),
    ("patterns", "Task"),
    ("risks", "Risks covered"),
]
LIST_PARAMS = {"tags": "tag", "patterns": "pattern", "risks": "risk"}  # facet -> its repeatable query parameter


def _url(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    pairs = [(k, v) for k, v in merged.items() if v not in (None, "", [], 0)]
    query = urlencode([(k, item) for k, v in pairs for item in (v if isinstance(v, list) else [v])])
    return "/" + (f"?{query}" if query else "")


def _hidden(params: dict[str, Any]) -> list[tuple[str, Any]]:
    """The filters as hidden form fields, so typing a new query keeps them."""
    return [
        (key, value)
        for key, values in params.items()
        if key not in ("q", "sort", "offset")
        for value in (values if isinstance(values, list) else [values])
        if value
    ]


def _toggle(params: dict[str, Any], name: str, value: str) -> str:
    if key := LIST_PARAMS.get(name):
        values = list(params.get(key) or [])
        values = [v for v in values if v != value] if value in values else [*values, value]
        return _url(params, **{key: values, "offset": None})
    return _url(params, **{name: None if params.get(name) == value else value, "offset": None})


_VARIABLE = {
    "mustache": r"\{\{\{?\s*[#^/&]?\s*([A-Za-z_][\w.]*)\s*\}?\}\}",
    "jinja2": r"\{\{\s*([A-Za-z_][\w.]*)[^}]*\}\}|\{%[^%]*%\}",
    "f-string": r"(?<!\{)\{([A-Za-z_]\w*)[^{}]*\}(?!\})",
}
_VARIABLE["handlebars"] = _VARIABLE["mustache"]
_VARIABLE["haystack-v1"] = _VARIABLE["f-string"]


def marked_template(text: str, template_format: str) -> Markup:
    """The template HTML-escaped, its variables marked, so readers see at once what to fill in."""
    pattern = re.compile(_VARIABLE.get(template_format, _VARIABLE["mustache"]))
    out, cursor = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[cursor : m.start()]))
        out.append(f'<mark class="var">{html.escape(m.group(0))}</mark>')
        cursor = m.end()
    out.append(html.escape(text[cursor:]))
    return Markup("".join(out))  # noqa: S704 (every piece is escaped above)


async def _similar(slug: str, backend: SearchBackend) -> list[dict[str, str]]:
    """Assets whose names come close to a mistyped slug (search is typo-tolerant), for "did you mean"."""
    try:
        found = await backend.search(SearchQuery(q=slug.replace("-", " ")[:200], limit=5))
    except (SearchError, ValueError):
        return []
    return [{"slug": h.slug, "title": h.title} for h in found.hits]


def _prompt_view(kind: str, spec: dict[str, Any]) -> tuple[Markup | None, set[str], list[dict[str, Any]]]:
    """A prompt's template marked up, its variables and messages: parsing is CPU work, so it runs in a thread."""
    if kind != "prompt":
        return None, set(), []
    template_format = spec.get("template_format", "mustache")
    template_html, variables = None, set()
    if spec.get("template"):
        template_html = marked_template(spec["template"], template_format)
        variables = template_variables(spec["template"], template_format)
    messages = [{"role": m["role"], "html": marked_template(m["content"], template_format)}
                for m in spec.get("messages") or []]  # fmt: skip
    return template_html, variables, messages


async def _asset_page(slug: str, wanted: str | None, backend: SearchBackend) -> Template:
    """An asset with one of its versions: the latest, or the one asked for."""
    try:
        asset = await assets.get_asset(slug)
        shown = wanted or asset.latest_version or (asset.versions[0].version if asset.versions else None)
        version = await assets.get_version(slug, shown) if shown else None
    except NotFound as err:
        raise NotFoundException(detail=err.detail, extra={"suggestions": await _similar(slug, backend)}) from err
    history = (await adoption.list_adoptions(asset=slug, limit=1000)).items
    by_month = Counter(a.adopted_at.strftime("%Y-%m") for a in history)
    months = sorted(by_month.items())
    spec = version.spec if version else {}
    template_html, variables, messages = await anyio.to_thread.run_sync(_prompt_view, asset.kind, spec)
    order = [v.version for v in reversed(asset.versions)]
    before = previous_version(order, version.version) if version and wanted else None
    changes = await diffs.diff_versions(slug, before, version.version) if before and version else None
    return Template(
        template_name="asset.html",
        context={
            "section": "search",
            "asset": asset,
            "version": version,
            "spec": spec,
            "history": history,
            "months": months,
            "template_html": template_html,
            "messages": messages,
            "variables": sorted(variables),
            "pinned": wanted is not None,
            "native_format": default_format(asset.kind, spec) if version else None,
            "changes": changes,
            "description_html": await render_description(asset.description),
            "activity": await activity(asset=slug),
            "label_moves": await label_moves(slug),  # current and removed labels: one read
            "describe": describe,
            "action_labels": CHANGE_ACTIONS,
        },
    )


class WebController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="search-page", dependencies={"search_query": Provide(provide_search_query, sync_to_thread=False)})
    async def search_page(
        self,
        request: Request,  # type: ignore[type-arg]
        search_query: NamedDependency[SearchQuery],
    ) -> Template:
        query = search_query
        q, kind, tag, offset = query.q, query.kind, query.tags, query.offset
        params: dict[str, Any] = {
            "q": q, "kind": kind, "tag": tag, "owner": query.owner, "origin_pilot": query.origin_pilot,
            "lifecycle": query.lifecycle, "sort": None if query.sort == "relevance" else query.sort,
            "offset": offset or None, "pattern": query.patterns, "risk": query.risks,
        }  # fmt: skip
        backend = request.app.state.search
        search_error = None
        try:
            result = await backend.search(query)
        except SearchError as err:
            result, search_error = SearchResult(total=0, hits=[], facets={}, took_ms=0.0), err.detail
        request.app.state.search_log.add(query, result.total, result.took_ms, source="web")
        if kind and not search_error:  # the kind list keeps every kind with its count: one click switches kinds
            every_kind = await backend.search(query.model_copy(update={"kind": None, "limit": 1, "offset": 0}))
            facets = {**result.facets, "kind": every_kind.facets.get("kind", {})}
            result = result.model_copy(update={"facets": facets})  # results may be cached: never edit them
        other_kinds, suggestions = [], []
        if not result.hits and not search_error and (q or query.filters()):
            wider = await backend.search(SearchQuery(q=q, limit=5))
            other_kinds = [
                (k, n, _url(params, kind=k, tag=[], offset=None))
                for k, n in wider.facets.get("kind", {}).items()
                if k != kind
            ]
            if not wider.hits and q:
                suggestions = (await backend.search(SearchQuery(q=" ".join(q.split()[:1]) + " ", limit=3))).hits
        single = {"kind": kind, "owner": query.owner, "origin_pilot": query.origin_pilot, "lifecycle": query.lifecycle}
        selected = {"tags": tag or [], "patterns": query.patterns, "risks": query.risks,
                    **{name: [value] if value else [] for name, value in single.items()}}  # fmt: skip
        facet_urls = {
            name: {value: _toggle(params, name, value) for value in result.facets.get(name, {})}
            for name, _ in FACET_NAMES
        }
        context = {
            "section": "search", "query": query, "result": result, "search_error": search_error,
            "facet_names": FACET_NAMES, "facet_urls": facet_urls, "selected": selected,
            "active_filters": bool(query.filters()), "clear_url": _url({"q": q, "sort": params["sort"]}),
            "hidden": _hidden(params),
            "prev_url": _url(params, offset=max(offset - query.limit, 0) or None) if offset else None,
            "next_url": _url(params, offset=offset + query.limit) if offset + query.limit < result.total else None,
            "other_kinds": other_kinds, "suggestions": suggestions,
        }  # fmt: skip
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
            # The address bar shows the same canonical, shareable URL a full page load would have.
            return Template(template_name="_results.html", context=context, headers={"HX-Push-Url": _url(params)})
        return Template(template_name="search.html", context=context)

    @get("/assets/{slug:str}", name="asset-page")
    async def asset_page(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        return await _asset_page(slug, None, request.app.state.search)

    @get("/assets/{slug:str}/versions/{version:str}", name="version-page")
    async def version_page(
        self, request: Request[Any, Any, Any], slug: FromPath[str], version: FromPath[str]
    ) -> Template:
        return await _asset_page(slug, version, request.app.state.search)

    @get("/pilots", name="pilots-page")
    async def pilots_page(
        self,
        policy: NamedDependency[PortfolioPolicy],
        status: FromQuery[Literal["active", "graduated", "killed"] | None] = None,
        health: FromQuery[Literal["stalled", "circling", "on_track"] | None] = None,
    ) -> Template:
        page = await pilots.list_pilots(status=status, health=health, limit=500, policy=policy)
        return Template(
            template_name="pilots.html",
            context={"section": "pilots", "pilots": page.items, "status": status, "health": health,
                     "stages": STAGE_NAMES},
        )  # fmt: skip

    @get("/pilots/{slug:str}", name="pilot-page")
    async def pilot_page(self, slug: FromPath[str], policy: NamedDependency[PortfolioPolicy]) -> Template:
        try:
            pilot = await pilots.get_pilot(slug, policy)
        except NotFound as err:
            raise NotFoundException(detail=err.detail) from err
        adopted = (await adoption.list_adoptions(pilot=slug, limit=1000)).items
        # What it started from: adopted within its first days, as the reuse report's "started with the catalog".
        window = pilot.created_at + timedelta(days=STARTED_WITHIN_DAYS)
        started_from = [a for a in pilot.adopted_assets if a.adopted_at < window]
        return Template(
            template_name="pilot.html",
            context={"section": "pilots", "pilot": pilot, "stages": STAGE_NAMES, "activity": await activity(pilot=slug),
                     "warnings": {a.id: a.warnings for a in adopted}, "describe": describe,
                     "action_labels": CHANGE_ACTIONS, "started_from": started_from,
                     "started_within": STARTED_WITHIN_DAYS},
        )  # fmt: skip

    @get("/reports/reuse", name="report-page")
    async def report_page(self, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None) -> Template:
        report = await reuse_report(parse_instant(since, "since"), parse_instant(until, "until"))
        csv_url = "/api/v1/reports/reuse?" + urlencode(
            {"format": "csv", "since": report.period.since.date().isoformat(), "until": report.period.until.isoformat()}
        )
        charts = {
            "months": [(m.month, m.adoptions) for m in report.adoptions_per_month],
            "kinds": [(k.kind.replace("_", " "), k.assets_reused) for k in report.by_kind],
            "assets": [(a.slug, a.adoptions) for a in report.by_asset],
            "origins": [(o.name, o.downstream_pilots) for o in report.by_origin_pilot],
        }
        return Template(
            template_name="report.html",
            context={"section": "report", "report": report, "csv_url": csv_url, "charts": charts},
        )

    @get("/reports/portfolio", name="portfolio-page")
    async def portfolio_page(
        self,
        policy: NamedDependency[PortfolioPolicy],
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
    ) -> Template:
        report = await portfolio_report(parse_instant(since, "since"), parse_instant(until, "until"), policy=policy)
        csv_url = "/api/v1/reports/portfolio?" + urlencode(
            {"format": "csv", "since": report.period.since.date().isoformat(), "until": report.period.until.isoformat()}
        )
        charts = {
            "entered": [(f"{g.stage}. {g.name}", g.entered) for g in report.funnel]
            + [("graduated", report.summary.graduations)],
            "days": [(f"gate {g.stage}", g.median_days_to_decision or 0) for g in report.funnel],
            "stake": [(w.name, w.value_at_stake or 0) for w in report.waiting],
        }
        return Template(
            template_name="portfolio.html",
            context={"section": "portfolio", "report": report, "csv_url": csv_url, "charts": charts},
        )
