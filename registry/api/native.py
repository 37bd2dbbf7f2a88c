"""Native formats over HTTP: a native file in, proposed manifests out (optionally published); a version out as
its native file (the stored original byte for byte, or generated).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from pydantic import BaseModel, Field

from catalog.errors import FieldProblem, InvalidInput
from catalog.native.base import NativeError, Source
from catalog.native.exporting import export_native
from catalog.native.formats import FORMAT_IDS
from catalog.native.importing import ImportOptions, import_source
from catalog.schemas import Actor, PublishResult, parse_manifest
from catalog.services import assets, publishing
from catalog.services.publishing import file_bytes
from registry.api.params import Slug, Version

__all__ = ["ExportController", "ImportController", "ImportResult"]

_FILENAME = r"^[^/\\]{1,200}$"
_SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"


class ImportedAsset(BaseModel):
    manifest: dict[str, Any] = Field(description="the proposed manifest, files inline as {path, content, encoding}")
    notices: list[str] = Field(default_factory=list, description="what the importer could not decide for you")
    published: PublishResult | None = Field(default=None, description="the publish result, with ?publish=true")


class ImportResult(BaseModel):
    format: str = Field(description="the native format the file was read as")
    assets: list[ImportedAsset]


def _problem(err: NativeError) -> InvalidInput:
    where = f" (line {err.line})" if err.line else ""
    return InvalidInput(
        f"{err.file or 'the file'}{where}: {err.message}",
        [FieldProblem("/body", f"{err.message}{where}", err.fix or "send a native file of a supported format")],
        code="invalid-native-file",
    )


class ImportController(Controller):
    path = "/api/v1/import"
    tags = ["native formats"]

    @post(
        "/",
        opt={"scope": "publish"},
        status_code=200,
        summary="Convert a native file into proposed manifests (published too with ?publish=true)",
    )
    async def convert(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        filename: Annotated[
            str, QueryParameter(pattern=_FILENAME, description="the file's name; its extension counts")
        ],
        owner: Annotated[str, QueryParameter(pattern=_SLUG, description="the team that owns the assets")],
        pilot: Annotated[str, QueryParameter(pattern=_SLUG, description="the graduated pilot they come from")],
        format: Annotated[str, QueryParameter(description=f"auto, or one of: {', '.join(FORMAT_IDS)}")] = "auto",
        version: FromQuery[str | None] = None,
        slug_prefix: Annotated[str, QueryParameter(max_length=30, pattern=r"^[a-z0-9-]*$")] = "",
        select: FromQuery[list[str] | None] = None,
        allow_secrets: FromQuery[bool] = False,
        allow_missing_includes: FromQuery[bool] = False,
        strict: FromQuery[bool] = False,
        publish: FromQuery[bool] = False,
    ) -> ImportResult:
        if format != "auto" and format.lower() not in FORMAT_IDS:
            raise InvalidInput(
                f"unknown format {format!r}",
                [FieldProblem("/query/format", f"{format!r} is not a format", f"use auto or {', '.join(FORMAT_IDS)}")],
            )
        options = ImportOptions(
            owner=owner,
            pilot=pilot,
            format=format,
            version=version,
            slug_prefix=slug_prefix,
            select=tuple(select or ()),
            allow_secrets=allow_secrets,
            allow_missing_includes=allow_missing_includes,
            strict=strict,
        )
        try:
            source = Source.of(filename, await request.body(), missing_includes_ok=allow_missing_includes)
            imported = await anyio.to_thread.run_sync(import_source, source, options)  # parsing is CPU work
        except NativeError as err:
            raise _problem(err.located(filename)) from None
        out = [ImportedAsset(manifest=i.manifest, notices=i.notices) for i in imported]
        if publish:
            for item in out:
                item.published = await publishing.publish_version(parse_manifest(item.manifest), actor)
        return ImportResult(format=imported[0].format, assets=out)


class ExportController(Controller):
    path = "/api/v1/assets"
    tags = ["native formats"]

    @get(
        "/{slug:str}/versions/{version:str}/export",
        summary="The version as a native file: the stored original byte for byte, or generated from the manifest",
        media_type="application/octet-stream",
    )
    async def export(
        self,
        slug: Slug,
        version: Version,
        format: Annotated[
            str | None, QueryParameter(description=f"one of: {', '.join(FORMAT_IDS)}; default: the asset's own")
        ] = None,
        regenerate: Annotated[bool, QueryParameter(description="generate even when an original is stored")] = False,
    ) -> Response[bytes]:
        found = await assets.get_version(slug, version)
        manifest = {**found.manifest, "spec": found.spec, "kind": found.kind}
        files = [{"path": f.path, "sha256": f.sha256, "raw": file_bytes(f.content, f.encoding)} for f in found.files]
        exported = export_native(manifest, files, format, regenerate=regenerate)
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(exported.filename)}",
            "X-Registry-Export": "generated" if exported.generated else "original",
            "X-Registry-Format": exported.format,
        }
        return Response(exported.content, media_type="application/octet-stream", headers=headers)
