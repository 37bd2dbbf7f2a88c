"""Files a native file references (`file://prompts.txt`, includes, partials): attached when they resolve inside
the import root, recorded as unresolved otherwise. Never fetched, never executed, never read outside the root.
"""

from __future__ import annotations

import re

from catalog.native.base import MAX_FILE_BYTES, Source

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
    if source.folder is None or source.root is None:
        return {}
    if any(ch in path for ch in "*?["):
        if path.startswith("/") or ".." in path.split("/"):
            return {}
        matches = sorted(p for p in source.folder.glob(path) if p.is_file())
    else:
        target = source.reference(path)
        matches = [target] if target is not None else []
    out: dict[str, bytes] = {}
    for match in matches:
        resolved = match.resolve()
        if not resolved.is_relative_to(source.root.resolve()) or resolved.stat().st_size > MAX_FILE_BYTES:
            continue
        if not resolved.is_relative_to(source.folder.resolve()):
            continue  # attached paths are relative to the imported file's folder and never climb out of it
        out[source.relative(resolved)] = resolved.read_bytes()
    return out
