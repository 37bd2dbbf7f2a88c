"""The reuse report over HTTP: JSON, CSV by parameter or Accept header, and its input errors."""

from __future__ import annotations

import asyncio

from catalog.seeding import seed_catalog
from registry.reporting import parse_csv
from registry.settings import SEED_DIR
from tests.conftest import Api
from tests.helpers import assert_problem


def test_report_on_the_seed_shows_every_section(api: Api) -> None:
    asyncio.run(seed_catalog(SEED_DIR))
    body = api.client.get("/api/v1/reports/reuse", params={"since": "2025-11-25", "until": "2026-11-25"}).json()
    summary = body["summary"]
    assert summary["assets_available"] == 24 and summary["adoptions"] >= 20 and summary["hours_saved"] > 0
    assert 0 < summary["reuse_rate"] <= 1 and summary["started_with_catalog_share"] > 0
    for section in ("by_kind", "by_asset", "by_origin_pilot", "by_team", "stale", "at_risk", "demand"):
        assert body[section], section
    assert {r["reason"] for r in body["at_risk"]} == {"yanked", "deprecated"}
    assert body["demand"][0] == {
        "query": "contract clause extraction",
        "searches": 3,
        "last_searched_at": body["demand"][0]["last_searched_at"],
    }
    pilot = api.client.get("/api/v1/pilots/claims-triage-assistant").json()
    assert pilot["downstream"]["assets_reused"] >= 4 and "motor-fnol-intake" in pilot["downstream"]["adopting_pilots"]


def test_csv_by_parameter_or_accept_header_matches_the_json(api: Api) -> None:
    asyncio.run(seed_catalog(SEED_DIR))
    params = {"since": "2025-11-25", "until": "2026-11-25"}
    body = api.client.get("/api/v1/reports/reuse", params=params).json()
    by_param = api.client.get("/api/v1/reports/reuse", params={**params, "format": "csv"})
    by_header = api.client.get("/api/v1/reports/reuse", params=params, headers={"Accept": "text/csv"})
    assert by_param.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in by_param.headers["content-disposition"]
    assert by_param.text == by_header.text
    sections = parse_csv(by_param.text)
    figures = {r["figure"]: r["value"] for r in sections["summary"]}
    assert int(figures["adoptions"]) == body["summary"]["adoptions"]
    assert float(figures["reuse_rate"]) == body["summary"]["reuse_rate"]
    assert [r["slug"] for r in sections["by_asset"]] == [a["slug"] for a in body["by_asset"]]
    one = api.client.get("/api/v1/reports/reuse", params={**params, "format": "csv", "section": "by_kind"}).text
    assert one.splitlines()[0].startswith("kind,assets_available")


def test_report_input_errors(api: Api) -> None:
    body = assert_problem(api.client.get("/api/v1/reports/reuse", params={"since": "last tuesday"}), 422)
    assert body["errors"][0]["pointer"] == "/query/since"
    assert_problem(api.client.get("/api/v1/reports/reuse", params={"since": "2026-05-01", "until": "2026-01-01"}), 422)
    assert_problem(api.client.get("/api/v1/reports/reuse", params={"format": "xml"}), 422)
    assert_problem(api.client.get("/api/v1/reports/reuse", params={"section": "nope"}), 422)
    assert_problem(api.client.get("/api/v1/reports/reuse", params={"top": 0}), 422)


def test_a_period_of_centuries_is_a_422_not_a_server_error(api: Api) -> None:
    """Each month is a term of the monthly query (SQLite takes 500 at most): a report covers 20 years at most."""
    for path in ("/api/v1/reports/reuse", "/api/v1/reports/portfolio"):
        r = api.client.get(path, params={"since": "1975-01-01", "until": "2100-01-01"})
        problem = assert_problem(r, 422, "invalid-input")
        assert "at most 20 years" in problem["detail"] and problem["errors"][0]["pointer"] == "/query/since"
    assert api.client.get("/reports/reuse", params={"since": "1975-01-01", "until": "2100-01-01"}).status_code == 422
    for params in ({"until": "0001-01-05"}, {"since": "9999-12-01", "until": "9999-12-31"}):  # dates that overflowed
        for path in ("/api/v1/reports/reuse", "/api/v1/reports/portfolio", "/reports/portfolio"):
            assert api.client.get(path, params=params).status_code == 422, (path, params)
    ok = api.client.get("/api/v1/reports/reuse", params={"since": "2010-01-01", "until": "2030-01-01"})
    assert ok.status_code == 200 and len(ok.json()["adoptions_per_month"]) == 240
