"""Every file the registry regenerates from tests/corpora is accepted by its format's own tool.

promtool (Debian's `prometheus`, installed by `make test` as root), and the Python tools from the dev extras
(prompty, langchain-core, haystack-ai, dotpromptz) run in a subprocess (tests/native_oracle.py). A tool that is
not installed is a skipped test, said as such. promptfoo is not installed by the suite (its npm package is
hundreds of megabytes); its check runs when `promptfoo` is on the PATH, on configs that name no URL.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from catalog.native.base import NativeError
from catalog.native.exporting import generated_suffix
from catalog.native.formats import get_format
from catalog.native.importing import ImportOptions, import_paths

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", allow_secrets=True, allow_missing_includes=True)
_URL = re.compile(r"\b(?!file://)[a-z][\w+.-]*://")  # promptfoo validate would fetch it
PYTHON_TOOLS = {"prompty": "prompty", "langchain": "langchain_core", "haystack": "haystack", "dotprompt": "dotpromptz"}


@cache
def _generated(folder: Path) -> dict[str, dict[Path, Path]]:
    """Every asset of the corpora regenerated in its own format (what `registry export --regenerate` writes),
    by format: generated file -> the original it was imported from."""
    out: dict[str, dict[Path, Path]] = {}
    sources = sorted(p for p in CORPORA.iterdir() if p.is_dir() and p.name != "folders")
    sources += sorted(p for p in (CORPORA / "folders").iterdir() if p.is_dir())
    for n, source in enumerate(sources):
        for item in import_paths([source], OPTIONS).imported:
            name = f"{n}-{item.manifest['slug']}{generated_suffix(item.format, item.manifest)}"
            target = folder / item.format / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(get_format(item.format).generate(item.manifest))
            except NativeError:  # the asset does not fit its format's generator (tested elsewhere): nothing to check
                continue
            original = next(p for p in source.rglob("*") if p.name == item.origin)
            out.setdefault(item.format, {})[target] = original
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[Path, Path]]:
    return _generated(tmp_path_factory.mktemp("generated"))


def _python_tool_present(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, check=False)
    return probe.returncode == 0


def _verdicts(tool: str, files: list[Path], out: Path) -> dict[Path, str]:
    subprocess.run([sys.executable, "-m", "tests.native_oracle", tool, str(out), *map(str, files)],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)  # fmt: skip
    return {Path(f): v for f, v in json.loads(out.read_text(encoding="utf-8")).items()}


@pytest.mark.parametrize("tool", sorted(PYTHON_TOOLS))
def test_python_tools_accept_every_regenerated_file(
    tool: str, generated: dict[str, dict[Path, Path]], tmp_path: Path
) -> None:
    """Accepted, or refused exactly as the tool refuses the original (langchain-core reads no `_type: chat`
    template list, its own test examples included)."""
    files = generated.get(tool, {})
    assert files, f"the corpora give no {tool} asset"
    if not _python_tool_present(PYTHON_TOOLS[tool]):
        pytest.skip(f"{PYTHON_TOOLS[tool]} is not installed (pip install -e '.[dev]')")
    verdicts = _verdicts(tool, list(files), tmp_path / "generated.json")
    originals = _verdicts(tool, sorted(set(files.values())), tmp_path / "originals.json")
    failed = {f.name: v for f, v in verdicts.items() if v.startswith("fail") and v != originals[files[f]]}
    assert not failed, failed
    assert len(verdicts) == len(files)
    if tool == "haystack":  # components whose packages are absent (torch, Elasticsearch) are read, not built
        assert sum(v == "ok" for v in verdicts.values()) >= 3


def _plain_rule_file(path: Path) -> Path:
    """promtool reads rule files; a Kubernetes PrometheusRule is checked through the rule groups of its spec."""
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    crd = next((d for d in documents if isinstance(d, dict) and d.get("kind") == "PrometheusRule"), None)
    if crd is None:
        return path
    plain = path.with_suffix(".groups.yml")
    plain.write_text(yaml.safe_dump({"groups": crd["spec"]["groups"]}, sort_keys=False), encoding="utf-8")
    return plain


def test_promtool_accepts_every_regenerated_rule_file(generated: dict[str, dict[Path, Path]]) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; make test does it as root)")
    files = [_plain_rule_file(f) for f in generated["prometheus"]]
    assert len(files) >= 115
    result = subprocess.run(["promtool", "check", "rules", *map(str, files)],
                            capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.count("SUCCESS") == len(files)


def test_promptfoo_validates_regenerated_configs_that_name_no_url(generated: dict[str, dict[Path, Path]]) -> None:
    if shutil.which("promptfoo") is None:
        pytest.skip("promptfoo is not installed (npm install -g promptfoo)")
    offline = [f for f in generated["promptfoo"] if not _URL.search(f.read_text(encoding="utf-8"))]
    for config in offline:
        result = subprocess.run(["promptfoo", "validate", "-c", str(config)],
                                capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
        assert result.returncode == 0, (config.name, result.stdout[-1000:], result.stderr[-1000:])
