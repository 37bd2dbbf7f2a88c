"""Starter-kit feedback: people mark picks useful or not; the misses reach the asset's owners in the reuse report."""

from __future__ import annotations

from datetime import datetime

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import Actor, KitFeedbackOut, KitFeedbackRequest
from catalog.services.journal import now, record, write_transaction
from catalog.tables import Asset, KitFeedback
from catalog.writer import writes

__all__ = ["record_feedback"]


@writes
async def record_feedback(request: KitFeedbackRequest, actor: Actor, *, at: datetime | None = None) -> KitFeedbackOut:
    """Record one judgement of a pick, journaled against the asset (any team may judge any pick)."""
    at = at or now()
    async with write_transaction():
        asset = await Asset.select(Asset.id, Asset.owner).where(Asset.slug == request.slug).first()
        if asset is None:
            raise InvalidInput(
                f"no asset is named {request.slug!r}",
                [FieldProblem("/slug", f"no asset is named {request.slug!r}", "use a slug the starter kit returned")],
            )
        row = KitFeedback(
            asset=asset["id"], problem=request.problem, useful=request.useful, note=request.note,
            given_by=actor.label, given_at=at,
        )  # fmt: skip
        await KitFeedback.insert(row)
        payload = {"problem": request.problem[:500], "useful": request.useful, "note": request.note[:500]}
        await record("kit.feedback", f"asset:{request.slug}", actor, payload, at, team=asset["owner"])
    return KitFeedbackOut(
        id=row.id, problem=request.problem, slug=request.slug, useful=request.useful, note=request.note,
        given_by=actor.label, given_at=at,
    )  # fmt: skip
