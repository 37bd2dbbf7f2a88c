"""Stage gates on SQLite and PostgreSQL: evidence per stage, graduation, kill, history never edited."""

from __future__ import annotations

import pytest

from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.schemas import SYSTEM, Actor, GateRequest, PilotRequest, PilotUpdate
from catalog.services import pilots
from catalog.tables import GateDecision, JournalEntry, Pilot
from tests.factories import gate, graduated_pilot, pilot_request

pytestmark = pytest.mark.anyio


async def test_commit_through_four_gates_graduates(db: object) -> None:
    await graduated_pilot()
    pilot = await pilots.get_pilot("claims-triage-assistant")
    assert (pilot.stage, pilot.status) == (5, "graduated")
    assert pilot.graduated_at is not None
    assert [(g.stage, g.decision) for g in pilot.gates] == [(1, "commit"), (2, "commit"), (3, "commit"), (4, "commit")]
    assert pilot.gates[2].evidence["rollback_plan"].startswith("Feature flag")
    assert await JournalEntry.count().where(JournalEntry.action == "pilot.gate") == 4


async def test_gate_one_needs_the_business_case(db: object) -> None:
    body = pilot_request(baseline=None, target=None, budget_owner=None)
    await pilots.create_pilot(PilotRequest.model_validate(body), SYSTEM)
    with pytest.raises(InvalidInput) as err:
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(1)), SYSTEM)
    assert err.value.code == "missing-evidence"
    assert [p.pointer for p in err.value.problems] == ["/pilot/baseline", "/pilot/target", "/pilot/budget_owner"]
    update = PilotUpdate.model_validate(
        {
            "baseline": {"metric": "minutes per claim", "value": 42, "unit": "min"},
            "target": {"metric": "minutes per claim", "value": 20, "unit": "min"},
            "budget_owner": "COO",
        }
    )
    await pilots.update_pilot("claims-triage-assistant", update, SYSTEM)
    pilot = await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(1)), SYSTEM)
    assert pilot.stage == 2


@pytest.mark.parametrize(
    ("stage", "missing"),
    [
        (2, ["metric", "before", "after", "workflow"]),
        (3, ["slo", "data_lineage", "incident_response", "cost_controls", "rollback_plan"]),
        (4, ["active_users", "usage_frequency", "metric_value"]),
    ],
)
async def test_commit_without_evidence_names_each_missing_item(db: object, stage: int, missing: list[str]) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    for earlier in range(1, stage):
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(earlier)), SYSTEM)
    gates_before = await GateDecision.count()
    with pytest.raises(InvalidInput) as err:
        await pilots.decide_gate(
            "claims-triage-assistant", GateRequest.model_validate(gate(stage, evidence={})), SYSTEM
        )
    assert [p.pointer for p in err.value.problems] == [f"/evidence/{name}" for name in missing]
    for name in missing:
        assert name in err.value.detail
    assert await GateDecision.count() == gates_before
    assert (await pilots.get_pilot("claims-triage-assistant")).stage == stage


async def test_readiness_review_rejects_placeholder_answers(db: object) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    for stage in (1, 2):
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(stage)), SYSTEM)
    evidence = dict(gate(3)["evidence"], slo="TBD", rollback_plan="   ")
    with pytest.raises(InvalidInput) as err:
        await pilots.decide_gate(
            "claims-triage-assistant", GateRequest.model_validate(gate(3, evidence=evidence)), SYSTEM
        )
    assert [p.pointer for p in err.value.problems] == ["/evidence/slo", "/evidence/rollback_plan"]
    assert "full sentence" in err.value.problems[0].detail


async def test_wrong_gate_and_closed_pilots_are_conflicts(db: object) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    with pytest.raises(Conflict) as err:
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(3)), SYSTEM)
    assert err.value.code == "wrong-gate"
    killed = gate(1, "kill", notes="The business case did not hold up.")
    pilot = await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(killed), SYSTEM)
    assert pilot.status == "killed"
    with pytest.raises(Conflict) as err:
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(1)), SYSTEM)
    assert err.value.code == "pilot-closed"


async def test_iterate_stays_and_needs_notes(db: object) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    with pytest.raises(InvalidInput):
        await pilots.decide_gate(
            "claims-triage-assistant", GateRequest.model_validate(gate(1, "iterate", notes="")), SYSTEM
        )
    pilot = await pilots.decide_gate(
        "claims-triage-assistant", GateRequest.model_validate(gate(1, "iterate", notes="Sharpen the target.")), SYSTEM
    )
    assert (pilot.stage, pilot.status, len(pilot.gates)) == (1, "active", 1)


async def test_teams_act_only_on_their_own_pilots(db: object) -> None:
    fraud = Actor(name="ci", team="fraud-ai", scopes=frozenset({"pilots"}))
    with pytest.raises(PermissionDenied):
        await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), fraud)
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    with pytest.raises(PermissionDenied):
        await pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(1)), fraud)
    assert await GateDecision.count() == 0


async def test_duplicate_and_unknown_pilots(db: object) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    with pytest.raises(Conflict):
        await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    assert await Pilot.count() == 1
    with pytest.raises(NotFound):
        await pilots.get_pilot("ghost")


async def test_list_filters_by_status(db: object) -> None:
    await graduated_pilot()
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request("fraud-screening", "fraud-ai")), SYSTEM)
    page = await pilots.list_pilots(status="graduated")
    assert [p.slug for p in page.items] == ["claims-triage-assistant"]
    assert len(page.items[0].gates) == 4
    assert (await pilots.list_pilots()).total == 2


async def test_concurrent_commits_of_one_gate_advance_once(db: object) -> None:
    import asyncio

    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    decisions = [
        pilots.decide_gate("claims-triage-assistant", GateRequest.model_validate(gate(1)), SYSTEM) for _ in range(3)
    ]
    results = await asyncio.gather(*decisions, return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    assert (await pilots.get_pilot("claims-triage-assistant")).stage == 2
    assert await GateDecision.count() == 1
