"""Which team owns a named pilot or asset, so a write from another team is refused before its body is read."""

from __future__ import annotations

from typing import Literal

from catalog.schemas import Actor
from catalog.services.pilots import check_team
from catalog.tables import Asset, Pilot

__all__ = ["check_owner"]


async def check_owner(actor: Actor, kind: Literal["pilot", "asset"], slug: str) -> None:
    """403 when `actor` may not act for the subject's team; nothing when the subject does not exist (the
    write itself then answers its 404)."""
    if kind == "pilot":
        row = await Pilot.select(Pilot.team).where(Pilot.slug == slug).first()
        team = row["team"] if row else None
    else:
        row = await Asset.select(Asset.owner).where(Asset.slug == slug).first()
        team = row["owner"] if row else None
    if team is not None:
        check_team(actor, team, f"{kind} {slug!r}")
