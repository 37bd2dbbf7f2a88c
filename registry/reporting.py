"""The reuse and portfolio reports as tables: the same rows feed the CSV download, the CLI's terminal tables
and the web page.

CSV layout (documented in docs/metrics.md): with a `section`, one plain table; without, every section in
turn as a block: a row holding only `[section name]`, the header row, the data rows, then an empty row.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel

from catalog.schemas import ReuseReport
from catalog.schemas.portfolio import PortfolioReport

__all__ = ["PORTFOLIO_SECTIONS", "SECTIONS", "parse_csv", "report_tables", "sections_of", "to_csv"]

SECTIONS = (
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
)

PORTFOLIO_SECTIONS = ("summary", "funnel", "waiting", "metric_movement", "extraction_backlog", "killed", "compounding")

Table = tuple[list[str], list[list[Any]]]


def sections_of(report: BaseModel) -> tuple[str, ...]:
    """The sections of a report, in the order every output shows them."""
    return PORTFOLIO_SECTIONS if isinstance(report, PortfolioReport) else SECTIONS


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


def report_tables(report: ReuseReport | PortfolioReport) -> dict[str, Table]:
    """Every section of the report as a header and rows, in a fixed order."""
    figures: list[list[Any]] = [["since", report.period.since.isoformat()], ["until", report.period.until.isoformat()]]
    if isinstance(report, PortfolioReport):
        figures.append(["as_of", report.as_of.isoformat()])
        figures += [[f"deadline_days_gate_{k}", v] for k, v in sorted(report.deadlines.items())]
        figures.append(["extraction_days", report.extraction_days])
    tables: dict[str, Table] = {
        "summary": (["figure", "value"], figures + [[k, _cell(v)] for k, v in report.summary.model_dump().items()])
    }
    for name in sections_of(report)[1:]:
        items = getattr(report, name)
        model = type(items[0]) if items else None
        fields = list(model.model_fields) if model else _empty_headers(report, name)
        tables[name] = (fields, [[_cell(getattr(item, f)) for f in fields] for item in items])
    return tables


def _empty_headers(report: BaseModel, name: str) -> list[str]:
    annotation = type(report).model_fields[name].annotation
    item_type = getattr(annotation, "__args__", (None,))[0]
    return list(item_type.model_fields) if item_type is not None else []


def to_csv(report: ReuseReport | PortfolioReport, section: str | None = None) -> str:
    """The report as CSV: one section, or all of them in blocks."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    tables = report_tables(report)
    for name, (headers, rows) in tables.items():
        if section and name != section:
            continue
        if not section:
            writer.writerow([f"[{name}]"])
        writer.writerow(headers)
        writer.writerows(rows)
        if not section:
            writer.writerow([])
    return out.getvalue()


def parse_csv(text: str) -> dict[str, list[dict[str, str]]]:
    """Read the sectioned CSV back into {section: [row dicts]} (what a spreadsheet user or script does)."""
    sections: dict[str, list[dict[str, str]]] = {}
    current: str | None = None
    headers: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current, headers = None, None
        elif current is None and len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            current, headers = row[0][1:-1], None
            sections[current] = []
        elif current is not None and headers is None:
            headers = row
        elif current is not None and headers is not None:
            sections[current].append(dict(zip(headers, row, strict=True)))
    return sections
