"""The portfolio over HTTP and from the CLI: JSON = CSV = CLI, health filters, own deadlines, back-dating rules."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from registry.reporting import parse_csv
from tests.conftest import Api
from tests.factories import gate, pilot_request, portfolio_scenario
from tests.helpers import assert_problem, run

PERIOD = {"since": "2026-01-01", "until": "2026-06-01"}


def test_json_and_csv_agree_on_a_hand_made_history(api: Api) -> None:
    asyncio.run(portfolio_scenario())
    body = api.client.get("/api/v1/reports/portfolio", params=PERIOD).json()
    assert body["summary"]["stalled"] == 2 and body["summary"]["value_at_stake_hours"] == 2332.65
    csv = parse_csv(api.client.get("/api/v1/reports/portfolio", params={**PERIOD, "format": "csv"}).text)
    assert list(csv) == [
        "summary",
        "funnel",
        "waiting",
        "metric_movement",
        "extraction_backlog",
        "killed",
        "compounding",
    ]
    assert [(r["pilot"], r["stage"]) for r in csv["killed"]] == [(k["pilot"], str(k["stage"])) for k in body["killed"]]
    figures = {r["figure"]: r["value"] for r in csv["summary"]}
    assert figures["as_of"] == "2026-06-01T00:00:00+00:00" and figures["deadline_days_gate_2"] == "60"
    for key, value in body["summary"].items():
        assert figures[key] == str(value), key
    assert [r["pilot"] for r in csv["waiting"]] == [w["pilot"] for w in body["waiting"]] == ["alpha", "bravo"]
    assert [float(r["value_at_stake"]) for r in csv["waiting"]] == [w["value_at_stake"] for w in body["waiting"]]
    assert [int(r["commit"]) for r in csv["funnel"]] == [g["commit"] for g in body["funnel"]] == [3, 0, 1, 1]
    one = api.client.get("/api/v1/reports/portfolio", params={**PERIOD, "format": "csv", "section": "waiting"})
    assert one.text.splitlines()[0].startswith("pilot,name,team,state")


def test_pilot_health_filters_and_own_deadlines(api: Api) -> None:
    asyncio.run(portfolio_scenario())
    circling = api.client.get("/api/v1/pilots", params={"health": "circling"}).json()
    assert [p["slug"] for p in circling["items"]] == ["bravo"] and circling["items"][0]["health"]["circling"]
    assert_problem(api.client.get("/api/v1/pilots", params={"health": "stuck"}), 422)
    body = {"days": 400, "reason": "The vendor contract for call recordings is signed only in June."}
    r = api.client.put("/api/v1/pilots/alpha/deadlines/2", json=body, headers=api.auth("claims"))
    assert r.status_code == 200, r.text
    assert r.json()["health"]["deadline_days"] == 400 and r.json()["health"]["state"] == "on_track"
    assert_problem(api.client.put("/api/v1/pilots/alpha/deadlines/2", json=body, headers=api.auth("fraud")), 403)
    short = api.client.put("/api/v1/pilots/alpha/deadlines/2", json={**body, "reason": "later"},
                           headers=api.auth("claims"))  # fmt: skip
    assert_problem(short, 422)
    assert_problem(api.client.put("/api/v1/pilots/alpha/deadlines/5", json=body, headers=api.auth("claims")), 422)
    closed = api.client.put("/api/v1/pilots/charlie/deadlines/2", json=body, headers=api.auth("claims"))
    assert_problem(closed, 409, "pilot-closed")


def test_back_dates_need_an_admin_token(api: Api) -> None:
    body = pilot_request("golf", "claims-ai", created_at="2026-01-01")
    assert_problem(api.client.post("/api/v1/pilots", json=body, headers=api.auth("claims")), 403)
    created = api.client.post("/api/v1/pilots", json=body, headers=api.auth("admin"))
    assert created.status_code == 201 and created.json()["created_at"].startswith("2026-01-01")
    future = gate(1, decided_at="2999-01-01")
    assert_problem(api.client.post("/api/v1/pilots/golf/gates", json=future, headers=api.auth("admin")), 422)


def test_the_cli_prints_what_the_api_answers(live: dict[str, str], tmp_path: Path) -> None:
    run(live, "seed")
    params = ["--since", "2026-01-01", "--until", "2026-12-01"]
    as_json = json.loads(run(live, "report", "portfolio", *params, "--format", "json").stdout)
    as_csv = parse_csv(run(live, "report", "portfolio", *params, "--format", "csv").stdout)
    assert [r["pilot"] for r in as_csv["waiting"]] == [w["pilot"] for w in as_json["waiting"]]
    assert {w["pilot"]: w["state"] for w in as_json["waiting"]}["motor-fnol-intake"] == "circling"
    table = run(live, "report", "portfolio", *params).stdout
    assert "extraction backlog" in table and "invoice-matching-assistant" in table
    pilot_file = tmp_path / "pilot.yaml"
    pilot_file.write_text(
        "slug: old-pilot\nname: A pilot from before the registry\nteam: claims-ai\nbudget_owner: Claims ops lead\n"
        "problem: Claims handlers retype every claim by hand.\ncreated_at: 2025-03-01\n"
        "baseline: {metric: minutes, value: 10, unit: minutes}\ntarget: {metric: minutes, value: 5, unit: minutes}\n"
    )
    run(live, "pilot", "create", str(pilot_file))
    run(live, "pilot", "gate", "old-pilot", "--stage", "1", "--decision", "commit", "--decided-by", "Board",
        "--decided-at", "2025-03-20")  # fmt: skip
    deadline = run(live, "pilot", "deadline", "old-pilot", "--stage", "2", "--days", "900", "--reason",
                   "Waits for the claims platform migration next year.")  # fmt: skip
    assert "gate 2 deadline 900 days; now on_track" in deadline.stdout
    shown = httpx.get(f"{live['REGISTRY_URL']}/api/v1/pilots/old-pilot").json()
    assert shown["created_at"].startswith("2025-03-01") and shown["gates"][0]["decided_at"].startswith("2025-03-20")
