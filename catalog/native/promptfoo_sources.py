"""Where a promptfoo config's prompts and tests come from, read the way promptfoo reads them.

A prompt or test given as a string is a file when it says `file://`, or when it is one line ending in a file
extension (`prompts: prompts.txt`); a test list mixes such paths, globs, URLs (a Google Sheet,
`huggingface://datasets/...`) and inline cases. Attached test files (CSV, YAML, JSON, JSONL) are counted and
their assertions read, so the metrics of an eval that keeps its cases in files are not lost.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from catalog.native.base import NativeError
from catalog.native.yamlsafe import load_yaml

__all__ = [
    "ASSERTION_TYPES",
    "TestSources",
    "config_refs",
    "file_ref",
    "prompt_refs",
    "read_test_files",
    "test_sources",
]

_PATH = re.compile(r"[^\s:]+\.(?:txt|md|j2|json|jsonl|ya?ml|csv|tsv|xlsx?|py|js|ts|mjs|cjs)(?::[A-Za-z_][\w.]*)?\Z")
# promptfoo assertion types (src/types/index.ts, BaseAssertionTypesSchema); `not-<type>` negates any of them.
_TYPES = """
answer-relevance bleu classifier contains contains-all contains-any contains-html contains-json contains-sql
contains-xml context-faithfulness context-recall context-relevance conversation-relevance cost equals
factuality finish-reason g-eval gleu guardrails icontains icontains-all icontains-any is-html is-json
is-refusal is-sql is-valid-function-call is-valid-openai-function-call is-valid-openai-tools-call is-xml
javascript latency levenshtein llm-rubric meteor model-graded-closedqa model-graded-factuality moderation
perplexity perplexity-score pi python regex rouge-n ruby select-best similar starts-with tool-call-f1
trace-span-count trace-span-duration webhook word-count max-score human
"""
ASSERTION_TYPES = frozenset(_TYPES.split())
_DATA_SUFFIXES = {"csv", "jsonl", "json", "yaml", "yml"}
_CSV_ALIASES = {"fn": "javascript", "eval": "javascript", "grade": "llm-rubric"}


def file_ref(value: Any) -> str | None:
    """The file a prompt or test string names (as written), or None when it is text or a URL."""
    if not isinstance(value, str) or "\n" in value:
        return None
    if value.startswith("file://"):
        return value
    if "://" in value:
        return None
    return value if _PATH.match(value.strip()) or (any(ch in value for ch in "*?[") and " " not in value) else None


def prompt_refs(prompts: Any) -> list[str]:
    """The files among a config's prompts: strings, `{id: ...}` objects and `path: label` mappings."""
    items = list(prompts) if isinstance(prompts, dict) else prompts if isinstance(prompts, list) else [prompts]
    found = [file_ref(p if isinstance(p, str) else p.get("id") if isinstance(p, dict) else None) for p in items]
    return [f for f in found if f is not None]


def config_refs(data: dict[str, Any]) -> list[str]:
    """The other files a config names with `file://`: providers, scenarios and their tests (a defaultTest file
    is read for its assertions, apart)."""
    providers = data.get("providers", data.get("targets"))
    named = [
        p.get("id") if isinstance(p, dict) else p for p in (providers if isinstance(providers, list) else [providers])
    ]
    scenarios = data.get("scenarios")
    for scenario in scenarios if isinstance(scenarios, list) else []:
        named += [scenario.get("tests"), scenario.get("config")] if isinstance(scenario, dict) else [scenario]
    return [str(n) for n in named if isinstance(n, str) and n.startswith("file://")]


@dataclass
class TestSources:
    """A config's tests: inline cases, and the files and URLs the rest come from."""

    inline: list[Any] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # as written: file://tests/*.yaml, https://..., tests.csv

    @property
    def files(self) -> list[str]:
        """The sources that are files (attached when inside the folder); URLs are recorded, never fetched."""
        return [s for s in self.sources if "://" not in s.removeprefix("file://")]


def test_sources(tests: Any) -> TestSources:
    """Split `tests` as promptfoo does: a string or `{path}` is a source; a list mixes sources and cases."""
    if isinstance(tests, str):
        return TestSources(sources=[tests])
    if isinstance(tests, dict):
        return TestSources(sources=[str(tests["path"])]) if "path" in tests else TestSources(inline=[tests])
    out = TestSources()
    for item in tests if isinstance(tests, list) else []:
        if isinstance(item, str):
            out.sources.append(item)
        elif isinstance(item, dict) and "path" in item and not {"vars", "assert"} & set(item):
            out.sources.append(str(item["path"]))
        else:
            out.inline.append(item)
    return out


def read_test_files(files: dict[str, bytes]) -> tuple[int | None, list[dict[str, Any]], list[str]]:
    """Test cases counted across attached test files (None when one cannot be counted: a generator script, a
    spreadsheet, a file that does not read), their assertions, and notices for data files that do not read."""
    count: int | None = 0
    assertions: list[dict[str, Any]] = []
    notices = []
    for path, raw in files.items():
        if path.rsplit(".", 1)[-1].lower() not in _DATA_SUFFIXES:
            count = None  # `file://gen.py:tests`, `tests.xlsx`: attached, counted only when promptfoo runs them
            continue
        try:
            cases = _cases(path, raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, NativeError, csv.Error) as err:
            notices.append(f"{path}: the test file could not be read ({err}); its cases are not counted")
            count = None
            continue
        count = count + len(cases) if count is not None else None
        for case in cases:
            asserts = case.get("assert") if isinstance(case, dict) else None
            assertions += [a for a in asserts or [] if isinstance(a, dict) and "type" in a]
    return count, assertions, notices


def read_default_test(files: dict[str, bytes]) -> list[dict[str, Any]]:
    """The assertions of a `defaultTest: file://default.yaml` (a mapping with `assert`), when it reads."""
    for path, raw in files.items():
        try:
            data = _data(path, raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, NativeError):
            return []
        asserts = data.get("assert") if isinstance(data, dict) else None
        return [a for a in asserts if isinstance(a, dict) and "type" in a] if isinstance(asserts, list) else []
    return []


def _cases(path: str, text: str) -> list[Any]:
    suffix = path.rsplit(".", 1)[-1].lower()
    if suffix == "csv":
        return [_csv_case(row) for row in csv.DictReader(io.StringIO(text))]
    if suffix == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = _data(path, text)
    if not isinstance(data, list):
        raise ValueError("a test file holds a list of test cases")
    return data


def _data(path: str, text: str) -> Any:
    """A JSON or YAML file's data, read as promptfoo reads it (js-yaml: YAML 1.2 scalars)."""
    return json.loads(text) if path.lower().endswith(".json") else load_yaml(text, yaml12=True).data


def _csv_case(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a test case: `__expected` columns are assertions (`icontains:bonjour`, plain text: equals)."""
    asserts = []
    for column, value in row.items():
        if not (column or "").startswith("__expected") or not value:
            continue
        prefix = re.match(r"(not-)?([a-z][\w-]*)(?:\([\d.]+\))?:", value)
        negated, kind = (
            (prefix.group(1) or "", _CSV_ALIASES.get(prefix.group(2), prefix.group(2))) if prefix else ("", "")
        )
        if kind not in ASSERTION_TYPES:  # `Hello: world` is the expected text itself
            negated, kind = "", "equals"
        asserts.append({"type": negated + kind})
    return {"assert": asserts}
