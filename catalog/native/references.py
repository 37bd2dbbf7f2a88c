"""Files a native file references (`file://prompts.txt`, includes, partials): attached when they resolve inside
the import root, recorded as unresolved otherwise. Never fetched, never executed, never read outside the root.
"""

from __future__ import annotations

import re

from catalog.native.base import Source

__all__ = ["attach_refs"]

_FUNCTION_SUFFIX = re.compile(r"^(.*\.(?:py|js|ts|mjs|cjs)):[A-Za-z_][\w.]*$")


def attach_refs(source: Source, refs: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """Attached files by relative path, and the references that could not be attached (in first-seen order)."""
    attached: dict[str, bytes] = {}
    unresolved: list[str] = []
    for ref in dict.fromkeys(refs):
        path = ref.removeprefix("file://")
        if "://" in path:
            continue  # URLs and huggingface:// datasets are recorded where they appear, never fetched
        match = _FUNCTION_SUFFIX.match(path)
        path = match.group(1) if match else path
        found = _expand(source, path)
        if not found:
            unresolved.append(ref)
        for rel, raw in found.items():
            attached.setdefault(rel, raw)
    attached.pop(source.name, None)
    return attached, unresolved


def _expand(source: Source, path: str) -> dict[str, bytes]:
    if source.folder is None:
        return {}
    if any(ch in path for ch in "*?["):
        return source.folder.glob(path)
    found = source.reference(path)
    return dict([found]) if found is not None else {}
