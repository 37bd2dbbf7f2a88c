"""The paths of a version's files: canonical, so every consumer can write them into a folder.

A published path is written by `registry pull`, into archives and onto every adopter's disk, on file systems
that fold case or normalize Unicode. One odd path (`x` beside `x/y`, `asset.yaml`, a bidi override) would break
the asset for everyone, so the rules are checked at publish and import, where the publisher can still fix it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["MANIFEST_NAME", "MAX_SEGMENT_BYTES", "path_clash", "path_problem"]

MANIFEST_NAME = "asset.yaml"
MAX_SEGMENT_BYTES = 255  # a file or folder name on ext4, APFS and NTFS
_INVISIBLE = {"Cc": "control", "Cf": "format", "Zl": "line separator", "Zp": "paragraph separator"}


def _key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def path_problem(path: str) -> str | None:
    """What breaks the rules in one path (relative, `/`-separated, visible characters), or None."""
    if "\\" in path:
        return "uses a backslash; separate folders with /"
    if path.startswith("/"):
        return "is absolute; give it relative to the asset folder"
    if path.endswith("/"):
        return "ends with /; name a file, not a folder"
    for segment in path.split("/"):
        if segment == "..":
            return "climbs out of the asset folder with `..`; give the path inside it"
        if segment in ("", "."):
            return "has an empty or `.` segment; write the plain path, e.g. prompts/a.txt"
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"has a name of {len(segment.encode())} bytes; a file or folder name is at most {MAX_SEGMENT_BYTES}"
    for char in path:
        kind = _INVISIBLE.get(unicodedata.category(char))
        if kind:
            return f"holds the {kind} character U+{ord(char):04X}, which does not show or breaks lines; remove it"
    if _key(path) == MANIFEST_NAME:
        return f"is {MANIFEST_NAME}, which the registry writes from the manifest itself; rename the file"
    return None


def path_clash(paths: Sequence[str]) -> tuple[int, str] | None:
    """The first path that clashes with another (same name once case and Unicode form are ignored, or a file
    that is also a folder), with what to do; None when all can live in one folder."""
    seen: dict[str, int] = {}
    for index, path in enumerate(paths):
        key = _key(path)
        if key in seen:
            return index, (
                f"{path!r} and {paths[seen[key]]!r} are the same file where case or Unicode form is ignored "
                "(macOS, Windows); rename one"
            )
        seen[key] = index
    for key, index in seen.items():
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in seen:
                return seen[folder], (
                    f"{paths[seen[folder]]!r} is a file, and {paths[index]!r} needs it to be a folder; rename one"
                )
    return None
