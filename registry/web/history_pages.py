"""History pages: "what changed" (/changes) with its Atom feed, version diffs, and the activity of one asset
or pilot (shown on their pages)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from piccolo.query.methods.select import Select

from catalog.errors import FieldProblem, InvalidInput, NotFound
from catalog.schemas import KINDS, JournalEntryOut, VersionDiff
from catalog.services import assets, diffs, history
from catalog.statements import statement
from registry.api.history import parse_cursor, viewer

__all__ = ["CHANGE_ACTIONS", "HistoryPages", "activity", "describe"]

# What "what changed" shows (bookkeeping such as token or deadline edits stays in the journal API).
CHANGE_ACTIONS: dict[str, str] = {
    "asset.publish": "published",
    "version.yank": "yanked",
    "asset.deprecate": "deprecated",
    "label.move": "moved a label",
    "label.remove": "removed a label",
    "adoption.record": "adopted",
    "adoption.retire": "retired an adoption",
    "pilot.create": "started a pilot",
    "pilot.gate": "decided a gate",
}
FAMILIES = ("asset", "version", "label", "adoption", "pilot")
_SLUG = r"[a-z0-9][a-z0-9-]{1,62}"


def describe(entry: JournalEntryOut) -> str:
    """One line a person reads: what happened, to what, and why."""
    d, subject = entry.detail, entry.subject.split(":", 1)[-1]
    match entry.action:
        case "label.move":
            start = f"from {d.get('from')} " if d.get("from") else ""
            text = f"{entry.asset}: {d.get('label')} {start}→ {d.get('to')}"
        case "label.remove":
            text = f"{entry.asset}: {d.get('label')} removed (was {d.get('from')})"
        case "adoption.record" | "adoption.retire":
            text = f"{d.get('pilot')} · {subject}" + (
                f" ({str(d.get('mode')).replace('_', ' ')})" if d.get("mode") else ""
            )
        case "pilot.gate":
            text = f"{entry.pilot}: gate {d.get('stage')} {d.get('decision')} by {d.get('decided_by')}"
        case "asset.deprecate":
            text = f"{subject}" + (f", successor {d['successor']}" if d.get("successor") else "")
        case _:
            text = subject
    reason = d.get("reason")
    return f"{text}: {reason}" if reason and entry.action != "asset.deprecate" else text


@statement
def _latest_changes(asset: str | None, pilot: str | None, *, limit: int) -> Select[Any]:
    query = history.JournalQuery(asset=asset, pilot=pilot, actions=tuple(CHANGE_ACTIONS))
    return history.journal_select(query, None).limit(limit)


async def activity(*, asset: str | None = None, pilot: str | None = None, limit: int = 15) -> list[JournalEntryOut]:
    """The latest changes of one asset or pilot, for its page (as the public journal shows them)."""
    return [history.entry_out(dict(r)) for r in await _latest_changes.run(asset, pilot, limit=limit)]


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """A filter from the page's form: empty means any (a form sends every field)."""
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(
            f"{value[:40]!r} is not a {name}",
            [
                FieldProblem(
                    f"/query/{name}", f"is not one of {', '.join(allowed)}", f"pick one of {', '.join(allowed)}"
                )
            ],
        )
    return value


def _query(team: str | None, kind: str | None, action: str | None) -> history.JournalQuery:
    kind, action = _choice("kind", kind, KINDS), _choice("action", action, FAMILIES)
    if team and not re.fullmatch(_SLUG, team):
        raise InvalidInput(
            f"{team[:40]!r} is not a team",
            [FieldProblem("/query/team", "is not a team slug", "write a team such as claims-ai, or leave it empty")],
        )
    chosen = tuple(a for a in CHANGE_ACTIONS if action is None or a.startswith(f"{action}."))
    return history.JournalQuery(team=team or None, kind=kind, actions=chosen)


def _atom(entries: list[JournalEntryOut], base: str, feed_url: str) -> bytes:
    """An Atom 1.0 feed of the changes (built as XML, so every value is escaped)."""
    ns = "http://www.w3.org/2005/Atom"
    feed = ET.Element("feed", xmlns=ns)
    ET.SubElement(feed, "title").text = "Platform asset registry: what changed"
    ET.SubElement(feed, "id").text = feed_url
    ET.SubElement(feed, "link", rel="self", href=feed_url)
    ET.SubElement(feed, "link", rel="alternate", href=f"{base}/changes")
    updated = entries[0].at if entries else datetime.now(UTC)
    ET.SubElement(feed, "updated").text = updated.isoformat()
    for e in entries:
        item = ET.SubElement(feed, "entry")
        ET.SubElement(item, "id").text = f"{base}/api/v1/journal#{e.id}"
        ET.SubElement(item, "title").text = f"{CHANGE_ACTIONS.get(e.action, e.action)}: {describe(e)}"
        ET.SubElement(item, "updated").text = e.at.isoformat()
        ET.SubElement(ET.SubElement(item, "author"), "name").text = e.actor
        target = f"/assets/{e.asset}" if e.asset else f"/pilots/{e.pilot}" if e.pilot else "/changes"
        ET.SubElement(item, "link", href=f"{base}{target}")
        ET.SubElement(item, "category", term=e.action)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


class HistoryPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/changes", name="changes-page")
    async def changes(
        self,
        request: Request[Any, Any, Any],
        team: Annotated[str | None, QueryParameter(max_length=63)] = None,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        action: Annotated[str | None, QueryParameter(max_length=40)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Template:
        query, after = _query(team, kind, action), parse_cursor(cursor)
        page = await history.journal_page(query, viewer(request), cursor=after, limit=50)
        filters = {k: v for k, v in {"team": team, "kind": kind, "action": action}.items() if v}
        return Template(
            template_name="changes.html",
            context={"section": "changes", "page": page, "filters": filters, "labels": CHANGE_ACTIONS,
                     "describe": describe},
        )  # fmt: skip

    @get("/changes.atom", name="changes-feed", media_type="application/atom+xml")
    async def feed(
        self,
        request: Request[Any, Any, Any],
        team: Annotated[str | None, QueryParameter(max_length=63)] = None,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        action: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[bytes]:
        page = await history.journal_page(_query(team, kind, action), None, limit=50)
        base = str(request.base_url).rstrip("/")
        return Response(_atom(page.items, base, str(request.url)), media_type="application/atom+xml; charset=utf-8")

    @get("/assets/{slug:str}/diff", name="diff-page")
    async def diff(
        self,
        slug: FromPath[str],
        from_version: Annotated[str | None, QueryParameter(name="from", max_length=100)] = None,
        to_version: Annotated[str | None, QueryParameter(name="to", max_length=100)] = None,
    ) -> Template:
        try:
            asset = await assets.get_asset(slug)
            order = [v.version for v in reversed(asset.versions)]  # oldest first
            to = to_version or asset.latest_version or (order[-1] if order else "")
            start = from_version or previous_version(order, to) or to
            found: VersionDiff = await diffs.diff_versions(slug, start, to)
        except NotFound as err:
            raise NotFoundException(detail=err.detail) from err
        return Template(
            template_name="diff.html",
            context={"section": "search", "asset": asset, "diff": found, "versions": order},
        )


def previous_version(order: list[str], version: str) -> str | None:
    """The version published before `version` (versions oldest first), if any."""
    at = order.index(version) if version in order else -1
    return order[at - 1] if at > 0 else None
