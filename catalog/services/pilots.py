"""Pilots and their stage gates: the playbook's rules for committing, iterating, killing and graduating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count
from pydantic import ValidationError

from catalog.errors import ConcurrentWrite, Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from catalog.schemas import (
    GATE_EVIDENCE,
    Actor,
    AdoptedRef,
    AssetRef,
    DownstreamReuse,
    GateOut,
    GateRequest,
    PilotOut,
    PilotPage,
    PilotRequest,
    PilotUpdate,
    problems_from,
    utc,
)
from catalog.schemas.portfolio import PortfolioPolicy
from catalog.services.gateflow import gates_of, health_of
from catalog.services.journal import for_update, now, record, write_transaction
from catalog.tables import Adoption, Asset, GateDecision, Pilot
from catalog.writer import writes

__all__ = [
    "STAGE_NAMES",
    "check_team",
    "create_pilot",
    "decide_gate",
    "get_pilot",
    "list_pilots",
    "pilot_row",
    "update_pilot",
]

STAGE_NAMES = {
    1: "problem framing",
    2: "thin vertical prototype",
    3: "productionization",
    4: "rollout and change management",
    5: "scale and compound",
}


async def pilot_row(slug: str, *, lock: bool = False) -> dict[str, Any]:
    query = Pilot.select().where(Pilot.slug == slug).output(load_json=True)
    row = await (for_update(query) if lock else query).first()
    if row is None:
        raise NotFound(f"no pilot is named {slug!r}", code="pilot-not-found")
    return dict(row)


def check_team(actor: Actor, team: str, what: str) -> None:
    if not actor.may_act_for(team):
        raise PermissionDenied(
            f"{what} belongs to team {team!r}; your token is for team {actor.team!r}. "
            f"Use a token of team {team!r} or an admin token"
        )


@writes
async def create_pilot(
    request: PilotRequest, actor: Actor, *, at: datetime | None = None, policy: PortfolioPolicy | None = None
) -> PilotOut:
    """Register a pilot at stage 1 (problem framing) for the actor's team."""
    check_team(actor, request.team, f"pilot {request.slug!r}")
    at = at or now()
    if request.created_at is not None:
        at = _backdated(request.created_at, actor, "/created_at", earliest=None)
    exists = Conflict(f"a pilot named {request.slug!r} already exists; pick another slug", code="pilot-exists")
    try:
        await _insert_pilot(request, actor, at, exists)
    except ConcurrentWrite as race:  # created by a concurrent request between our check and our insert
        raise exists from race
    return await get_pilot(request.slug, policy)


async def _insert_pilot(request: PilotRequest, actor: Actor, at: datetime, exists: Conflict) -> None:
    async with write_transaction():
        if await Pilot.exists().where(Pilot.slug == request.slug):
            raise exists
        await Pilot.insert(
            Pilot(
                slug=request.slug,
                name=request.name,
                team=request.team,
                budget_owner=request.budget_owner,
                problem=request.problem,
                baseline=request.baseline.model_dump() if request.baseline else None,
                target=request.target.model_dump() if request.target else None,
                value_per_month=request.value_per_month.model_dump() if request.value_per_month else None,
                created_at=at,
                updated_at=at,
                stage_entered_at=at,
            )
        )
        await record(
            "pilot.create", f"pilot:{request.slug}", actor, request.model_dump(mode="json"), at, team=request.team
        )


@writes
async def update_pilot(
    slug: str, update: PilotUpdate, actor: Actor, *, at: datetime | None = None, policy: PortfolioPolicy | None = None
) -> PilotOut:
    """Fill in the business case (baseline, target, budget owner, value) while the pilot is active."""
    at = at or now()
    changes = update.model_dump(exclude_unset=True, mode="json")
    async with write_transaction():
        pilot = await pilot_row(slug, lock=True)
        check_team(actor, pilot["team"], f"pilot {slug!r}")
        if pilot["status"] != "active":
            raise Conflict(f"pilot {slug!r} is {pilot['status']}; its record is closed", code="pilot-closed")
        if changes:
            values: dict[Any, Any] = {**changes, Pilot.updated_at: at}
            await Pilot.update(values).where(Pilot.slug == slug)
            await record("pilot.update", f"pilot:{slug}", actor, changes, at, team=pilot["team"])
    return await get_pilot(slug, policy)


def _backdated(value: datetime, actor: Actor, pointer: str, earliest: datetime | None) -> datetime:
    """A date from the past, for history older than the registry: admin only, never ahead of the clock or order."""
    if not actor.is_admin:
        raise PermissionDenied(
            f"`{pointer.lstrip('/')}` records history from before the registry and needs an admin token; "
            "leave it out to use the current time"
        )
    value = utc(value)
    if value > now():
        raise InvalidInput(
            f"`{pointer.lstrip('/')}` is in the future",
            [FieldProblem(pointer, f"{value.isoformat()} is later than now", "give a past date, or leave it out")],
        )
    if earliest is not None and value < earliest:
        raise InvalidInput(
            f"`{pointer.lstrip('/')}` is before the pilot's previous event",
            [FieldProblem(pointer, f"{value.isoformat()} is before {earliest.isoformat()}",
                          "decisions are recorded in the order they were taken")],
        )  # fmt: skip
    return value


