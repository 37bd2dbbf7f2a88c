"""History over HTTP: the journal (paging, filters, who sees what), label time travel, diffs, live warnings."""

from __future__ import annotations

import asyncio
from typing import Any

from catalog.seeding import seed_catalog
from registry.settings import SEED_DIR
from tests.conftest import Api
from tests.helpers import assert_problem


def seeded(api: Api) -> None:
    asyncio.run(seed_catalog(SEED_DIR))


def pages(api: Api, params: dict[str, Any], between: Any = None, who: str | None = None) -> list[dict[str, Any]]:
    """Every entry, page by page; `between` runs after each page (writes that race the paging)."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/journal", params=query, headers=api.auth(who) if who else {}).json()
        seen.extend(page["items"])
        if between:
            between()
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def _journal_paging_under_concurrent_writes_returns_every_entry_once(api: Api) -> None:
    before = pages(api, {"limit": 500})
    assert len(before) > 60 and len({e["id"] for e in before}) == len(before)
    assert [e["at"] for e in before] == sorted((e["at"] for e in before), reverse=True)  # newest first
    moved = iter(["1.0.0", "1.1.0"] * 20)

    def write() -> None:  # a label move between every two pages, by the owning team's token
        body = {"version": next(moved), "reason": "race"}
        response = api.client.put(
            "/api/v1/assets/claims-triage-prompt/labels/canary", json=body, headers=api.auth("admin")
        )
        assert response.status_code == 200, response.text

    during = pages(api, {"limit": 7}, between=write)
    ids = [e["id"] for e in during]
    assert len(ids) == len(set(ids))  # never twice
    assert {e["id"] for e in before} <= set(ids)  # and everything that was there when paging started


def _journal_filters_and_read_rules(api: Api) -> None:
    asset = pages(api, {"asset": "claims-triage-prompt", "limit": 100})
    assert asset and all(e["asset"] == "claims-triage-prompt" for e in asset)
    assert {"asset.publish", "label.move", "adoption.record"} <= {e["action"] for e in asset}
    assert pages(api, {"subject": "asset:claims-triage-prompt", "limit": 100}) == asset
    pilot = pages(api, {"pilot": "motor-fnol-intake", "limit": 100})
    assert {"pilot.create", "pilot.gate", "adoption.record"} <= {e["action"] for e in pilot}
    adopted = next(e for e in pilot if e["action"] == "adoption.record")
    one = pages(api, {"subject": f"adoption:{adopted['detail']['adoption']}"})
    assert [e["id"] for e in one] == [adopted["id"]]
    labels = pages(api, {"action": "label", "team": "claims-ai"})
    assert labels and all(e["action"].startswith("label.") and e["team"] == "claims-ai" for e in labels)
    gates = pages(api, {"action": ["pilot.gate", "asset.deprecate"]})
    assert {e["action"] for e in gates} == {"pilot.gate", "asset.deprecate"}
    windowed = pages(api, {"since": "2026-03-01", "until": "2026-04-01"})
    assert windowed and all("2026-03-01" <= e["at"] < "2026-04-01" for e in windowed)
    assert all(e["actor"].startswith("platform/") for e in pages(api, {"actor": "platform", "limit": 200}))
    # token events are the admin's only
    assert not [e for e in pages(api, {"limit": 500}) if e["action"].startswith("token.")]
    assert not [e for e in pages(api, {"limit": 500}, who="claims") if e["action"].startswith("token.")]
    assert [e for e in pages(api, {"limit": 500}, who="admin") if e["action"].startswith("token.")]


def test_journal_bad_parameters_are_problems(api: Api) -> None:
    for params, pointer in [
        ({"cursor": "abc"}, "/query/cursor"),
        ({"cursor": "1-99999999999"}, "/query/cursor"),
        ({"subject": "asset"}, "/query/subject"),
        ({"subject": "planet:mars"}, "/query/subject"),
        ({"subject": "adoption:x"}, "/query/subject"),
        ({"action": "DROP TABLE"}, "/query/action"),
        ({"actor": "x"}, "/query/actor"),
        ({"since": "yesterday"}, "/query/since"),
        ({"limit": "0"}, "/query/limit"),
        ({"asset": "Not A Slug"}, "/query/asset"),
    ]:
        body = assert_problem(api.client.get("/api/v1/journal", params=params), 422)
        assert pointer in {e.get("pointer") for e in body.get("errors", [])} or pointer in body["detail"], (
            params,
            body,
        )


def _label_time_travel_and_history_over_http(api: Api) -> None:
    url = "/api/v1/assets/claims-triage-prompt/labels/production"
    start = api.client.get(url).json()
    assert start["version"] == "1.1.0"
    first = api.client.put(url, json={"version": "1.0.0", "reason": "roll back"}, headers=api.auth("admin"))
    assert first.status_code == 200
    middle_at = api.client.get(url).json()["moved_at"]
    api.client.put(url, json={"version": "1.1.0", "reason": "fixed"}, headers=api.auth("admin"))
    assert api.client.get(url, params={"at": middle_at}).json()["version"] == "1.0.0"
    assert api.client.get(url).json() | {"moved_at": None} == api.client.get(url).json() | {"moved_at": None}
    moves = api.client.get(f"{url}/history").json()
    assert [(m["from_version"], m["to_version"], m["reason"]) for m in moves[-2:]] == [
        ("1.1.0", "1.0.0", "roll back"),
        ("1.0.0", "1.1.0", "fixed"),
    ]
    assert_problem(api.client.get(url, params={"at": "2000-01-01"}), 404, "label-not-set")
    assert_problem(api.client.get(url, params={"at": "soon"}), 422)
    assert_problem(api.client.get("/api/v1/assets/claims-triage-prompt/labels/nope"), 404, "label-not-found")
    assert_problem(api.client.get("/api/v1/assets/ghost-asset/labels/production/history"), 404, "asset-not-found")
    removed = api.client.delete(url, params={"reason": "sunset"}, headers=api.auth("admin"))
    assert removed.status_code == 200
    assert api.client.get(f"{url}/history").json()[-1] | {"moved_at": None, "journal_id": None} == {
        "label": "production", "action": "remove", "from_version": "1.1.0", "to_version": None,
        "moved_by": "platform/admin", "moved_at": None, "reason": "sunset", "journal_id": None,
    }  # fmt: skip


def _diff_over_http(api: Api) -> None:
    url = "/api/v1/assets/claims-triage-prompt/diff"
    diff = api.client.get(url, params={"from": "1.0.0", "to": "1.1.0"}).json()
    assert diff["variables_added"] == ["policy_notes"] and diff["breaking"]
    assert_problem(api.client.get(url, params={"from": "1.0.0", "to": "9.9.9"}), 404, "version-not-found")
    assert_problem(api.client.get(url, params={"from": "1.0.0"}), 422)
    assert_problem(api.client.get("/api/v1/assets/ghost-asset/diff", params={"from": "1", "to": "2"}), 404)


def _adoption_reads_warn_about_what_happened_since(api: Api) -> None:
    at_risk = api.client.get("/api/v1/adoptions", params={"asset": "kyc-entity-extraction-prompt"}).json()["items"]
    on_yanked = [a for a in at_risk if a["version"] == "1.1.0" and a["active"]]
    assert on_yanked and all(any("was yanked" in w for w in a["warnings"]) for a in on_yanked)
    body = {"asset": "claims-triage-prompt", "version": "1.0.0", "pilot": "motor-fnol-intake"}
    recorded = api.client.post("/api/v1/adoptions", json=body, headers=api.auth("admin"))
    assert recorded.status_code == 201, recorded.text
    assert any("1.1.0 is available" in w for w in recorded.json()["warnings"])
    yank = api.client.post(
        "/api/v1/assets/claims-triage-prompt/versions/1.0.0/yank", json={"reason": "wrong urgency rules"},
        headers=api.auth("admin"),
    )  # fmt: skip
    assert yank.status_code == 200
    read = api.client.get(f"/api/v1/adoptions/{recorded.json()['id']}").json()
    assert any("was yanked" in w and "wrong urgency rules" in w for w in read["warnings"])


def test_the_journal_pages_filters_and_hides_what_it_should(api: Api) -> None:
    seeded(api)  # one seeded catalog for both (seeding PostgreSQL is what costs)
    _journal_filters_and_read_rules(api)
    _journal_paging_under_concurrent_writes_returns_every_entry_once(api)


def test_labels_travel_in_time_versions_diff_and_adoptions_warn(api: Api) -> None:
    seeded(api)
    _label_time_travel_and_history_over_http(api)
    _diff_over_http(api)
    _adoption_reads_warn_about_what_happened_since(api)
