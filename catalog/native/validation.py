"""On every publish: the native files a manifest says it holds must be attached and must parse as their format.

A `rules.yml` that is not a Prometheus rule file, or `runner.entry: nothere.yaml`, would otherwise publish
and only fail when a new pilot tries to run what it adopted.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from catalog.errors import FieldProblem
from catalog.native.base import NativeError, Source
from catalog.native.folders import AttachedFolder
from catalog.native.formats import get_format

__all__ = ["native_problems"]

_RUNNERS = {"promptfoo": "promptfoo", "lm-eval": "lm-eval"}
_YAML = (".yaml", ".yml")


def _expected(kind: str, spec: dict[str, Any], paths: list[str]) -> dict[str, str]:
    """Attached path -> the format the manifest says it is in."""
    expected: dict[str, str] = {}
    native = spec.get("native")
    if isinstance(native, dict) and isinstance(native.get("path"), str) and isinstance(native.get("format"), str):
        expected[native["path"]] = native["format"]
    runner = spec.get("runner") if kind == "eval_harness" else None
    if isinstance(runner, dict) and runner.get("type") in _RUNNERS and runner.get("entry") in paths:
        expected.setdefault(str(runner["entry"]), _RUNNERS[str(runner["type"])])
    if kind == "monitor" and spec.get("format") == "prometheus":
        expected |= {p: "prometheus" for p in paths if p.endswith(_YAML) and p not in expected}
    if kind == "retrieval_pipeline" and spec.get("framework") == "haystack":
        expected |= {p: "haystack" for p in paths if p.endswith(_YAML) and p not in expected}
    expected |= {p: "prompty" for p in paths if p.endswith(".prompty") and p not in expected}
    return expected


def native_problems(kind: str, spec: dict[str, Any], files: list[tuple[str, bytes]]) -> list[FieldProblem]:
    """What is wrong with the attached native files, each with the file, line and how to fix it."""
    paths = [path for path, _ in files]
    problems: list[FieldProblem] = []
    native = spec.get("native")
    if isinstance(native, dict):
        if not isinstance(native.get("path"), str) or native["path"] not in paths:
            problems.append(
                FieldProblem(
                    "/spec/native/path",
                    f"names {native.get('path')!r}, which is not an attached file",
                    "attach the native file under `files`, or correct the path",
                )
            )
        try:
            get_format(str(native.get("format", "")))
        except NativeError as err:
            problems.append(FieldProblem("/spec/native/format", err.message, err.fix))
            return problems
    runner = spec.get("runner") if kind == "eval_harness" else None
    # With files attached the entry must be one of them; a version without files points into its `source` repo.
    if isinstance(runner, dict) and paths and runner.get("entry") not in paths:
        problems.append(
            FieldProblem(
                "/spec/runner/entry",
                f"names {runner.get('entry')!r}, which is not an attached file",
                "attach the entry file under `files` (a harness kept elsewhere is linked with `source`)",
            )
        )
    attached = dict(files)
    for path, fmt_id in _expected(kind, spec, paths).items():
        if path not in paths:
            continue
        index = paths.index(path)
        try:
            folder = AttachedFolder.around(attached, path)  # includes and partials are attached beside it
            get_format(fmt_id).load(Source.of(PurePosixPath(path).name, files[index][1], folder=folder))
        except NativeError as err:
            where = f" (line {err.line})" if err.line else ""
            problems.append(
                FieldProblem(
                    f"/files/{index}",
                    f"{path} is not a valid {fmt_id} file{where}: {err.message}",
                    err.fix or f"fix the file, or do not declare it as {fmt_id}",
                )
            )
    return problems
