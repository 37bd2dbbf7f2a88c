"""Reading the journal: every change newest first, a label's moves, and where a label pointed at a time.

The journal is the only history there is (labels keep just where they point now), so label time travel is a
replay of the label's journaled moves; moves of one label are journaled under the asset's lock, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.methods.select import Select

from catalog.errors import FieldProblem, InvalidInput, NotFound
from catalog.schemas import Actor, JournalEntryOut, JournalPage, LabelAt, LabelMove, utc
from catalog.services.assets import asset_exists
from catalog.statements import statement
from catalog.tables import Asset, JournalEntry, Label

__all__ = [
    "Cursor",
    "JournalQuery",
    "entry_out",
    "journal_page",
    "journal_select",
    "label_at",
    "label_history",
    "label_moves",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SUBJECT_KINDS = ("asset", "pilot", "adoption", "token")


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last entry's time and id (pages run newest first by time, then id)."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.at - _EPOCH) // timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        micros, _, entry = text.partition("-")
        return cls(_EPOCH + timedelta(microseconds=int(micros)), int(entry))


@dataclass(frozen=True)
class JournalQuery:
    """Filters of a journal read; each given one must match."""

    subject: str | None = None
    asset: str | None = None
    pilot: str | None = None
    actor: str | None = None  # "team/name" exactly, or a team: every token of it
    team: str | None = None
    kind: str | None = None  # changes to assets of this kind
    actions: tuple[str, ...] = ()  # "label.move", or a family: "label"
    since: datetime | None = None
    until: datetime | None = None


def _subject_condition(subject: str) -> Any:
    kind, _, name = subject.partition(":")
    if kind not in _SUBJECT_KINDS or not name:
        raise InvalidInput(
            f"{subject!r} is not a subject",
            [
                FieldProblem(
                    "/query/subject",
                    "a subject is KIND:NAME with KIND one of asset, pilot, adoption, token",
                    "write e.g. asset:claims-triage-prompt, pilot:motor-fnol-intake, adoption:12 or token:3",
                )
            ],
        )
    if kind == "asset":
        return JournalEntry.asset == name.partition("@")[0]
    if kind == "pilot":
        return JournalEntry.pilot == name
    if not name.isdigit() or len(name) > 10:
        raise InvalidInput(
            f"{subject!r} does not name a {kind} id",
            [FieldProblem("/query/subject", f"{kind} subjects are numeric ids", f"write e.g. {kind}:12")],
        )
    if kind == "token":
        return JournalEntry.subject == subject
    field = "payload->>'adoption'" if isinstance(JournalEntry._meta.db, PostgresEngine) else (
        "CAST(json_extract(payload, '$.adoption') AS TEXT)"
    )  # fmt: skip
    return JournalEntry.action.like("adoption.%") & WhereRaw(f"{field} = {{}}", str(int(name)))


def _conditions(query: JournalQuery, viewer: Actor | None) -> list[Any]:
    conditions: list[Any] = []
    if query.subject:
        conditions.append(_subject_condition(query.subject))
    if query.asset:
        conditions.append(JournalEntry.asset == query.asset)
    if query.pilot:
        conditions.append(JournalEntry.pilot == query.pilot)
    if query.team:
        conditions.append(JournalEntry.team == query.team)
    if query.kind:
        conditions.append(JournalEntry.asset.is_in(Asset.select(Asset.slug).where(Asset.kind == query.kind)))
    if query.actor:
        exact = "/" in query.actor
        conditions.append(JournalEntry.actor == query.actor if exact else JournalEntry.actor.like(f"{query.actor}/%"))
    if query.actions:
        named = [a for a in query.actions if "." in a]
        either: Any = JournalEntry.action.is_in(named) if named else None
        for family in (a for a in query.actions if "." not in a):
            like = JournalEntry.action.like(f"{family}.%")
            either = like if either is None else either | like
        conditions.append(either)
    if query.since:
        conditions.append(JournalEntry.at >= query.since)
    if query.until:
        conditions.append(JournalEntry.at < query.until)
    if viewer is None or not viewer.is_admin:  # tokens are the admin's; webhooks their team's
        conditions.append(JournalEntry.action.not_like("token.%"))
        public = JournalEntry.action.not_like("webhook.%")
        conditions.append(public if viewer is None else public | (JournalEntry.team == viewer.team))
    return conditions


def entry_out(row: dict[str, Any]) -> JournalEntryOut:
    payload = row["payload"]
    return JournalEntryOut(
        id=row["id"],
        at=utc(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        asset=row["asset"],
        pilot=row["pilot"],
        team=row["team"],
        detail=json.loads(payload) if isinstance(payload, str) else dict(payload or {}),
    )


def journal_select(query: JournalQuery, viewer: Actor | None) -> Select[Any]:
    """The entries `query` and what `viewer` may see select, newest first (by time, then id)."""
    select = JournalEntry.select()
    for condition in _conditions(query, viewer):
        select = select.where(condition)
    return select.order_by(JournalEntry.at, ascending=False).order_by(JournalEntry.id, ascending=False)


async def journal_page(
    query: JournalQuery, viewer: Actor | None, *, cursor: Cursor | None = None, limit: int = 50
) -> JournalPage:
    """One page of the journal, newest first (by time, then id). The cursor is the last entry seen: paging
    never repeats or skips an entry that was there when it started, whatever is written meanwhile."""
    select = journal_select(query, viewer)
    if cursor is not None:
        select = select.where(
            (JournalEntry.at < cursor.at) | ((JournalEntry.at == cursor.at) & (JournalEntry.id < cursor.id))
        )
    rows = await select.limit(limit + 1)
    items = [entry_out(dict(r)) for r in rows[:limit]]
    last = Cursor(items[-1].at, items[-1].id) if len(rows) > limit else None
    return JournalPage(items=items, next_cursor=str(last) if last else None)


@statement
def _label_entries(slug: str) -> Select[Any]:
    return (
        JournalEntry.select(JournalEntry.id, JournalEntry.at, JournalEntry.actor, JournalEntry.action,
                            JournalEntry.payload)
        .where((JournalEntry.asset == slug) & JournalEntry.action.is_in(["label.move", "label.remove"]))
        .order_by(JournalEntry.id)
        .output(load_json=True)
    )  # fmt: skip


async def label_moves(slug: str) -> dict[str, list[LabelMove]]:
    """Every move of every label of an asset, oldest first, by label (404 when the asset does not exist)."""
    if not await asset_exists.run(slug):
        raise NotFound(f"no asset is named {slug!r}", code="asset-not-found")
    rows = await _label_entries.run(slug)
    moves: dict[str, list[LabelMove]] = {}
    for row in rows:
        label = str(row["payload"].get("label"))
        moves.setdefault(label, []).append(
            LabelMove(
                label=label,
                action="move" if row["action"] == "label.move" else "remove",
                from_version=row["payload"].get("from"),
                to_version=row["payload"].get("to"),
                moved_by=row["actor"],
                moved_at=utc(row["at"]),
                reason=row["payload"].get("reason") or "",
                journal_id=row["id"],
            )
        )
    return moves


async def label_history(slug: str, label: str) -> list[LabelMove]:
    """Every move of one label, oldest first (404 when the asset does not exist)."""
    return (await label_moves(slug)).get(label, [])


async def label_at(slug: str, label: str, at: datetime | None) -> LabelAt:
    """Which version a label pointed at, at `at` (None: now)."""
    if at is None:
        current = (
            await Label.select(Label.version.version.as_alias("version"), Label.moved_by, Label.moved_at)
            .where(Label.key == f"{slug}:{label}")
            .first()
        )
        if current is None:
            await _label_missing(slug, label)
        moves = await label_history(slug, label)
        reason = moves[-1].reason if moves and moves[-1].to_version == current["version"] else ""
        return LabelAt(asset=slug, label=label, at=None, version=current["version"], moved_by=current["moved_by"],
                       moved_at=utc(current["moved_at"]), reason=reason)  # fmt: skip
    every = await label_history(slug, label)
    moves = [m for m in every if m.moved_at <= at]
    if not moves or moves[-1].to_version is None:
        when = (
            f"it was removed at {moves[-1].moved_at.isoformat()}"
            if moves
            else f"it was first set at {every[0].moved_at.isoformat()}"
            if every
            else "it was never set"
        )
        raise NotFound(f"{slug} had no label {label!r} at {at.isoformat()}: {when}", code="label-not-set")
    last = moves[-1]
    return LabelAt(asset=slug, label=label, at=at, version=last.to_version or "", moved_by=last.moved_by,
                   moved_at=last.moved_at, reason=last.reason)  # fmt: skip


async def _label_missing(slug: str, label: str) -> NoReturn:
    if not await asset_exists.run(slug):
        raise NotFound(f"no asset is named {slug!r}", code="asset-not-found")
    raise NotFound(f"{slug} has no label {label!r}", code="label-not-found")
