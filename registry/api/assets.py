"""Publishing, reading and curating assets."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import RootModel

from catalog.schemas import (
    Actor,
    AssetOut,
    AssetPage,
    DeprecateRequest,
    Kind,
    LabelRequest,
    Manifest,
    PublishResult,
    VersionOut,
    YankRequest,
)
from catalog.services import assets, curation, publishing
from registry.api.params import Label, Offset, Slug, Version

__all__ = ["AssetController", "PublishRequest"]


class PublishRequest(RootModel[Manifest]):
    """A manifest (the fields of asset.yaml) with its native files inline under `files`."""


class AssetController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]

    @post(
        "/",
        opt={"scope": "publish"},
        summary="Publish a version (201; 200 when the identical version is already published)",
        responses={200: ResponseSpec(PublishResult, description="identical content was already published")},
    )
    async def publish(self, data: JSONBody[PublishRequest], actor: NamedDependency[Actor]) -> Response[PublishResult]:
        result = await publishing.publish_version(data.root, actor)
        return Response(result, status_code=201 if result.status == "created" else 200)

    @get("/", summary="List assets with exact filters (all given tags must match)")
    async def list(
        self,
        kind: FromQuery[Kind | None] = None,
        tag: FromQuery[list[str] | None] = None,
        owner: FromQuery[str | None] = None,
        origin_pilot: FromQuery[str | None] = None,
        lifecycle: FromQuery[Literal["active", "deprecated"] | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> AssetPage:
        return await assets.list_assets(
            kind=kind,
            tags=tag,
            owner=owner,
            origin_pilot=origin_pilot,
            lifecycle=lifecycle,
            limit=limit,
            offset=offset,
        )

    @get("/{slug:str}", summary="An asset with its versions, labels, origin pilot and reuse")
    async def show(self, slug: Slug) -> AssetOut:
        return await assets.get_asset(slug)

    @get("/{slug:str}/versions/{version:str}", summary="One version with its spec and files")
    async def version(self, slug: Slug, version: Version) -> VersionOut:
        return await assets.get_version(slug, version)

    @post(
        "/{slug:str}/versions/{version:str}/yank", opt={"scope": "publish"}, status_code=200, summary="Yank a version"
    )
    async def yank(
        self, slug: Slug, version: Version, data: JSONBody[YankRequest], actor: NamedDependency[Actor]
    ) -> VersionOut:
        return await curation.yank_version(slug, version, data, actor)

    @post("/{slug:str}/deprecate", opt={"scope": "publish"}, status_code=200, summary="Deprecate, naming a successor")
    async def deprecate(self, slug: Slug, data: JSONBody[DeprecateRequest], actor: NamedDependency[Actor]) -> AssetOut:
        return await curation.deprecate_asset(slug, data, actor)

    @put("/{slug:str}/labels/{label:str}", opt={"scope": "publish"}, summary="Point a label at a version")
    async def move_label(
        self, slug: Slug, label: Label, data: JSONBody[LabelRequest], actor: NamedDependency[Actor]
    ) -> AssetOut:
        return await curation.move_label(slug, label, data, actor)

    @delete("/{slug:str}/labels/{label:str}", opt={"scope": "publish"}, status_code=200, summary="Remove a label")
    async def remove_label(self, slug: Slug, label: Label, actor: NamedDependency[Actor]) -> AssetOut:
        return await curation.remove_label(slug, label, actor)
