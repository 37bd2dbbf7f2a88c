"""Publishing: a graduated pilot's team records an immutable asset version, with its files and dependencies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime

from catalog.errors import CatalogError, Conflict, FieldProblem, InvalidInput, PermissionDenied
from catalog.native.validation import native_problems
from catalog.schemas import Actor, Manifest, PublishResult
from catalog.services.journal import now
from catalog.services.publish_plan import Prepared, highest, publish_planned
from catalog.tables import AssetVersion
from catalog.writer import writes

__all__ = ["content_digest", "file_bytes", "latest_version", "prepare", "publish_version"]


def file_bytes(content: str, encoding: str) -> bytes:
    """The bytes of an attached file as sent (UTF-8 text, or base64 for binary)."""
    if encoding == "base64":
        return base64.b64decode(content, validate=True)
    return content.encode("utf-8")


ADDED_OPTIONAL = ("patterns", "risks")


def content_digest(manifest: Manifest, files: list[bytes] | None = None) -> str:
    """sha256 of the canonical manifest and attached files: equal content gives an equal digest."""
    raw = files if files is not None else [file_bytes(f.content, f.encoding) for f in manifest.files]
    body = manifest.model_dump(mode="json", exclude={"files"})
    for added in ADDED_OPTIONAL:  # fields added later count only when set, so older manifests keep their digest
        if body.get(added) is None:
            body.pop(added, None)
    body["files"] = sorted((f.path, hashlib.sha256(b).hexdigest()) for f, b in zip(manifest.files, raw, strict=True))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def latest_version(asset_id: int) -> str | None:
    """The highest non-yanked version, releases preferred over pre-releases."""
    rows = await AssetVersion.select(AssetVersion.version, AssetVersion.prerelease).where(
        (AssetVersion.asset == asset_id) & AssetVersion.yanked.eq(False)
    )
    return highest([(r["version"], r["prerelease"]) for r in rows])


def _decoded_files(manifest: Manifest) -> list[bytes]:
    """The attached files' bytes, refused when one does not decode or does not match its native format."""
    problems = []
    decoded = []
    for i, f in enumerate(manifest.files):
        try:
            decoded.append(file_bytes(f.content, f.encoding))
        except (binascii.Error, ValueError):
            problems.append(
                FieldProblem(f"/files/{i}/content", f"{f.path} is not valid base64", "encode the file with base64")
            )
    if problems:
        raise InvalidInput("an attached file cannot be decoded", problems)
    named = [(f.path, raw) for f, raw in zip(manifest.files, decoded, strict=True)]
    problems = native_problems(manifest.kind, manifest.spec.model_dump(mode="json"), named)
    if problems:
        raise InvalidInput(
            f"{manifest.slug}@{manifest.version}: the native files do not match what the manifest says they are",
            problems,
            code="invalid-native-file",
        )
    return decoded


def prepare(manifest: Manifest, actor: Actor) -> Prepared:
    """What needs no database: the token's team owns the asset, the files decode and match their formats."""
    if not actor.may_act_for(manifest.owner):
        raise PermissionDenied(
            f"asset {manifest.slug!r} is owned by team {manifest.owner!r}; your token is for team {actor.team!r}. "
            f"Publish with a token of team {manifest.owner!r}"
        )
    files = _decoded_files(manifest)
    return Prepared(manifest, content_digest(manifest, files), files)


@writes
async def publish_version(manifest: Manifest, actor: Actor, *, at: datetime | None = None) -> PublishResult:
    """Publish one version. Identical re-publish is a no-op; other content under a published version is a 409."""
    outcomes = await publish_planned([prepare(manifest, actor)], actor, at or now())
    if outcomes is None:  # concurrent publishes of this asset committed first, every attempt
        raise Conflict(f"{manifest.slug} is being published concurrently; retry the publish", code="concurrent-publish")
    if isinstance(outcomes[0], CatalogError):
        raise outcomes[0]
    return outcomes[0]
