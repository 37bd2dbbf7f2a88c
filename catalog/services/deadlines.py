"""A team's own decision deadline for one gate of its pilot, with the reason, journaled."""

from __future__ import annotations

from datetime import datetime

from catalog.errors import Conflict, FieldProblem, InvalidInput
from catalog.schemas import Actor, PilotOut
from catalog.schemas.portfolio import DeadlineRequest, PortfolioPolicy
from catalog.services.gateflow import load_json
from catalog.services.journal import now, record, write_transaction
from catalog.services.pilots import check_team, get_pilot, pilot_row
from catalog.tables import Pilot
from catalog.writer import writes

__all__ = ["set_deadline"]


@writes
async def set_deadline(
    slug: str,
    stage: int,
    request: DeadlineRequest,
    actor: Actor,
    *,
    policy: PortfolioPolicy | None = None,
    at: datetime | None = None,
) -> PilotOut:
    """Give gate `stage` of an active pilot its own deadline (days from entering the stage)."""
    if not 1 <= stage <= 4:
        raise InvalidInput(
            f"gate {stage} does not exist",
            [FieldProblem("/path/stage", f"{stage} is not a gate", "gates are 1 to 4")],
        )
    at = at or now()
    async with write_transaction():
        pilot = await pilot_row(slug, lock=True)
        check_team(actor, pilot["team"], f"pilot {slug!r}")
        if pilot["status"] != "active":
            raise Conflict(f"pilot {slug!r} is {pilot['status']}; it has no deadline left", code="pilot-closed")
        deadlines = dict(load_json(pilot["deadlines"]) or {})
        before = deadlines.get(str(stage))
        after = {"days": request.days, "reason": request.reason, "set_by": f"{actor.team}/{actor.name}",
                 "set_at": at.isoformat()}  # fmt: skip
        deadlines[str(stage)] = after
        await Pilot.update({Pilot.deadlines: deadlines, Pilot.updated_at: at}).where(Pilot.id == pilot["id"])
        await record(
            "pilot.deadline",
            f"pilot:{slug}",
            actor,
            {"stage": stage, "before": before, "after": after},
            at,
            team=pilot["team"],
        )
    return await get_pilot(slug, policy)
