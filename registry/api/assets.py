"""Publishing, reading and curating assets."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import RootModel

from catalog.archives import ArchiveFormat, content_type, version_archive
from catalog.errors import InvalidInput
from catalog.schemas import (
    Actor,
    AssetOut,
    AssetPage,
    BatchRequest,
    BatchResult,
    DeprecateRequest,
    Kind,
    Manifest,
    PublishResult,
    VersionOut,
    YankRequest,
    parse_manifest,
)
from catalog.services import assets, batch, curation, publishing
from catalog.services.publishing import file_bytes
from registry.api.params import Offset, Slug, Version

__all__ = ["AssetController", "PublishRequest"]


class PublishRequest(RootModel[Manifest]):
    """A manifest (the fields of asset.yaml) with its native files inline under `files`."""


def _manifest(body: Any) -> Manifest:
    """The body as a manifest; its problems answer as any invalid request body does (`invalid-input`)."""
    try:
        return parse_manifest(body)
    except InvalidInput as err:
        pointers = ", ".join(p.pointer for p in err.problems[:5])
        raise InvalidInput(f"{len(err.problems)} problem{'s' if len(err.problems) != 1 else ''} with {pointers}; "
                           "see `errors`", err.problems) from None  # fmt: skip


class AssetController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]

    @post(
        "/",
        opt={"scope": "publish", "json_body": True},
        summary="Publish a version (201; 200 when the identical version is already published)",
        responses={200: ResponseSpec(PublishResult, description="identical content was already published")},
    )
    async def publish(self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> Response[PublishResult]:
        # The body (checked as JSON by registry.http.boundary: `json_body`) is validated in a worker thread, since
        # parsing a prompt's templates is CPU work that grows with it; registry.http.openapi documents it.
        manifest = await anyio.to_thread.run_sync(_manifest, await request.json())
        result = await publishing.publish_version(manifest, actor)
        return Response(result, status_code=201 if result.status == "created" else 200)

    @post(
        "/batch",
        opt={"scope": "publish"},
        status_code=200,
        summary="Publish up to 1,000 versions at once: each validated and answered on its own, all or nothing per "
        "version, in the order given (dependencies first)",
    )
    async def publish_batch(self, data: JSONBody[BatchRequest], actor: NamedDependency[Actor]) -> BatchResult:
        return await batch.publish_batch(data.manifests, actor)

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

    @get(
        "/{slug:str}/versions/{version:str}/files/{path:path}",
        summary="One attached file, byte for byte (ETag from its SHA-256; If-None-Match answers 304)",
        media_type="*/*",
        responses={304: ResponseSpec(None, description="the file is unchanged since the ETag you sent")},
    )
    async def file(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        version: Version,
        path: FromPath[str],
    ) -> Response[bytes]:
        found = await assets.get_file(slug, version, path.lstrip("/"))
        etag = f'"{found.sha256}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}  # versions never change
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        name = found.path.rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return Response(file_bytes(found.content, found.encoding), media_type=content_type(found), headers=headers)

    @get(
        "/{slug:str}/versions/{version:str}/archive",
        summary="The version as one archive: asset.yaml and every file, under a folder named slug-version",
        media_type="application/octet-stream",
    )
    async def archive(
        self, slug: Slug, version: Version, format: FromQuery[ArchiveFormat] = "tar.gz"
    ) -> Response[bytes]:
        found = await assets.get_version(slug, version)
        name = f"{slug}-{version}.{format}"
        media = "application/zip" if format == "zip" else "application/gzip"
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                   "ETag": f'"{found.content_digest.removeprefix("sha256:")}-{format}"'}  # fmt: skip
        return Response(version_archive(found, format), media_type=media, headers=headers)

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
