"""History: the journal, a label's moves and where it pointed at a time, and diffs between versions."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import Actor, AssetOut, JournalPage, Kind, LabelAt, LabelMove, LabelRequest, VersionDiff
from catalog.services import curation, diffs, history
from registry.api.params import MAX_ID, Label, Slug
from registry.api.reports import parse_instant

__all__ = ["DiffController", "JournalController", "LabelController", "viewer"]

_SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
_ACTOR = re.compile(r"[a-z0-9][a-z0-9-]{1,62}(/[^\x00-\x1f]{1,100})?\Z")
_CURSOR = re.compile(r"(\d{1,17})-(\d{1,10})\Z")
_ACTION = re.compile(r"[a-z]{1,20}(\.[a-z_]{1,20})?\Z")
SlugQuery = Annotated[str | None, QueryParameter(pattern=_SLUG, description="an asset or pilot slug")]


def viewer(request: Request[Any, Any, Any]) -> Actor | None:
    """Who reads: the token's actor when one was sent (reads may be anonymous)."""
    actor: Actor | None = request.state.get("actor")
    return actor


def _actor(value: str | None) -> str | None:
    if value is not None and not _ACTOR.match(value):
        raise InvalidInput(
            f"{value[:60]!r} is not a token or a team",
            [
                FieldProblem(
                    "/query/actor",
                    "is neither team/name (as entries show it) nor a team slug",
                    "write e.g. claims-ai/ci, or claims-ai for every token of the team",
                )
            ],
        )
    return value


def parse_cursor(value: str | None) -> history.Cursor | None:
    if value is None:
        return None
    found = _CURSOR.match(value)
    if found is None or int(found[2]) > MAX_ID:
        raise InvalidInput(
            f"{value[:40]!r} is not a journal cursor",
            [FieldProblem("/query/cursor", "is not a cursor this API gave", "pass `next_cursor` of the previous page")],
        )
    return history.Cursor.parse(value)


def _actions(values: list[str]) -> tuple[str, ...]:
    for value in values:
        if not _ACTION.match(value):
            raise InvalidInput(
                f"{value[:60]!r} is not an action",
                [
                    FieldProblem(
                        "/query/action",
                        "an action is lowercase words joined by a dot",
                        "write e.g. label.move, asset.publish, or a family such as label",
                    )
                ],
            )
    return tuple(values)


class JournalController(Controller):
    path = "/api/v1/journal"
    tags = ["history"]

    @get("/", summary="Every change, newest first: who did what to which asset, pilot, adoption or token, when")
    async def list(
        self,
        request: Request[Any, Any, Any],
        subject: Annotated[
            str | None,
            QueryParameter(
                max_length=100,
                description="asset:SLUG, pilot:SLUG, adoption:ID or token:ID (tokens: admin only)",
            ),
        ] = None,
        asset: SlugQuery = None,
        pilot: Annotated[str | None, QueryParameter(pattern=_SLUG, description="changes concerning this pilot")] = None,
        by: Annotated[
            str | None,
            QueryParameter(
                name="actor",
                max_length=200,
                description="team/name of a token, or a team (every token of it)",
            ),
        ] = None,
        team: Annotated[str | None, QueryParameter(pattern=_SLUG, description="changes to what this team owns")] = None,
        kind: Annotated[Kind | None, QueryParameter(description="changes to assets of this kind")] = None,
        action: Annotated[
            list[str] | None,
            QueryParameter(description="repeatable: an action (label.move) or a family (label)"),
        ] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        cursor: Annotated[
            str | None, QueryParameter(max_length=40, description="`next_cursor` of the page before")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500, description="entries per page")] = 50,
    ) -> JournalPage:
        query = history.JournalQuery(
            subject=subject,
            asset=asset,
            pilot=pilot,
            actor=_actor(by),
            team=team,
            kind=kind,
            actions=_actions(action or []),
            since=parse_instant(since, "since"),
            until=parse_instant(until, "until"),
        )
        return await history.journal_page(query, viewer(request), cursor=parse_cursor(cursor), limit=limit)


class LabelController(Controller):
    """Labels: move, remove, read now or at a time, and their history."""

    path = "/api/v1/assets/{slug:str}/labels"
    tags = ["labels"]

    @put("/{label:str}", opt={"scope": "publish"}, summary="Point a label at a version (with an optional reason)")
    async def move_label(
        self, slug: Slug, label: Label, data: JSONBody[LabelRequest], actor: NamedDependency[Actor]
    ) -> AssetOut:
        return await curation.move_label(slug, label, data, actor)

    @delete("/{label:str}", opt={"scope": "publish"}, status_code=200, summary="Remove a label")
    async def remove_label(
        self,
        slug: Slug,
        label: Label,
        actor: NamedDependency[Actor],
        reason: Annotated[str, QueryParameter(max_length=2000, description="why (kept in the label's history)")] = "",
    ) -> AssetOut:
        return await curation.remove_label(slug, label, actor, reason=reason)

    @get(
        "/{label:str}/history",
        summary="Every move of a label, oldest first: from, to, who, when, why",
    )
    async def label_history(self, slug: Slug, label: Label) -> list[LabelMove]:
        return await history.label_history(slug, label)

    @get("/{label:str}", summary="Where a label points, now or at a time (?at=)")
    async def label(
        self,
        slug: Slug,
        label: Label,
        at: Annotated[
            str | None, QueryParameter(description="a date or ISO 8601 time: where the label pointed then")
        ] = None,
    ) -> LabelAt:
        return await history.label_at(slug, label, parse_instant(at, "at"))


class DiffController(Controller):
    path = "/api/v1/assets"
    tags = ["history"]

    @get("/{slug:str}/diff", summary="What changed between two versions: fields, spec, prompt lines, files")
    async def diff(
        self,
        slug: Slug,
        from_version: Annotated[str, QueryParameter(name="from", min_length=1, max_length=100)],
        to_version: Annotated[str, QueryParameter(name="to", min_length=1, max_length=100)],
    ) -> VersionDiff:
        return await diffs.diff_versions(slug, from_version, to_version)
