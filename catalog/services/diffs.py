"""What changed between two versions of an asset: manifest values, prompt templates by line, attached files.

Breaking changes are called out by kind, since that is what an adopting pilot must act on: a prompt whose
variables, output schema or template format changed no longer fits the code that fills it in.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Literal

import anyio

from catalog.errors import FieldProblem, InvalidInput
from catalog.linediff import line_diff, unified_diff
from catalog.schemas import FileDiff, TemplateLine, ValueChange, VersionDiff, VersionOut
from catalog.services.assets import get_version
from catalog.templates import template_variables

__all__ = ["MAX_DIFF_BYTES", "MAX_TEMPLATE_LINES", "diff_versions"]

MAX_TEMPLATE_LINES = 5_000  # a prompt's diff shown line by line up to this (real prompts are far shorter)
MAX_DIFF_BYTES = 1_000_000  # larger text files are compared by digest only (a line diff of them helps nobody)
Change = Literal["added", "removed", "changed", "unchanged"]
_CLOSERS = {"{{": "}}", "{%": "%}"}
_SINGLE = re.compile(r"\{[^{}]*\}")  # an f-string placeholder
_NAME = re.compile(r"\w+(?:[.-]\w+)*")
_CACHE_CHARS = 32_000_000  # text kept in cached diffs (versions are immutable, so a pair's diff never changes)
_cache: OrderedDict[tuple[str, ...], tuple[VersionDiff, int]] = OrderedDict()
_limiter = anyio.CapacityLimiter(2)  # diffs computed at once, off the event loop
_NOT_COMPARED = {"version", "files", "changelog"}  # the version itself; files are diffed on their own


def _pointer(parts: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def value_changes(before: Any, after: Any, path: list[str] | None = None) -> list[ValueChange]:
    """Every changed value between two JSON documents, as JSON pointers (lists of equal length item by item)."""
    path = path or []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[ValueChange] = []
        for key in [*before, *(k for k in after if k not in before)]:
            if key not in after:
                changes.append(ValueChange(pointer=_pointer([*path, key]), change="removed", before=before[key]))
            elif key not in before:
                changes.append(ValueChange(pointer=_pointer([*path, key]), change="added", after=after[key]))
            else:
                changes.extend(value_changes(before[key], after[key], [*path, key]))
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            c for i, (b, a) in enumerate(zip(before, after, strict=True)) for c in value_changes(b, a, [*path, str(i)])
        ]
    if before == after:
        return []
    return [ValueChange(pointer=_pointer(path), change="changed", before=before, after=after)]


def _prompt_text(spec: dict[str, Any]) -> str:
    if isinstance(spec.get("template"), str):
        return str(spec["template"])
    messages = spec.get("messages") or []
    return "\n".join(f"[{m.get('role', '?')}] {m.get('content', '')}" for m in messages if isinstance(m, dict))


def _variables(spec: dict[str, Any]) -> set[str]:
    try:
        return template_variables(_prompt_text(spec), str(spec.get("template_format") or "mustache"))
    except Exception:  # a template the parser refuses: the declared variables are what users rely on
        return {str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in spec.get("variables") or []}


def placeholder_names(line: str) -> set[str]:
    """The names inside a line's template delimiters (`{{ }}`, `{% %}`, `{ }`), found in linear time.

    A lazy regex (`\\{\\{.*?\\}\\}`) rescans to the end of the line from every unclosed `{{`: quadratic on a
    hostile line. Here a close that is not ahead of the last one in the line is never searched for.
    """
    last = {opener: (closer, line.rfind(closer)) for opener, closer in _CLOSERS.items()}
    names: set[str] = set()
    at = 0
    while (start := line.find("{", at)) != -1:
        opener = line[start : start + 2]
        if opener in last:
            closer, final = last[opener]
            close = line.find(closer, start + 2) if start + 2 <= final else -1
            if close == -1:
                at = start + 1
                continue
            names.update(_NAME.findall(line, start + 2, close))
            at = close + 2
        elif single := _SINGLE.match(line, start):
            names.update(_NAME.findall(single.group()))
            at = single.end()
        else:
            at = start + 1
    return names


def template_lines(
    before: dict[str, Any], after: dict[str, Any], names: set[str], notes: list[str]
) -> list[TemplateLine]:
    """The prompt's template (or messages) diffed by line, each line with the variables (of `names`) it uses."""

    def line(op: Any, text: str) -> TemplateLine:
        used = sorted(names & placeholder_names(text)) if names and "{" in text else []
        return TemplateLine(op=op, text=text, variables=used)

    a, b = _prompt_text(before).splitlines(), _prompt_text(after).splitlines()
    found = line_diff(a, b)
    if not found.exact:
        notes.append(f"the template changed too much to align line by line ({len(a):,} and {len(b):,} lines): "
                     "its changed part is shown as removed, then added")  # fmt: skip
    shown: list[TemplateLine] = []
    for tag, i1, i2, j1, j2 in found.opcodes:  # only the lines shown are built, however long the diff
        shown += [
            line(" " if tag == "equal" else "-", t) for t in a[i1 : min(i2, i1 + MAX_TEMPLATE_LINES - len(shown))]
        ]
        if tag != "equal":
            shown += [line("+", t) for t in b[j1 : min(j2, j1 + MAX_TEMPLATE_LINES - len(shown))]]
    total = sum(i2 - i1 + (j2 - j1 if tag != "equal" else 0) for tag, i1, i2, j1, j2 in found.opcodes)
    if total > MAX_TEMPLATE_LINES:
        notes.append(f"the template diff has {total:,} lines; the first {MAX_TEMPLATE_LINES:,} are shown")
    return shown


