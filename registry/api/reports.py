"""The reuse and portfolio reports, as JSON or CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal, get_args

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, QueryParameter

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import ReuseReport
from catalog.schemas.portfolio import PortfolioPolicy, PortfolioReport
from catalog.services.portfolio import portfolio_report
from catalog.services.reports import reuse_report
from registry.reporting import PORTFOLIO_SECTIONS, SECTIONS, to_csv

__all__ = ["ReportController", "parse_instant"]

Section = Literal[
    "summary",
    "adoptions_per_month",
    "by_kind",
    "by_asset",
    "by_origin_pilot",
    "by_team",
    "stale",
    "at_risk",
    "demand",
    "unhelpful_picks",
]
PortfolioSection = Literal[
    "summary", "funnel", "waiting", "metric_movement", "extraction_backlog", "killed", "compounding"
]
assert set(SECTIONS) == set(get_args(Section))  # one list of sections
assert set(PORTFOLIO_SECTIONS) == set(get_args(PortfolioSection))


def parse_instant(value: str | None, name: str) -> datetime | None:
    """A date (`2026-01-01`, midnight UTC) or an ISO datetime; naive times are UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value) if "T" in value or " " in value else None
        if parsed is None:
            day = date.fromisoformat(value)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError as err:
        raise InvalidInput(
            f"`{name}` is not a date",
            [FieldProblem(f"/query/{name}", f"{value!r} is not a date", "use YYYY-MM-DD or an ISO 8601 datetime")],
        ) from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @get(
        "/reuse",
        summary="The reuse report for a period: JSON, or CSV with ?format=csv or Accept: text/csv",
        responses={200: ResponseSpec(ReuseReport, description="JSON; CSV when asked (sectioned, see docs/metrics.md)")},
    )
    async def reuse(
        self,
        request: Request,  # type: ignore[type-arg]
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        top: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        format: FromQuery[Literal["json", "csv"] | None] = None,
        section: FromQuery[Section | None] = None,
    ) -> Response[ReuseReport] | Response[str]:
        report = await reuse_report(parse_instant(since, "since"), parse_instant(until, "until"), top=top)
        wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
        if wants_csv:
            name = f"reuse-report-{report.period.since:%Y%m%d}-{report.period.until:%Y%m%d}.csv"
            return Response(
                to_csv(report, section),
                media_type="text/csv",  # Litestar adds "; charset=utf-8"
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(report)

    @get(
        "/portfolio",
        summary="The pilot portfolio for a period: gate funnel, time to decision, stalled and circling pilots with "
        "the value at stake, metric movement, extraction backlog; JSON, or CSV with ?format=csv",
        responses={200: ResponseSpec(PortfolioReport, description="JSON; CSV when asked (see docs/metrics.md)")},
    )
    async def portfolio(
        self,
        request: Request,  # type: ignore[type-arg]
        policy: NamedDependency[PortfolioPolicy],
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        format: FromQuery[Literal["json", "csv"] | None] = None,
        section: FromQuery[PortfolioSection | None] = None,
    ) -> Response[PortfolioReport] | Response[str]:
        report = await portfolio_report(parse_instant(since, "since"), parse_instant(until, "until"), policy=policy)
        if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
            name = f"portfolio-report-{report.period.since:%Y%m%d}-{report.period.until:%Y%m%d}.csv"
            return Response(
                to_csv(report, section),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(report)
