"""`registry report reuse|portfolio`: the reports as terminal tables, JSON or CSV (the same rows as the API's)."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import BaseModel
from rich.table import Table

from catalog.schemas import ReuseReport
from catalog.schemas.portfolio import PortfolioReport
from registry.cli.client import RegistryClient
from registry.cli.common import wide
from registry.reporting import report_tables
from registry.settings import Settings

__all__ = ["report"]

_PERIOD = [
    click.option("--since", help="start of the period, YYYY-MM-DD (default: a year before --until)"),
    click.option("--until", help="end of the period, exclusive, YYYY-MM-DD (default: now)"),
    click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True),
]


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return str(value)


def _fetch(settings: Settings, path: str, params: dict[str, Any], fmt: str, model: type[BaseModel]) -> None:
    """CSV and JSON exactly as the API sends them; tables from the same rows the CSV holds."""
    params = {k: v for k, v in params.items() if v is not None}
    with RegistryClient(settings) as client:
        if fmt == "csv":
            click.echo(client.request("GET", path, params={**params, "format": "csv"}).text, nl=False)
            return
        body = client.json("GET", path, params=params)
    if fmt == "json":
        click.echo(json.dumps(body, indent=2))
        return
    console = wide()  # piped: don't squeeze the columns
    for name, (headers, rows) in report_tables(model.model_validate(body)).items():  # type: ignore[arg-type]
        table = Table(title=name.replace("_", " "), title_justify="left", title_style="bold")
        for header in headers:  # a narrow terminal folds a long slug onto the next line, never cuts it
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*[_show(v) for v in row])
        if not rows:
            table.add_row(*["-" for _ in headers])
        console.print(table)


@click.group()
def report() -> None:
    """Reports (client commands over HTTP)."""


@report.command("reuse")
@_PERIOD[0]
@_PERIOD[1]
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="rows in top lists")
@_PERIOD[2]
@click.pass_obj
def report_reuse(settings: Settings, since: str | None, until: str | None, top: int, fmt: str) -> None:
    """The reuse report: what compounds, what it saved, what is stale, at risk, or missing."""
    _fetch(settings, "/api/v1/reports/reuse", {"since": since, "until": until, "top": top}, fmt, ReuseReport)


@report.command("portfolio")
@_PERIOD[0]
@_PERIOD[1]
@_PERIOD[2]
@click.pass_obj
def report_portfolio(settings: Settings, since: str | None, until: str | None, fmt: str) -> None:
    """The pilot portfolio: gate funnel, time to decision, stalled and circling pilots and what waiting costs,
    metric movement, the extraction backlog, and how far graduated pilots compounded."""
    _fetch(settings, "/api/v1/reports/portfolio", {"since": since, "until": until}, fmt, PortfolioReport)
