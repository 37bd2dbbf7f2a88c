"""Native files in, complete manifests out: detection, the fields no native file carries, collisions, validation.

Deterministic: the same bytes and options give the same manifests in the same order. Every asset from a
file attaches the file's original bytes, so exporting any of them gives the file back byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import InvalidInput
from catalog.manifests import MANIFEST_NAME, inline_file
from catalog.native.base import (
    MAX_FILE_BYTES,
    NO_ASSETS,
    Draft,
    NativeError,
    NativeFormat,
    Source,
    normalize_tags,
    slugify,
)
from catalog.native.folders import DiskFolder
from catalog.native.formats import FORMATS, NOT_NATIVE, detect, get_format
from catalog.schemas import parse_manifest
from catalog.versions import InvalidVersion, parse_version

__all__ = ["FileOutcome", "ImportOptions", "ImportRun", "Imported", "import_paths", "import_source"]

_WALKED_SUFFIXES = {".yaml", ".yml", ".json", ".prompty", ".prompt"}


@dataclass(frozen=True)
class ImportOptions:
    owner: str
    pilot: str
    format: str = "auto"
    version: str | None = None
    slug_prefix: str = ""
    select: tuple[str, ...] = ()
    allow_secrets: bool = False
    slug: str | None = None
    title: str | None = None
    summary: str | None = None
    tags: tuple[str, ...] = ()
    thresholds: tuple[tuple[str, float], ...] = ()  # metric name -> threshold, for formats that state none
    source_repo: str | None = None
    source_commit: str | None = None
    allow_missing_includes: bool = False  # lm-eval: import a task whose `include:` parent is absent
    strict: bool = False  # a notice (a reference not attached, a file skipped) fails the import


@dataclass
class Imported:
    """One proposed asset: its manifest (files inline), the attached bytes, what the reader should know."""

    manifest: dict[str, Any]
    files: dict[str, bytes]
    format: str
    origin: str
    notices: list[str] = field(default_factory=list)


def _version(draft: Draft, options: ImportOptions) -> str:
    if options.version:
        return options.version
    if draft.version:
        try:
            parse_version(draft.version)
            return draft.version
        except InvalidVersion:
            pass
    return "1.0.0"


def _unique_slug(slug: str, taken: set[str], group_hint: str) -> str:
    if slug not in taken:
        return slug
    if group_hint and f"{slug}-{group_hint}"[:63].strip("-") not in taken:
        return f"{slug}-{group_hint}"[:63].strip("-")
    n = 2
    while f"{slug[:60]}-{n}" in taken:
        n += 1
    return f"{slug[:60]}-{n}"


def _manifest(source: Source, fmt: NativeFormat, draft: Draft, options: ImportOptions, slug: str) -> Imported:
    files = {source.name: source.raw, **draft.extra_files}
    manifest: dict[str, Any] = {
        "kind": draft.kind,
        "slug": slug,
        "version": _version(draft, options),
        "title": draft.title,
        "summary": draft.summary,
        "description": draft.description,
        "tags": draft.tags,
        "owner": options.owner,
        "origin_pilot": options.pilot,
    }
    if options.source_repo:
        manifest["source"] = {"repo": options.source_repo, "path": source.name}
        if options.source_commit:
            manifest["source"]["commit"] = options.source_commit
    manifest["spec"] = draft.spec
    manifest["files"] = [inline_file(path, raw) for path, raw in files.items()]
    try:
        parse_manifest(manifest)
    except InvalidInput as err:
        first = err.problems[0] if err.problems else None
        where = f" at {first.pointer}: {first.detail}" if first else ""
        raise NativeError(
            source.name,
            f"the asset {slug} it gives is not a valid manifest{where}",
            fix=first.fix if first and first.fix else "fix the file or pass the missing value as an option",
        ) from err
    notices = [*draft.notices, *_unattached(source, draft.spec)]
    return Imported(manifest=manifest, files=files, format=fmt.id, origin=source.name, notices=notices)


def _unattached(source: Source, spec: dict[str, Any]) -> list[str]:
    """What the file refers to and the asset does not carry: said, never dropped without a word."""
    where = "the imported folder" if source.folder is not None else "the upload (one file; import its folder instead)"
    said = [f"{source.name}: {ref} is missing or outside {where}; recorded, not attached"
            for ref in spec.get("unresolved_refs") or []]  # fmt: skip
    said += [f"{source.name}: the include {ref} is missing; imported without it (--allow-missing-includes)"
             for ref in spec.get("unresolved_includes") or []]  # fmt: skip
    return said


def import_source(source: Source, options: ImportOptions, taken: set[str] | None = None) -> list[Imported]:
    """The assets one native file proposes, complete and validated."""
    fmt, data = detect(source) if options.format == "auto" else _explicit(source, options.format)
    drafts = fmt.drafts(source, data)
    if options.select:
        wanted = {s.lower() for s in options.select}
        chosen = [d for d in drafts if wanted & {n.lower() for n in d.select_names}]
        if not chosen:
            names = ", ".join(d.select_names[0] for d in drafts if d.select_names)
            raise NativeError(source.name, f"--select matched nothing; the file has: {names or 'no named items'}")
        drafts = chosen
    _override(source, drafts, options)
    secrets = [s for d in drafts for s in d.secrets]
    if secrets and not options.allow_secrets:
        raise NativeError(
            source.name,
            "literal credentials found: " + "; ".join(dict.fromkeys(secrets)),
            fix="reference them from the environment instead (the original file is stored and served as is), "
            "or pass --allow-secrets",
        )
    taken = set() if taken is None else taken
    out = []
    for draft in drafts:
        base = f"{options.slug_prefix}{draft.slug}" if options.slug_prefix else draft.slug
        slug = _unique_slug(slugify(base), taken, draft.collision_hint)
        taken.add(slug)
        out.append(_manifest(source, fmt, draft, options, slug))
    notices = list(dict.fromkeys(n for item in out for n in item.notices))
    if options.strict and notices:
        raise NativeError(
            source.name,
            f"--strict, and the import has notices: {'; '.join(notices)}",
            fix="attach what is missing (import the whole folder), or import without --strict",
        )
    return out


def _override(source: Source, drafts: list[Draft], options: ImportOptions) -> None:
    """What the command line says instead of (or besides) what the file says."""
    if (options.slug or options.title or options.summary) and len(drafts) > 1:
        raise NativeError(
            source.name,
            f"--slug, --title and --summary name one asset; the file gives {len(drafts)}",
            fix="pick one with --select, or leave the generated titles",
        )
    for draft in drafts:
        draft.slug = options.slug or draft.slug
        draft.title = options.title or draft.title
        draft.summary = options.summary or draft.summary
        draft.tags = normalize_tags([*draft.tags, *options.tags])
        metrics = draft.spec.get("metrics") if draft.kind == "eval_harness" else None
        for name, value in options.thresholds:
            found = [m for m in metrics or [] if m["name"] == name]
            if not found:
                names = ", ".join(m["name"] for m in metrics or []) or "none"
                raise NativeError(source.name, f"--threshold names no metric {name!r}; the metrics are: {names}")
            found[0].update({"threshold": value, "threshold_kind": "score"})


def _explicit(source: Source, format_id: str) -> tuple[NativeFormat, Any]:
    fmt = get_format(format_id)
    try:
        data = fmt.load(source)
    except NativeError as err:
        raise err.located(source.name) from None
    return fmt, data


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file of an import: `imported`, `attached` (to another asset), `skipped` (a file that
    could have been native and is not), `ignored` (not a native file type), or `failed` (with the error)."""

    path: str
    outcome: str
    detail: str = ""
    error: NativeError | None = None  # the failure itself, for callers that stop at the first one


