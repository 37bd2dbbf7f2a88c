"""The reuse report: how graduated pilots' work compounds. Every figure is defined in docs/metrics.md.

Figures are computed by the database (grouped SQL over indexed columns), so the report stays fast on a
catalog with a million adoptions; Python only shapes the rows. The sections live in `report_sections`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import (
    DemandQuery,
    KindFigures,
    MonthFigures,
    ReportPeriod,
    ReuseReport,
    ReuseSummary,
    StaleAsset,
    UnhelpfulPick,
    utc,
)
from catalog.services.gateflow import when
from catalog.services.journal import now
from catalog.services.report_sections import (
    ASSET_COUNTS,
    AT_RISK,
    DEMAND,
    DOWNSTREAM,
    MONTH,
    NEW_PILOTS,
    ORIGINS,
    PERIOD,
    PERIOD_SUMS,
    STALE,
    STALE_AFTER_DAYS,
    STARTED_WITHIN_DAYS,
    UNHELPFUL,
    at_risk,
    new_pilots,
    origin_pilots,
    sum_by,
    teams,
    top_assets,
)
from catalog.services.report_sql import Row, one_by_one, postgres, query_rows

__all__ = [
    "LIST_LIMIT",
    "MAX_YEARS",
    "STALE_AFTER_DAYS",
    "STARTED_WITHIN_DAYS",
    "default_period",
    "report_period",
    "reuse_report",
]

LIST_LIMIT = 100
MAX_YEARS = 20
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)  # dates a report can take


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _months(since: datetime, until: datetime) -> list[tuple[str, datetime, datetime]]:
    """Each calendar month (UTC) the period touches, as (label, start, end) clipped to the period."""
    out, start = [], since
    while start < until:
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        end = min(datetime(year, month, 1, tzinfo=UTC), until)
        out.append((f"{start.year:04d}-{start.month:02d}", start, end))
        start = end
    return out


def report_period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The period a report covers: the last twelve months by default; never empty, at most `MAX_YEARS`
    (a month is a term of the monthly query, and a report of centuries helps nobody)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= utc(value) <= LATEST:
            raise InvalidInput(
                f"`{name}` is outside the years a report covers",
                [FieldProblem(f"/query/{name}", f"{utc(value):%Y-%m-%d} is not between {EARLIEST:%Y} and {LATEST:%Y}",
                              "give a date of the catalog's life, e.g. 2026-01-01")],
            )  # fmt: skip
    period = default_period(until) if since is None else ReportPeriod(since=since, until=until or now())
    start, end = utc(period.since), utc(period.until)
    if start >= end:
        raise InvalidInput(
            "the period is empty",
            [FieldProblem("/query/since", f"since ({start:%Y-%m-%d}) is not before until ({end:%Y-%m-%d})",
                          "give a `since` earlier than `until`")],
        )  # fmt: skip
    if end - start > timedelta(days=366 * MAX_YEARS):
        raise InvalidInput(
            f"a report covers at most {MAX_YEARS} years",
            [FieldProblem("/query/since", f"{start:%Y-%m-%d} to {end:%Y-%m-%d} is longer than {MAX_YEARS} years",
                          f"give a `since` within {MAX_YEARS} years of `until`")],
        )  # fmt: skip
    return start, end


def default_period(until: datetime | None = None) -> ReportPeriod:
    """The last twelve months up to now."""
    end = until or now()
    return ReportPeriod(since=end - timedelta(days=365), until=end)


async def reuse_report(since: datetime | None = None, until: datetime | None = None, *, top: int = 10) -> ReuseReport:
    """The reuse report for [since, until): summary, breakdowns, stale, at risk and unmet demand."""
    return await _report(since, until, top)


def _unhelpful(row: Row) -> UnhelpfulPick:
    return UnhelpfulPick(
        slug=row["slug"], problem=row["problem"], times=int(row["times"]), last_note=row["last_note"] or "",
        last_marked_at=when(row["last_at"]),
    )  # fmt: skip


async def _report(since: datetime | None, until: datetime | None, top: int) -> ReuseReport:
    since, until = report_period(since, until)
    dialect = "postgres" if postgres() else "sqlite"
    months = _months(since, until)
    month_sql = "\nUNION ALL\n".join(MONTH.format(i=i) for i in range(len(months)))
    month_params = {
        f"{edge}{i}": value for i, m in enumerate(months) for edge, value in (("start", m[1]), ("end", m[2]))
    }
    span = {"since": since, "until": until}
    stale_before = until - timedelta(days=STALE_AFTER_DAYS)
    # Independent reads. On PostgreSQL in two lanes side by side, each on its own pooled connection: the
    # period aggregation (the longest read) alone, the others one after another; it takes about as long as
    # they do together. Nine reads at once ran slower than two lanes on a small server.
    period_sums = (PERIOD_SUMS.replace("__PERIOD__", PERIOD[dialect]), {**span, "nth": top - 1, "top": top})
    others: list[tuple[str, Row]] = [
        (ASSET_COUNTS, span),
        (ORIGINS, {}),
        (STALE, {"until": until, "stale_before": stale_before, "limit": LIST_LIMIT}),
        (DOWNSTREAM, span),
        (month_sql, month_params),
        (NEW_PILOTS[dialect], {**span, "within": timedelta(days=STARTED_WITHIN_DAYS)}),
        (AT_RISK, {"until": until, "limit": LIST_LIMIT}),
        (DEMAND, {**span, "top": top}),
        (UNHELPFUL, {**span, "top": top}),
    ]
    if postgres():
        sums, rest = await asyncio.gather(query_rows(*period_sums), one_by_one(others))
    else:
        sums, rest = await query_rows(*period_sums), await one_by_one(others)
    counts, origins, stale, downstream_rows, month_rows, new_pilot_rows, at_risk_rows, demand, unhelpful = rest
    adopters = [r for r in sums if r["section"] == "adopters"]
    by_origin, by_kind_sums, by_owner = sum_by(counts, [r for r in sums if r["section"] == "group"])
    candidates = [r for r in sums if r["section"] == "top"]

    by_kind = [
        KindFigures(
            kind=kind, assets_available=f.available, assets_published=f.published, assets_reused=f.reused,
            reuse_rate=_rate(f.reused, f.available), adoptions=f.adoptions, hours_saved=f.hours,
        )
        for kind, f in sorted(by_kind_sums.items())
    ]  # fmt: skip
    created, started = new_pilots(new_pilot_rows)
    available = sum(k.assets_available for k in by_kind)
    reused = sum(k.assets_reused for k in by_kind)
    summary = ReuseSummary(
        assets_available=available,
        assets_published=sum(k.assets_published for k in by_kind),
        assets_reused=reused,
        reuse_rate=_rate(reused, available),
        adoptions=sum(int(r["adoptions"]) for r in adopters),
        adopting_pilots=sum(int(r["pilots"]) for r in adopters),
        hours_saved=round(sum(float(r["hours"] or 0) for r in adopters), 2),
        pilots_created=created,
        started_with_catalog=started,
        started_with_catalog_share=_rate(started, created),
    )
    return ReuseReport(
        period=ReportPeriod(since=since, until=until),
        summary=summary,
        adoptions_per_month=[
            MonthFigures(month=label, adoptions=int(row["adoptions"]), hours_saved=float(row["hours"] or 0))
            for (label, _, _), row in zip(months, month_rows, strict=True)
        ],
        by_kind=by_kind,
        by_asset=await top_assets(candidates, top, span),
        by_origin_pilot=origin_pilots(
            by_origin, origins, {int(r["origin"]): int(r["pilots"]) for r in downstream_rows}
        ),
        by_team=teams(by_owner, adopters),
        stale=[
            StaleAsset(
                slug=r["slug"],
                kind=r["kind"],
                title=r["title"],
                owner=r["owner"],
                origin_pilot=r["origin"],
                lifecycle=r["lifecycle"],
                first_published_at=when(r["created_at"]),
                days_since_published=(until - when(r["created_at"])).days,
            )
            for r in stale
        ],
        stale_total=int(stale[0]["total"]) if stale else 0,
        at_risk=[at_risk(r) for r in at_risk_rows],
        at_risk_total=int(at_risk_rows[0]["total"]) if at_risk_rows else 0,
        demand=[
            DemandQuery(query=r["normalized"], searches=int(r["searches"]), last_searched_at=when(r["last_at"]))
            for r in demand
        ],
        unhelpful_picks=[_unhelpful(r) for r in unhelpful],
    )
