"""The portfolio report and pilot health on a hand-made history, exact values, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest
from piccolo.engine.postgres import PostgresEngine

from catalog.errors import InvalidInput, PermissionDenied
from catalog.piccolo_migrations.catalog_2026_12_02t10_26_38_000000 import backfill_statements
from catalog.schemas import SYSTEM, Actor, PilotRequest
from catalog.schemas.portfolio import DeadlineRequest, PortfolioPolicy
from catalog.seeding import seed_catalog
from catalog.services import deadlines, pilots
from catalog.services.gateflow import gates_of, replay, when
from catalog.services.portfolio import portfolio_report
from catalog.services.portfolio_reads import latest_measure, pilot_rows, state_of
from catalog.tables import GateDecision, Pilot
from registry.settings import SEED_DIR
from tests.factories import at, gate_on, pilot_on, pilot_request, portfolio_scenario

pytestmark = pytest.mark.anyio
SINCE, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
TEAM = Actor(name="ci", team="claims-ai", scopes=frozenset({"pilots"}))


async def test_the_report_on_a_hand_made_history(db: object) -> None:
    await portfolio_scenario()
    report = await portfolio_report(SINCE, UNTIL)
    assert report.as_of == UNTIL
    funnel = [(g.stage, g.entered, g.commit, g.iterate, g.kill, g.conversion_rate, g.kill_rate,
               g.median_days_to_decision, g.p90_days_to_decision) for g in report.funnel]  # fmt: skip
    assert funnel == [
        (1, 4, 3, 0, 0, 1.0, 0.0, 10.0, 20.0),
        (2, 3, 0, 3, 1, 0.0, 1.0, 30.0, 30.0),
        (3, 0, 1, 0, 0, 1.0, 0.0, 30.0, 30.0),
        (4, 1, 1, 0, 0, 1.0, 0.0, 30.0, 30.0),
    ]
    s = report.summary
    assert (s.active, s.graduated, s.killed, s.on_track, s.stalled, s.circling) == (3, 1, 1, 1, 2, 1)
    assert (s.graduations, s.median_days_to_graduation, s.p90_days_to_graduation) == (1, 140.0, 140.0)
    assert (s.value_at_stake_hours, s.value_at_stake_usd, s.extraction_backlog) == (2332.65, 985.63, 1)
    waiting = [(w.pilot, w.state, w.stage, w.days_at_stage, w.days_past_deadline, w.iterations_at_gate,
                w.value_at_stake) for w in report.waiting]  # fmt: skip
    assert waiting == [("alpha", "stalled", 2, 131, 71, 0, 2332.65), ("bravo", "circling", 2, 110, 50, 3, 985.63)]
    moved = {m.pilot: (m.latest, m.measured_at_gate, m.gap_closed) for m in report.metric_movement}
    assert moved["delta"] == (11.0, 4, 0.9) and moved["bravo"] == (None, None, None)
    assert moved["alpha"] == (None, None, None) and "echo" in moved
    assert [(b.pilot, b.days_since_graduation) for b in report.extraction_backlog] == [("delta", 103)]
    assert [(c.pilot, c.assets_available, c.adoptions) for c in report.compounding] == [("delta", 0, 0)]
    assert (report.waiting_total, report.metric_movement_total, report.compounding_total) == (2, 5, 1)
    assert [(k.pilot, k.stage, k.killed_at) for k in report.killed] == [("charlie", 2, at("2026-02-19"))]
    assert gc.isenabled()  # the collector paused for the pass is running again


async def test_health_follows_the_same_rules_and_own_deadlines(db: object) -> None:
    await portfolio_scenario()
    page = await pilots.list_pilots(health="circling")
    assert [p.slug for p in page.items] == ["bravo"]
    stalled = await pilots.list_pilots(health="stalled", limit=1)
    assert stalled.total == 3 and len(stalled.items) == 1  # as of now: alpha, bravo and echo; paged after filtering
    alpha = await pilots.get_pilot("alpha")
    assert alpha.health is not None and alpha.health.state == "stalled" and alpha.health.deadline_days == 60
    owner = Actor(name="ci", team="claims-ai", scopes=frozenset({"pilots"}))
    reason = "The vendor contract for call recordings is signed only in June."
    moved = await deadlines.set_deadline("alpha", 2, DeadlineRequest(days=400, reason=reason), owner)
    assert moved.health is not None and moved.health.state == "on_track"
    assert (moved.health.deadline_days, moved.health.deadline_reason) == (400, reason)
    report = await portfolio_report(SINCE, UNTIL, policy=PortfolioPolicy(deadlines={1: 30, 2: 200, 3: 60, 4: 90}))
    assert [w.pilot for w in report.waiting] == ["bravo"]  # circling, whatever the deadline
    other = Actor(name="ci", team="kyc-ai", scopes=frozenset({"pilots"}))
    with pytest.raises(PermissionDenied):
        await deadlines.set_deadline("alpha", 2, DeadlineRequest(days=10, reason=reason), other)


async def test_back_dating_is_for_admins_and_keeps_the_order(db: object) -> None:
    await pilot_on("alpha", "2026-01-01")
    body = PilotRequest.model_validate(pilot_request("bravo", "claims-ai", created_at="2026-01-01T00:00:00Z"))
    with pytest.raises(PermissionDenied, match="needs an admin token"):
        await pilots.create_pilot(body, TEAM)
    with pytest.raises(InvalidInput, match="is in the future"):
        await pilots.create_pilot(PilotRequest.model_validate(pilot_request("bravo", created_at="2099-01-01")), SYSTEM)
    with pytest.raises(InvalidInput, match="before the pilot's previous event") as err:
        await gate_on("alpha", 1, "commit", "2025-12-31")
    assert err.value.problems[0].pointer == "/decided_at"
    await gate_on("alpha", 1, "commit", "2026-01-05")
    with pytest.raises(InvalidInput, match="before the pilot's previous event"):
        await gate_on("alpha", 2, "iterate", "2026-01-04")
    assert (await pilots.list_pilots(status="active")).total == 1


async def test_the_state_kept_on_writes_is_the_replay_of_the_decisions(db: object) -> None:
    """The state kept on writes (read for the report as of now) equals the replay, the grouping and the backfill."""
    await portfolio_scenario()
    await seed_catalog(SEED_DIR, only_if_empty=False)
    as_of = datetime.now(UTC)
    kept = {r["id"]: dict(r) for r in await pilot_rows(as_of, from_state=True)}
    grouped = {r["id"]: dict(r) for r in await pilot_rows(as_of, from_state=False)}
    assert len(kept) == len(grouped) >= 14
    for pilot_id, row in grouped.items():
        created = when(row["created_at"])
        a, b = state_of(kept[pilot_id], created), state_of(row, created)
        assert (a.status, a.stage, a.entered_at, a.iterations) == (b.status, b.stage, b.entered_at, b.iterations)
        flow = await GateDecision.select().where(GateDecision.pilot == pilot_id).order_by(GateDecision.decided_at)
        replayed = replay(created, gates_of(flow), as_of).decided
        assert [when(g["entered_at"]) for g in flow] == [entered for _, entered in replayed], row["slug"]
        kept_measure, grouped_measure = (
            (m[0], m[1], when(m[2])) if m else None for m in (latest_measure(kept[pilot_id]), latest_measure(row))
        )
        assert kept_measure == grouped_measure, row["slug"]
    # and the migration backfills the same state from the decisions
    kept = {r["id"]: dict(r) for r in await pilot_rows(datetime.now(UTC), from_state=True)}
    entries = {r["id"]: r["entered_at"] for r in await GateDecision.select(GateDecision.id, GateDecision.entered_at)}
    await Pilot.update(
        {
            Pilot.stage_entered_at: None,
            Pilot.gate_iterations: 0,
            Pilot.measured: None,
            Pilot.measured_gate: None,
            Pilot.measured_at: None,
        },
        force=True,
    )
    await GateDecision.update({GateDecision.entered_at: None}, force=True)
    for statement in backfill_statements(isinstance(Pilot._meta.db, PostgresEngine)):
        await Pilot._meta.db.run_ddl(statement)
    assert {r["id"]: dict(r) for r in await pilot_rows(datetime.now(UTC), from_state=True)} == kept
    assert {r["id"]: r["entered_at"] for r in await GateDecision.select(GateDecision.id, GateDecision.entered_at)} == (
        entries
    )