@dataclass
class ImportRun:
    """Every asset an import proposes, and one line per file it saw."""

    imported: list[Imported] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)

    def having(self, outcome: str) -> list[FileOutcome]:
        return [f for f in self.files if f.outcome == outcome]


def _is_prompt_text(path: Path) -> bool:
    """A `.txt` found in a folder is a promptfoo prompt file when it has template variables (a README has none)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:  # refused on import anyway; never read whole
            return True
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "{{" in text and "}}" in text


def _walk(path: Path) -> list[Path]:
    return [path] if path.is_file() else [p for p in sorted(path.rglob("*")) if p.is_file()]


def _import_one(candidate: Path, root: Path, options: ImportOptions, taken: set[str]) -> list[Imported]:
    source = Source.of(candidate.name, candidate.read_bytes(), folder=DiskFolder(candidate.parent, root),
                       missing_includes_ok=options.allow_missing_includes)  # fmt: skip
    return import_source(source, options, taken)


def import_paths(paths: list[Path], options: ImportOptions) -> ImportRun:
    """Every asset in the files and folders given, and what became of every file seen.

    A file that fails fails only itself (the caller decides whether the rest goes on). A file named directly
    must be native; a file found in a folder that no format recognises is skipped with the reason (folders hold
    READMEs, scripts and data too), and one another asset references is reported as attached to it.
    """
    run = ImportRun()
    taken: set[str] = set()
    attached: dict[Path, list[str]] = {}
    seen: list[tuple[Path, FileOutcome | None]] = []
    for path in paths:
        if not path.exists():
            run.files.append(FileOutcome(str(path), "failed", "no such file or folder"))
            continue
        direct = path.is_file()
        root = path.parent if direct else path
        for candidate in _walk(path):
            suffix = candidate.suffix.lower()
            if candidate.name == MANIFEST_NAME and not direct:
                seen.append((candidate, FileOutcome(str(candidate), "ignored", "a registry manifest")))
                continue
            if not candidate.resolve().is_relative_to(root.resolve()):
                seen.append((candidate, FileOutcome(str(candidate), "skipped", f"a symlink out of {root}, not read")))
                continue
            txt = suffix == ".txt" and (direct or options.format != "auto" or _is_prompt_text(candidate))
            if not direct and suffix not in _WALKED_SUFFIXES and not txt:
                seen.append((candidate, None))  # ignored unless another asset attaches it
                continue
            try:
                items = _import_one(candidate, root, options, taken)
            except NativeError as err:
                skip = not direct and err.message.startswith((NOT_NATIVE, NO_ASSETS))
                err.file = str(candidate)
                said = err.message if skip else str(err)
                seen.append((candidate, FileOutcome(str(candidate), "skipped" if skip else "failed", said, err)))
                continue
            run.imported += items
            for item in items:
                for rel in list(item.files)[1:]:
                    attached.setdefault((candidate.parent / rel).resolve(), []).append(item.manifest["slug"])
            slugs = ", ".join(i.manifest["slug"] for i in items)
            seen.append((candidate, FileOutcome(str(candidate), "imported", slugs)))
    for candidate, outcome in seen:
        users = attached.get(candidate.resolve())
        if users and (outcome is None or outcome.outcome != "imported"):
            outcome = FileOutcome(str(candidate), "attached", "to " + ", ".join(dict.fromkeys(users)))
        elif users and outcome is not None:
            outcome = FileOutcome(outcome.path, "imported", f"{outcome.detail}; also attached to {', '.join(users)}")
        elif outcome is None:
            why = "plain text with no {{variables}}" if candidate.suffix.lower() == ".txt" else "not a native file type"
            outcome = FileOutcome(str(candidate), "ignored", why)
        run.files.append(outcome)
    skipped = run.having("skipped")
    if options.strict and skipped:
        raise NativeError(", ".join(str(p) for p in paths),
                          f"--strict, and files were skipped: {'; '.join(f'{f.path}: {f.detail}' for f in skipped)}",
                          fix="import only native files, or import without --strict")  # fmt: skip
    if not run.imported and not run.having("failed"):
        raise NativeError(
            ", ".join(str(p) for p in paths),
            "found nothing to import",
            fix=f"name a native file ({', '.join(f.id for f in FORMATS)})",
        )
    return run
