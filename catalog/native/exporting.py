"""A published version in a native format: the stored original byte for byte when there is one, otherwise a
file generated from the manifest (deterministic: the same manifest always gives the same bytes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from catalog.errors import Conflict, FieldProblem, InvalidInput
from catalog.native.base import NativeError, Source
from catalog.native.formats import FORMAT_IDS, FORMATS, get_format

__all__ = ["Exported", "default_format", "export_native", "generated_suffix"]

_BY_TEMPLATE = {"handlebars": "dotprompt", "f-string": "langchain", "haystack-v1": "prompthub"}


@dataclass(frozen=True)
class Exported:
    filename: str
    content: bytes
    format: str
    generated: bool


def default_format(kind: str, spec: dict[str, Any]) -> str | None:
    """The format a version exports to when none is asked for."""
    native = spec.get("native")
    if isinstance(native, dict) and native.get("format") in FORMAT_IDS:
        return str(native["format"])
    if kind == "eval_harness":
        runner = (spec.get("runner") or {}).get("type")
        return runner if runner in {"promptfoo", "lm-eval"} else None
    if kind == "monitor":
        return spec.get("format") if spec.get("format") in {"prometheus", "grafana"} else "prometheus"
    if kind == "retrieval_pipeline":
        return "haystack" if spec.get("framework") == "haystack" else None
    return _BY_TEMPLATE.get(str(spec.get("template_format")), "prompty")


def _original(kind: str, spec: dict[str, Any], files: dict[str, bytes], fmt: str) -> str | None:
    native = spec.get("native")
    if isinstance(native, dict) and native.get("format") == fmt and native.get("path") in files:
        return str(native["path"])
    runner = spec.get("runner") if kind == "eval_harness" else None
    if isinstance(runner, dict) and runner.get("type") == fmt and runner.get("entry") in files:
        return str(runner["entry"])
    matching = []
    parser = get_format(fmt)
    for path, raw in files.items():
        source = Source.of(PurePosixPath(path).name, raw)
        if any(source.suffix in other.claims for other in FORMATS if other.id != fmt):
            continue  # a `.prompty` file may parse as Dotprompt too, but it is a Prompty file
        try:
            parser.load(source)
        except NativeError:
            continue
        matching.append(path)
    return matching[0] if len(matching) == 1 else None


def export_native(
    manifest: dict[str, Any],
    files: list[dict[str, Any]],
    fmt: str | None = None,
    *,
    regenerate: bool = False,
) -> Exported:
    """The version as one native file; `files` carry path, sha256 and the decoded `raw` bytes."""
    kind, spec = str(manifest["kind"]), dict(manifest["spec"])
    wanted = (fmt or default_format(kind, spec) or "").lower()
    if not wanted:
        raise InvalidInput(
            f"{manifest['slug']}@{manifest['version']} has no native format to export to",
            [FieldProblem("/format", "no format given and none recorded", f"name one of: {', '.join(FORMAT_IDS)}")],
        )
    try:
        target = get_format(wanted)
    except NativeError as err:
        raise InvalidInput(err.message, [FieldProblem("/format", err.message, err.fix)], code="unknown-format") from err
    if target.kind != kind:
        raise InvalidInput(
            f"{wanted} holds {target.kind.replace('_', ' ')}s; {manifest['slug']} is a {kind.replace('_', ' ')}",
            [FieldProblem("/format", f"{wanted} does not fit a {kind}", "choose a format of the asset's kind")],
            code="format-mismatch",
        )
    by_path = {f["path"]: f for f in files}
    original = None if regenerate else _original(kind, spec, {p: f["raw"] for p, f in by_path.items()}, wanted)
    if original is not None:
        stored = by_path[original]
        if hashlib.sha256(stored["raw"]).hexdigest() != stored["sha256"]:
            raise Conflict(
                f"the stored {original} no longer matches its recorded sha256; restore it from a backup",
                code="damaged-file",
            )
        return Exported(PurePosixPath(original).name, stored["raw"], wanted, generated=False)
    try:
        content = target.generate(manifest)
    except NativeError as err:
        recorded = spec.get("native")
        kept = recorded if isinstance(recorded, dict) and recorded.get("path") in by_path else {}
        original_format = str(kept.get("format") or "")
        if original_format and original_format != wanted and not regenerate:
            raise Conflict(
                f"{manifest['slug']}@{manifest['version']} is stored as {original_format} ({kept['path']}) and "
                f"cannot be converted to {wanted}: {err.message}. Export it as {original_format} (the original, "
                "byte for byte) or "
                "leave --format out",
                code="not-exportable",
            ) from err
        raise InvalidInput(
            f"{manifest['slug']}@{manifest['version']} cannot be written as {wanted}: {err.message}",
            [FieldProblem("/spec", err.message, err.fix or "export to another format")],
            code="not-exportable",
        ) from err
    return Exported(f"{manifest['slug']}{generated_suffix(wanted, manifest)}", content, wanted, generated=True)


def generated_suffix(format_id: str, manifest: dict[str, Any]) -> str:
    """The extension of a generated file: the original's when it had one of the format's, else the format's own."""
    target = get_format(format_id)
    native = manifest["spec"].get("native")
    suffix = PurePosixPath(str(native.get("path", ""))).suffix if isinstance(native, dict) else ""
    if suffix in target.suffixes:
        return suffix
    if format_id == "promptfoo-prompt" and manifest["spec"].get("template") is not None:
        return ".txt"
    return target.suffixes[0]