def _missing_business_case(pilot: dict[str, Any]) -> list[FieldProblem]:
    fixes = {
        "baseline": "set the pilot's baseline {metric, value, unit} with PATCH /api/v1/pilots/{slug}",
        "target": "set the pilot's target {metric, value, unit} with PATCH /api/v1/pilots/{slug}",
        "budget_owner": "name the budget owner with PATCH /api/v1/pilots/{slug}",
    }
    return [
        FieldProblem(f"/pilot/{field}", f"gate 1 needs the pilot's {field.replace('_', ' ')}", fix)
        for field, fix in fixes.items()
        if not pilot.get(field)
    ]


def _evidence_problems(stage: int, evidence: dict[str, Any]) -> tuple[list[FieldProblem], dict[str, Any]]:
    model = GATE_EVIDENCE.get(stage)
    if model is None:
        return [], evidence
    try:
        return [], model.model_validate(evidence).model_dump()
    except ValidationError as err:
        problems = problems_from(err, prefix="/evidence", strip_tags=False)
        for p in problems:
            if p.fix == "add this field":
                name = p.pointer.rsplit("/", 1)[-1]
                description = (model.model_fields[name].description or "") if name in model.model_fields else ""
                object.__setattr__(p, "detail", f"gate {stage} needs evidence `{name}` {description}".strip())
        return problems, evidence


@writes
async def decide_gate(
    slug: str, request: GateRequest, actor: Actor, *, at: datetime | None = None, policy: PortfolioPolicy | None = None
) -> PilotOut:
    """Record a gate decision: `commit` advances a stage (gate 4 graduates), `kill` ends, `iterate` stays."""
    at = at or now()
    async with write_transaction():
        pilot = await pilot_row(slug, lock=True)
        check_team(actor, pilot["team"], f"pilot {slug!r}")
        if request.decided_at is not None:
            previous = (
                await GateDecision.select(GateDecision.decided_at)
                .where(GateDecision.pilot == pilot["id"])
                .order_by(GateDecision.decided_at, ascending=False)
                .first()
            )
            earliest = utc(previous["decided_at"]) if previous else utc(pilot["created_at"])
            at = _backdated(request.decided_at, actor, "/decided_at", earliest)
        if pilot["status"] != "active":
            raise Conflict(
                f"pilot {slug!r} is {pilot['status']}; gates are decided only for active pilots",
                code="pilot-closed",
            )
        if request.stage != pilot["stage"]:
            raise Conflict(
                f"pilot {slug!r} is at stage {pilot['stage']} ({STAGE_NAMES[pilot['stage']]}); "
                f"decide gate {pilot['stage']}, not gate {request.stage}",
                code="wrong-gate",
                current_stage=pilot["stage"],
            )
        evidence = request.evidence
        if request.decision == "commit":
            problems: list[FieldProblem] = []
            if request.stage == 1:
                problems = _missing_business_case(pilot)
            else:
                problems, evidence = _evidence_problems(request.stage, request.evidence)
            if problems:
                raise InvalidInput(
                    f"gate {request.stage} ({STAGE_NAMES[request.stage]}) cannot commit without its evidence: "
                    + ", ".join(p.pointer.rsplit("/", 1)[-1] for p in problems),
                    problems,
                    code="missing-evidence",
                )
        elif not request.notes.strip():
            raise InvalidInput(
                f"a {request.decision} decision needs notes saying why",
                [FieldProblem("/notes", "notes are empty", f"say why the gate decided {request.decision}")],
            )
        await GateDecision.insert(
            GateDecision(
                pilot=pilot["id"],
                stage=request.stage,
                decision=request.decision,
                decided_by=request.decided_by,
                notes=request.notes,
                evidence_url=request.evidence_url,
                evidence=evidence,
                decided_at=at,
                entered_at=pilot["stage_entered_at"] or pilot["created_at"],
            )
        )
        changes: dict[Any, Any] = {Pilot.updated_at: at}
        if request.decision == "commit":
            changes |= {Pilot.stage: request.stage + 1, Pilot.stage_entered_at: at, Pilot.gate_iterations: 0}
            if request.stage == 4:
                changes[Pilot.status] = "graduated"
                changes[Pilot.graduated_at] = at
            measure = evidence.get({2: "after", 4: "metric_value"}.get(request.stage, ""))
            if isinstance(measure, int | float) and not isinstance(measure, bool):
                changes |= {Pilot.measured: float(measure), Pilot.measured_gate: request.stage, Pilot.measured_at: at}
        elif request.decision == "kill":
            changes |= {Pilot.status: "killed", Pilot.stage_entered_at: at}
        else:
            changes[Pilot.gate_iterations] = pilot["gate_iterations"] + 1
        await Pilot.update(changes).where(Pilot.id == pilot["id"])
        await record(
            "pilot.gate",
            f"pilot:{slug}",
            actor,
            {"stage": request.stage, "decision": request.decision, "decided_by": request.decided_by},
            at,
            team=pilot["team"],
        )
    return await get_pilot(slug, policy)


