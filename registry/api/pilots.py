"""Pilots and their stage-gate decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from catalog.schemas import Actor, GateRequest, PilotOut, PilotPage, PilotRequest, PilotUpdate
from catalog.services import pilots
from registry.api.params import Offset, Slug

__all__ = ["PilotController"]


class PilotController(Controller):
    path = "/api/v1/pilots"
    tags = ["pilots"]

    @post("/", opt={"scope": "pilots"}, summary="Register a pilot (stage 1, problem framing)")
    async def create(self, data: JSONBody[PilotRequest], actor: NamedDependency[Actor]) -> PilotOut:
        return await pilots.create_pilot(data, actor)

    @get("/", summary="List pilots, newest first")
    async def list(
        self,
        status: FromQuery[Literal["active", "graduated", "killed"] | None] = None,
        team: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> PilotPage:
        return await pilots.list_pilots(status=status, team=team, limit=limit, offset=offset)

    @get("/{slug:str}", summary="A pilot with its gates, published and adopted assets")
    async def show(self, slug: Slug) -> PilotOut:
        return await pilots.get_pilot(slug)

    @patch("/{slug:str}", opt={"scope": "pilots"}, summary="Fill in the business case of an active pilot")
    async def update(self, slug: Slug, data: JSONBody[PilotUpdate], actor: NamedDependency[Actor]) -> PilotOut:
        return await pilots.update_pilot(slug, data, actor)

    @post(
        "/{slug:str}/gates",
        opt={"scope": "pilots"},
        summary="Decide a stage gate (commit advances, commit at gate 4 graduates, kill ends)",
    )
    async def decide_gate(self, slug: Slug, data: JSONBody[GateRequest], actor: NamedDependency[Actor]) -> PilotOut:
        return await pilots.decide_gate(slug, data, actor)
