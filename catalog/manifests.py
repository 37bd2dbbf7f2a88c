"""Reading manifests from disk: `asset.yaml` plus the native files it lists, in an order that publishes cleanly."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from catalog.errors import FieldProblem, InvalidInput
from catalog.filepaths import MANIFEST_NAME
from catalog.inputs import text_problem
from catalog.native.base import NativeError, Source
from catalog.native.formats import detect
from catalog.versions import InvalidVersion, sort_key

__all__ = ["MANIFEST_NAME", "find_manifests", "inline_file", "load_manifest", "publish_order"]


def find_manifests(paths: Iterable[Path]) -> list[Path]:
    """Manifest files named directly, or every asset.yaml below the folders given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            direct = path / MANIFEST_NAME
            found.extend([direct] if direct.is_file() else sorted(path.rglob(MANIFEST_NAME)))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return list(dict.fromkeys(p.resolve() for p in found))


def load_manifest(path: Path) -> dict[str, Any]:
    """Parse a manifest file and inline the files it lists (text as UTF-8, anything else as base64)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        _refuse_native(path)
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InvalidInput(
            f"{where}: not valid YAML: {problem}", [FieldProblem("/", problem, "fix the YAML syntax at that line")]
        ) from err
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"{path} is not UTF-8 text", [FieldProblem("/", f"byte {err.start} is not UTF-8", "save it as UTF-8")]
        ) from err
    if not isinstance(data, dict) or ("kind" not in data and "slug" not in data):
        _refuse_native(path)
        raise InvalidInput(
            f"{path} is not an asset manifest (no `kind`, no `slug`)",
            [FieldProblem("/", "not an asset manifest", "see the manifest format in the README")],
            code="not-a-manifest",
        )
    files = []
    problems = []
    for i, name in enumerate(data.get("files") or []):
        if isinstance(name, dict):  # already inline
            files.append(name)
            continue
        file_path = (path.parent / str(name)).resolve()
        if not file_path.is_relative_to(path.parent.resolve()) or not file_path.is_file():
            problems.append(
                FieldProblem(
                    f"/files/{i}", f"{name} is not a file inside {path.parent}", "put the file beside asset.yaml"
                )
            )
            continue
        files.append(inline_file(str(name), file_path.read_bytes()))
    if problems:
        raise InvalidInput(f"{path} lists files that are missing", problems)
    if "files" in data:
        data["files"] = files
    return data


def _refuse_native(path: Path) -> None:
    """A native file given where a manifest was expected: say which format it is and the command that imports it."""
    try:
        fmt, _ = detect(Source.of(path.name, path.read_bytes()))
    except NativeError:
        return
    raise InvalidInput(
        f"{path} is a {fmt.id} file, not an asset manifest: run "
        f"`registry import --format {fmt.id} {path} --owner TEAM --pilot PILOT --publish`",
        [FieldProblem("/", f"a {fmt.id} file", "import it, or list it under `files` of an asset.yaml beside it")],
        code="not-a-manifest",
    )


def inline_file(path: str, raw: bytes) -> dict[str, str]:
    """An attached file as a manifest carries it: UTF-8 text as is, anything else as base64."""
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text_problem("/", text) is None:
        return {"path": path, "content": text}
    # binary, or text with control characters the registry keeps only as bytes
    return {"path": path, "content": base64.b64encode(raw).decode("ascii"), "encoding": "base64"}


def _version_key(manifest: dict[str, Any]) -> tuple[int, int, int, int, str]:
    try:
        return sort_key(str(manifest.get("version", "")))
    except InvalidVersion:
        return (0, 0, 0, 0, "")


def publish_order(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dependencies before dependants, older versions before newer; otherwise keep the given order."""
    by_slug: dict[str, list[dict[str, Any]]] = {}
    for m in manifests:
        by_slug.setdefault(str(m.get("slug")), []).append(m)
    ordered: list[dict[str, Any]] = []
    state: dict[str, str] = {}

    def visit(slug: str) -> None:
        if state.get(slug) in {"visiting", "done"}:
            return  # cycles are left for the server to reject with a clear message
        state[slug] = "visiting"
        for m in by_slug.get(slug, []):
            for dep in m.get("depends_on") or []:
                if isinstance(dep, dict) and dep.get("slug") in by_slug:
                    visit(str(dep["slug"]))
        ordered.extend(sorted(by_slug.get(slug, []), key=_version_key))
        state[slug] = "done"

    for slug in by_slug:
        visit(slug)
    return ordered