async def get_pilot(slug: str, policy: PortfolioPolicy | None = None) -> PilotOut:
    """A pilot with its gate history, health, the assets it published and those it adopted."""
    pilot = await pilot_row(slug)
    gates = (
        await GateDecision.select()
        .where(GateDecision.pilot == pilot["id"])
        .order_by(GateDecision.decided_at)
        .order_by(GateDecision.id)
        .output(load_json=True)
    )
    published = (
        await Asset.select(Asset.slug, Asset.kind, Asset.title, Asset.latest_version, Asset.lifecycle)
        .where(Asset.origin_pilot == pilot["id"])
        .order_by(Asset.slug)
    )
    adopted = (
        await Adoption.select(
            Adoption.id,
            Adoption.asset.slug.as_alias("asset"),
            Adoption.asset.kind.as_alias("kind"),
            Adoption.version.version.as_alias("version"),
            Adoption.mode,
            Adoption.adopted_at,
            Adoption.retired_at,
        )
        .where(Adoption.pilot == pilot["id"])
        .order_by(Adoption.adopted_at)
        .order_by(Adoption.id)
    )
    out = _pilot_out(pilot, gates, published, adopted)
    out.downstream = await _downstream(pilot["id"])
    out.health = health_of(pilot, gates_of(gates), now(), policy or PortfolioPolicy(), len(published))
    return out


async def _downstream(pilot_id: int) -> DownstreamReuse:
    rows = await Adoption.select(
        Adoption.asset, Adoption.pilot.slug.as_alias("pilot"), Adoption.hours_saved, Adoption.first_for_pilot
    ).where((Adoption.asset.origin_pilot == pilot_id) & Adoption.retired_at.is_null())
    return DownstreamReuse(
        assets_reused=len({r["asset"] for r in rows}),
        adopting_pilots=sorted({r["pilot"] for r in rows}),
        active_adoptions=len(rows),
        hours_saved=float(sum(r["hours_saved"] for r in rows if r["first_for_pilot"])),
    )


def _pilot_out(
    pilot: dict[str, Any],
    gates: list[dict[str, Any]],
    published: list[dict[str, Any]],
    adopted: list[dict[str, Any]],
) -> PilotOut:
    return PilotOut.model_validate(
        {
            **pilot,
            "created_at": utc(pilot["created_at"]),
            "graduated_at": utc(pilot["graduated_at"]) if pilot["graduated_at"] else None,
            "gates": [GateOut.model_validate({**g, "decided_at": utc(g["decided_at"])}) for g in gates],
            "published_assets": [AssetRef.model_validate(a) for a in published],
            "adopted_assets": [
                AdoptedRef(
                    adoption_id=a["id"],
                    asset=a["asset"],
                    kind=a["kind"],
                    version=a["version"],
                    mode=a["mode"],
                    adopted_at=utc(a["adopted_at"]),
                    active=a["retired_at"] is None,
                )
                for a in adopted
            ],
        }
    )


async def list_pilots(
    *,
    status: str | None = None,
    team: str | None = None,
    health: str | None = None,
    limit: int = 50,
    offset: int = 0,
    policy: PortfolioPolicy | None = None,
) -> PilotPage:
    """Pilots, newest first, with their gates and health; `health` keeps stalled, circling or on-track ones."""
    query = Pilot.select().output(load_json=True)
    count = Pilot.count()
    if status:
        query = query.where(Pilot.status == status)
        count = count.where(Pilot.status == status)
    if team:
        query = query.where(Pilot.team == team)
        count = count.where(Pilot.team == team)
    ordered = query.order_by(Pilot.created_at, ascending=False).order_by(Pilot.id)
    # Health is computed, not stored: filtering by it reads every pilot the other filters keep.
    rows = await (ordered if health else ordered.limit(limit).offset(offset))
    total = 0 if health else await count
    ids = [r["id"] for r in rows]
    gates: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    published: dict[int, int] = {}
    if ids:
        for g in (
            await GateDecision.select()
            .where(GateDecision.pilot.is_in(ids))
            .order_by(GateDecision.decided_at)
            .order_by(GateDecision.id)
            .output(load_json=True)
        ):
            gates[g["pilot"]].append(g)
        for a in await Asset.select(Asset.origin_pilot, Count(Asset.id).as_alias("n")).where(
            Asset.origin_pilot.is_in(ids)).group_by(Asset.origin_pilot):  # fmt: skip
            published[a["origin_pilot"]] = a["n"]
    at, rules = now(), policy or PortfolioPolicy()
    items = []
    for r in rows:
        out = _pilot_out(r, gates[r["id"]], [], [])
        out.health = health_of(r, gates_of(gates[r["id"]]), at, rules, published.get(r["id"], 0))
        items.append(out)
    if health is not None:
        items = [p for p in items if _matches(p, health)]
        total, items = len(items), items[offset : offset + limit]
    return PilotPage(total=total, items=items)


def _matches(pilot: PilotOut, health: str) -> bool:
    h = pilot.health
    if h is None:
        return False
    if health == "on_track":
        return h.state == "on_track"
    return bool(getattr(h, health, False))
