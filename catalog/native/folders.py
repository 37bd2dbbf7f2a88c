"""Where a native file's references are read from: the folder being imported, or the files attached to a version.

One set of rules for both, so what an import reads from disk is what publishing reads from the attached files:
a reference is relative to the referring file's folder, never absolute, never climbing out (`..`), never a URL,
and a glob matches the way promptfoo's and Python's globs do (`*` within a folder, `**` across folders).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from catalog.native.base import MAX_FILE_BYTES

__all__ = ["AttachedFolder", "DiskFolder", "glob_pattern", "plain_reference"]


def plain_reference(ref: str) -> PurePosixPath | None:
    """The reference as a relative path that stays below its folder, or None (absolute, `..`, URL, empty)."""
    if not ref or "://" in ref or "\x00" in ref:
        return None
    path = PurePosixPath(ref)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def glob_pattern(pattern: str) -> re.Pattern[str] | None:
    """A glob as a regular expression over relative POSIX paths (`**/` any folders, `*` and `?` within one)."""
    if plain_reference(pattern) is None:
        return None
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class DiskFolder:
    """The imported file's folder on disk; nothing is read outside `root`, symlinks included."""

    path: Path
    root: Path

    @property
    def name(self) -> str:
        return self.path.name

    def read(self, ref: str) -> tuple[str, bytes] | None:
        """(path relative to this folder, bytes) of a referenced file inside the root, or None."""
        rel = plain_reference(ref)
        if rel is None:
            return None
        return self._file(self.path / rel)

    def glob(self, pattern: str) -> dict[str, bytes]:
        """The files a glob matches, below this folder and inside the root, by relative path."""
        if glob_pattern(pattern) is None:
            return {}
        found = (self._file(p) for p in sorted(self.path.glob(pattern)) if p.is_file())
        return dict(f for f in found if f is not None)

    def at(self, rel_dir: str) -> DiskFolder:
        """The folder of a file this one references (an include in a subfolder resolves against it)."""
        return DiskFolder(self.path / rel_dir, self.root)

    def _file(self, path: Path) -> tuple[str, bytes] | None:
        resolved = path.resolve()
        base = self.path.resolve()
        if not resolved.is_relative_to(self.root.resolve()) or not resolved.is_relative_to(base):
            return None
        if not resolved.is_file() or resolved.stat().st_size > MAX_FILE_BYTES:
            return None
        return resolved.relative_to(base).as_posix(), resolved.read_bytes()


@dataclass(frozen=True)
class AttachedFolder:
    """A version's attached files seen from the folder of one of them: what publishing checks references against."""

    files: Mapping[str, bytes]
    base: PurePosixPath
    name: str = ""

    def read(self, ref: str) -> tuple[str, bytes] | None:
        rel = plain_reference(ref)
        if rel is None:
            return None
        raw = self.files.get((self.base / rel).as_posix())
        return (rel.as_posix(), raw) if raw is not None else None

    def glob(self, pattern: str) -> dict[str, bytes]:
        regex = glob_pattern(pattern)
        prefix = "" if self.base == PurePosixPath() else self.base.as_posix() + "/"
        if regex is None:
            return {}
        found = {path[len(prefix) :]: raw for path, raw in self.files.items() if path.startswith(prefix)}
        return {rel: found[rel] for rel in sorted(found) if regex.match(rel)}

    def at(self, rel_dir: str) -> AttachedFolder:
        base = self.base / rel_dir
        return AttachedFolder(self.files, base, base.name or self.name)

    @classmethod
    def around(cls, files: Mapping[str, bytes], path: str) -> AttachedFolder:
        """The attached files as the file at `path` sees them (its references are relative to its folder)."""
        return cls(files, PurePosixPath(path).parent)
