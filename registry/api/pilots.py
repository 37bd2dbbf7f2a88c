"""Pilots and their stage-gate decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from catalog.schemas import Actor, GateRequest, PilotOut, PilotPage, PilotRequest, PilotUpdate
from catalog.schemas.portfolio import DeadlineRequest, PortfolioPolicy
from catalog.services import deadlines, pilots
from registry.api.params import Offset, Slug

__all__ = ["PilotController"]


class PilotController(Controller):
    path = "/api/v1/pilots"
    tags = ["pilots"]

    @post("/", opt={"scope": "pilots"}, summary="Register a pilot (stage 1, problem framing)")
    async def create(
        self, data: JSONBody[PilotRequest], actor: NamedDependency[Actor], policy: NamedDependency[PortfolioPolicy]
    ) -> PilotOut:
        return await pilots.create_pilot(data, actor, policy=policy)

    @get("/", summary="List pilots, newest first, each with its health at its gate")
    async def list(
        self,
        policy: NamedDependency[PortfolioPolicy],
        status: FromQuery[Literal["active", "graduated", "killed"] | None] = None,
        team: FromQuery[str | None] = None,
        health: Annotated[
            Literal["stalled", "circling", "on_track"] | None,
            QueryParameter(description="stalled: past the gate's deadline; circling: 3+ iterates at the gate"),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> PilotPage:
        return await pilots.list_pilots(
            status=status, team=team, health=health, limit=limit, offset=offset, policy=policy
        )

    @get("/{slug:str}", summary="A pilot with its gates, health, published and adopted assets")
    async def show(self, slug: Slug, policy: NamedDependency[PortfolioPolicy]) -> PilotOut:
        return await pilots.get_pilot(slug, policy)

    @put(
        "/{slug:str}/deadlines/{stage:int}",
        opt={"scope": "pilots"},
        summary="Give one gate of an active pilot its own deadline, with the reason (journaled)",
    )
    async def set_deadline(
        self,
        slug: Slug,
        stage: Annotated[int, PathParameter(ge=1, le=4, description="the gate: 1 to 4")],
        data: JSONBody[DeadlineRequest],
        actor: NamedDependency[Actor],
        policy: NamedDependency[PortfolioPolicy],
    ) -> PilotOut:
        return await deadlines.set_deadline(slug, stage, data, actor, policy=policy)

    @patch("/{slug:str}", opt={"scope": "pilots"}, summary="Fill in the business case of an active pilot")
    async def update(
        self,
        slug: Slug,
        data: JSONBody[PilotUpdate],
        actor: NamedDependency[Actor],
        policy: NamedDependency[PortfolioPolicy],
    ) -> PilotOut:
        return await pilots.update_pilot(slug, data, actor, policy=policy)

    @post(
        "/{slug:str}/gates",
        opt={"scope": "pilots"},
        summary="Decide a stage gate (commit advances, commit at gate 4 graduates, kill ends)",
    )
    async def decide_gate(
        self,
        slug: Slug,
        data: JSONBody[GateRequest],
        actor: NamedDependency[Actor],
        policy: NamedDependency[PortfolioPolicy],
    ) -> PilotOut:
        return await pilots.decide_gate(slug, data, actor, policy=policy)
