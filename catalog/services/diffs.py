"""What changed between two versions of an asset: manifest values, prompt templates by line, attached files.

Breaking changes are called out by kind, since that is what an adopting pilot must act on: a prompt whose
variables, output schema or template format changed no longer fits the code that fills it in.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from catalog.errors import FieldProblem, InvalidInput
from catalog.schemas import FileDiff, TemplateLine, ValueChange, VersionDiff, VersionOut
from catalog.services.assets import get_version
from catalog.templates import template_variables

__all__ = ["MAX_DIFF_BYTES", "diff_versions"]

MAX_DIFF_BYTES = 1_000_000  # larger text files are compared by digest only (a line diff of them helps nobody)
Change = Literal["added", "removed", "changed", "unchanged"]
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{[^{}]*\}")  # mustache/jinja/f-string delimiters
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


def template_lines(before: dict[str, Any], after: dict[str, Any], names: set[str]) -> list[TemplateLine]:
    """The prompt's template (or messages) diffed by line, each line with the variables (of `names`) it uses."""
    word = (
        re.compile(r"\b(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b") if names else None
    )

    def line(op: Any, text: str) -> TemplateLine:
        inside = " ".join(_PLACEHOLDER.findall(text))  # only names inside template delimiters are variables
        used = sorted(set(word.findall(inside))) if word and inside else []
        return TemplateLine(op=op, text=text, variables=used)

    a, b = _prompt_text(before).splitlines(), _prompt_text(after).splitlines()
    lines: list[TemplateLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines.extend(line(" ", t) for t in a[i1:i2])
            continue
        lines.extend(line("-", t) for t in a[i1:i2])
        lines.extend(line("+", t) for t in b[j1:j2])
    return lines


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
            unified = "".join(
                difflib.unified_diff(
                    a.content.splitlines(keepends=True) if a else [],
                    b.content.splitlines(keepends=True) if b else [],
                    fromfile=f"{before.version}/{path}",
                    tofile=f"{after.version}/{path}",
                )
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


async def diff_versions(slug: str, from_version: str, to_version: str) -> VersionDiff:
    """The difference from one published version to another (either order; yanked versions included)."""
    if not from_version or not to_version:
        missing = "/query/from" if not from_version else "/query/to"
        raise InvalidInput(
            "a diff needs two versions",
            [FieldProblem(missing, "is missing", "give both: ?from=1.0.0&to=1.1.0")],
        )
    before, after = await get_version(slug, from_version), await get_version(slug, to_version)
    manifests = [{k: v for k, v in m.items() if k not in _NOT_COMPARED} for m in (before.manifest, after.manifest)]
    changes = value_changes(manifests[0], manifests[1])
    files = file_diffs(before, after)
    prompt = before.kind == "prompt"
    old, new = (_variables(before.spec), _variables(after.spec)) if prompt else (set(), set())
    lines = template_lines(before.spec, after.spec, old | new) if prompt else None
    return VersionDiff(
        asset=slug,
        kind=before.kind,
        from_version=before.version,
        to_version=after.version,
        identical=before.content_digest == after.content_digest,
        breaking=_breaking(before.kind, before.spec, after.spec, old - new, new - old),
        changes=changes,
        template=lines,
        variables_added=sorted(new - old),
        variables_removed=sorted(old - new),
        files=files,
    )
