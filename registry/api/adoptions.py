"""Adoptions: which pilot reuses which asset version."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from catalog.schemas import Actor, AdoptionOut, AdoptionPage, AdoptionRequest, RetireRequest
from catalog.services import adoption
from registry.api.params import Offset, RowId

__all__ = ["AdoptionController"]


class AdoptionController(Controller):
    path = "/api/v1/adoptions"
    tags = ["adoptions"]

    @post("/", opt={"scope": "adopt"}, summary="Record that a pilot adopted an asset version")
    async def record(self, data: JSONBody[AdoptionRequest], actor: NamedDependency[Actor]) -> AdoptionOut:
        return await adoption.record_adoption(data, actor)

    @get("/", summary="List adoptions by asset and/or pilot")
    async def list(
        self,
        asset: FromQuery[str | None] = None,
        pilot: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        offset: Offset = 0,
    ) -> AdoptionPage:
        return await adoption.list_adoptions(asset=asset, pilot=pilot, active=active, limit=limit, offset=offset)

    @get("/{adoption_id:int}", summary="One adoption")
    async def show(self, adoption_id: RowId) -> AdoptionOut:
        return await adoption.get_adoption(adoption_id)

    @post("/{adoption_id:int}/retire", opt={"scope": "adopt"}, status_code=200, summary="Retire an adoption")
    async def retire(
        self, adoption_id: RowId, data: JSONBody[RetireRequest], actor: NamedDependency[Actor]
    ) -> AdoptionOut:
        return await adoption.retire_adoption(adoption_id, data, actor)