def _breaking(kind: str, before: dict[str, Any], after: dict[str, Any], gone: set[str], new: set[str]) -> list[str]:
    """The changes that break an adopter, by kind (`gone` and `new`: a prompt's removed and added variables)."""
    found = []
    if kind == "prompt":
        if gone or new:
            found.append(
                "the variable set changed"
                + (f"; removed: {', '.join(sorted(gone))}" if gone else "")
                + (f"; added: {', '.join(sorted(new))}" if new else "")
            )
        if before.get("output_schema") != after.get("output_schema"):
            found.append("the output schema changed")
        if before.get("template_format") != after.get("template_format"):
            found.append(
                f"the template format changed ({before.get('template_format')} -> {after.get('template_format')})"
            )
    elif kind == "eval_harness":
        names = [{str(m.get("name")) for m in s.get("metrics") or [] if isinstance(m, dict)} for s in (before, after)]
        if gone := names[0] - names[1]:
            found.append(f"metrics removed: {', '.join(sorted(gone))}")
    elif kind == "retrieval_pipeline":
        if (before.get("embedder") or {}).get("dimensions") != (after.get("embedder") or {}).get("dimensions"):
            found.append("the embedding dimensions changed (indexes must be rebuilt)")
    elif kind == "monitor" and before.get("signal") != after.get("signal"):
        found.append("the monitored signal changed")
    return found


def file_diffs(before: VersionOut, after: VersionOut) -> list[FileDiff]:
    """Attached files by path: text as a unified diff, binary (and very large) files by digest."""
    old, new = {f.path: f for f in before.files}, {f.path: f for f in after.files}
    diffs = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        binary = any(f is not None and f.encoding != "utf-8" for f in (a, b))
        change: Change = (
            "added" if a is None else "removed" if b is None else "unchanged" if a.sha256 == b.sha256 else "changed"
        )
        unified = ""
        small = all(f is None or f.size <= MAX_DIFF_BYTES for f in (a, b))
        if change != "unchanged" and not binary and small:
            unified = unified_diff(
                a.content.splitlines(keepends=True) if a else [],
                b.content.splitlines(keepends=True) if b else [],
                fromfile=f"{before.version}/{path}",
                tofile=f"{after.version}/{path}",
            )
        diffs.append(
            FileDiff(
                path=path,
                change=change,
                binary=binary,
                before_sha256=a.sha256 if a else None,
                after_sha256=b.sha256 if b else None,
                unified=unified,
            )
        )
    return diffs


def compare(before: VersionOut, after: VersionOut) -> VersionDiff:
    """The diff itself: CPU only, its cost bounded by `catalog.linediff` and `MAX_DIFF_BYTES`."""
    manifests = [{k: v for k, v in m.items() if k not in _NOT_COMPARED} for m in (before.manifest, after.manifest)]
    notes: list[str] = []
    prompt = before.kind == "prompt"
    old, new = (_variables(before.spec), _variables(after.spec)) if prompt else (set(), set())
    return VersionDiff(
        asset=before.asset,
        kind=before.kind,
        from_version=before.version,
        to_version=after.version,
        identical=before.content_digest == after.content_digest,
        breaking=_breaking(before.kind, before.spec, after.spec, old - new, new - old),
        changes=value_changes(manifests[0], manifests[1]),
        template=template_lines(before.spec, after.spec, old | new, notes) if prompt else None,
        variables_added=sorted(new - old),
        variables_removed=sorted(old - new),
        files=file_diffs(before, after),
        notes=notes,
    )


async def diff_versions(slug: str, from_version: str, to_version: str) -> VersionDiff:
    """The difference from one published version to another (either order; yanked versions included).

    Computed in a worker thread, at most two at once, and kept per version pair: versions never change.
    """
    if not from_version or not to_version:
        missing = "/query/from" if not from_version else "/query/to"
        raise InvalidInput(
            "a diff needs two versions",
            [FieldProblem(missing, "is missing", "give both: ?from=1.0.0&to=1.1.0")],
        )
    before, after = await get_version(slug, from_version), await get_version(slug, to_version)
    key = (slug, before.version, before.content_digest, after.version, after.content_digest)
    if (cached := _cache.get(key)) is not None:
        _cache.move_to_end(key)
        return cached[0]
    found = await anyio.to_thread.run_sync(compare, before, after, limiter=_limiter)
    _cache[key] = (found, _size(found))
    while sum(size for _, size in _cache.values()) > _CACHE_CHARS:
        _cache.popitem(last=False)
    return found


def _size(diff: VersionDiff) -> int:
    """About how much text a diff holds (its lines, unified diffs and changed values), for the cache's bound."""
    lines = sum(len(line.text) + 16 for line in diff.template or [])
    return lines + sum(len(f.unified) for f in diff.files) + sum(len(repr(c)) for c in diff.changes)
