"""What every native format shares: the file being read, the error it raises, the asset it proposes, and the
naming rules (slug, title, summary, tags) that turn native names into valid manifest fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar, Protocol

__all__ = [
    "MAX_FILE_BYTES",
    "NO_ASSETS",
    "Draft",
    "Folder",
    "NativeError",
    "NativeFormat",
    "Source",
    "camel_words",
    "cut",
    "humanize",
    "normalize_tags",
    "slugify",
]

NO_ASSETS = "nothing to import"  # a valid file that proposes no asset (only recording rules): skipped in folders
MAX_FILE_BYTES = 5_000_000  # the attached-file limit of a manifest: refused before any parsing


class NativeError(Exception):
    """A native file that cannot be read as its format: which file, which line, what, and how to fix it."""

    def __init__(self, file: str, message: str, *, line: int | None = None, fix: str = "") -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.line = line
        self.fix = fix

    def located(self, file: str) -> NativeError:
        """The same error, naming the file (the YAML loader does not know which file it reads)."""
        if not self.file:
            self.file = file
        return self

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file or "the file"
        fix = f" ({self.fix})" if self.fix else ""
        return f"{where}: {self.message}{fix}"


@dataclass
class Source:
    """One native file: its bytes exactly as given, its text for parsing, and where its references may be read."""

    name: str
    raw: bytes
    text: str
    folder: Folder | None = None  # where references are read; None: they are not read (a single upload)
    missing_includes_ok: bool = False  # an lm-eval `include:` that is absent is recorded instead of refused

    @classmethod
    def of(
        cls,
        name: str,
        raw: bytes,
        *,
        folder: Folder | None = None,
        missing_includes_ok: bool = False,
    ) -> Source:
        """Refuse what no format accepts: too large, not UTF-8."""
        if len(raw) > MAX_FILE_BYTES:
            raise NativeError(
                name,
                f"the file has {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                fix="split it, or attach it to a hand-written asset.yaml as a binary file",
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise NativeError(name, "the file is not UTF-8 text", line=line, fix="save it as UTF-8") from err
        if "\x00" in text:
            raise NativeError(name, "the file contains NUL bytes", line=text[: text.index("\x00")].count("\n") + 1)
        text = text.removeprefix("\ufeff")
        return cls(name=name, raw=raw, text=text, folder=folder, missing_includes_ok=missing_includes_ok)

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()

    def reference(self, ref: str) -> tuple[str, bytes] | None:
        """(path relative to this file's folder, bytes) of a referenced file that may be read, or None."""
        return self.folder.read(ref) if self.folder is not None else None


@dataclass
class Draft:
    """An asset a native file proposes, before the command line's owner, pilot and version are added."""

    kind: str
    slug: str
    title: str
    summary: str
    spec: dict[str, Any]
    description: str = ""
    tags: list[str] = field(default_factory=list)
    version: str | None = None
    select_names: tuple[str, ...] = ()  # names `--select` matches (alert, prompt index, ...)
    collision_hint: str = ""  # appended to the slug when another asset of the same import already has it
    secrets: list[str] = field(default_factory=list)  # literal credentials found in known secret slots
    extra_files: dict[str, bytes] = field(default_factory=dict)  # referenced files attached beside the original
    notices: list[str] = field(default_factory=list)


class Folder(Protocol):
    """Where references are read (catalog/native/folders.py): the imported folder, or a version's attached files."""

    @property
    def name(self) -> str: ...

    def read(self, ref: str) -> tuple[str, bytes] | None: ...

    def glob(self, pattern: str) -> dict[str, bytes]: ...

    def at(self, rel_dir: str) -> Folder: ...


class NativeFormat(Protocol):
    """One native format: how to recognise it, read it into assets, and write an asset back out."""

    id: ClassVar[str]
    kind: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]  # for files a generated export is named with, first is the default
    claims: ClassVar[tuple[str, ...]]  # extensions that are this format whatever the content (`.prompty`)

    def detect(self, source: Source, data: Any) -> bool:
        """Whether a file (and its parsed YAML/JSON, when it parses) is in this format."""
        ...

    def load(self, source: Source) -> Any:
        """Parse the file and check the shape the native tool requires; raise NativeError otherwise."""
        ...

    def drafts(self, source: Source, data: Any) -> list[Draft]:
        """The assets the file proposes, in file order."""
        ...

    def generate(self, manifest: dict[str, Any]) -> bytes:
        """A file the native tool accepts, from a manifest without a stored original (deterministic)."""
        ...


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def camel_words(name: str) -> str:
    """`XPUHighTemperature` -> `XPU High Temperature` (acronyms kept together)."""
    return _CAMEL.sub(" ", name)


def slugify(text: str, *, fallback: str = "asset") -> str:
    """A valid slug from any name: CamelCase split (identifiers only), lower-cased, other characters to `-`."""
    words = text if re.search(r"\s", text.strip()) else camel_words(text)
    slug = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    if len(slug) > 63:
        cut_at = slug.rfind("-", 0, 64)
        slug = slug[: cut_at if cut_at >= 2 else 63].strip("-")
    if len(slug) < 2:
        slug = (slug + "-" + fallback).strip("-") if slug else fallback
    return slug


def humanize(stem: str) -> str:
    """`simple_chat_prompt` -> `Simple chat prompt`."""
    words = re.sub(r"[_\-\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:]


def cut(text: str, limit: int) -> str:
    """Text cut at the last word boundary that fits, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:.") + "…"


_TAG_OK = re.compile(r"[a-z0-9][a-z0-9+.#-]{0,49}\Z")


def normalize_tags(tags: list[Any]) -> list[str]:
    """Lower-cased, `_` and spaces to `-`, invalid ones dropped, duplicates removed, at most 30."""
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            continue
        value = re.sub(r"[_\s]+", "-", tag.strip().lower())
        if _TAG_OK.match(value) and value not in out:
            out.append(value)
    return out[:30]
