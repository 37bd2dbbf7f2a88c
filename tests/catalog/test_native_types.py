"""Any value of the wrong type in a real file is a NativeError naming the file (a 4xx over HTTP), never a crash:
every key of every corpus file, two levels deep, is swapped for values of other types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from catalog.native.base import NativeError, Source
from catalog.native.importing import ImportOptions, import_source

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
OPTIONS = ImportOptions(owner="a-b", pilot="c-d", allow_secrets=True, allow_missing_includes=True)
ODD: list[Any] = [None, "file://absent.txt", 7, [None]]  # the shapes that broke imports: none, text, number, list


def _swaps(data: Any, depth: int = 0) -> Any:
    """Yield the document with one value replaced, for every key down to two levels (the first list item)."""
    if depth > 1 or not isinstance(data, dict):
        return
    for key in list(data)[:12]:
        original = data[key]
        for value in ODD:
            data[key] = value
            yield
        data[key] = original
        inner = original[0] if isinstance(original, list) and original else original
        yield from _swaps(inner, depth + 1)


def _documents() -> list[tuple[str, Any, str, str]]:
    """(name, parsed data, text before, text after) for YAML/JSON files and the front matter of prompt files."""
    out = []
    # Large rule files repeat one shape many times: the small files carry every key at a fraction of the time.
    small = (p for p in CORPORA.rglob("*") if p.is_file() and p.suffix != ".md" and p.stat().st_size < 12_000)
    for path in sorted(small):
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix in {".prompty", ".prompt"} and text.startswith("---"):
                _, front, body = text.split("---", 2)
                out.append((path.name, yaml.safe_load(front) or {}, "---\n", "---" + body))
            elif path.suffix in {".yaml", ".yml", ".json"}:
                out.append((path.name, yaml.safe_load(text), "", ""))
        except yaml.YAMLError:  # `!function` (lm-eval): the files around it carry the same keys
            continue
    return out


def _refusal(name: str, raw: bytes) -> NativeError | None:
    try:
        import_source(Source.of(name, raw), OPTIONS)
    except NativeError as err:
        return err
    return None


def test_values_of_another_type_are_native_errors_never_crashes() -> None:
    tried = 0
    for name, data, before, after in _documents():
        for _ in _swaps(data):
            refusal = _refusal(name, (before + yaml.safe_dump(data, sort_keys=False) + after).encode())
            assert refusal is None or (refusal.file == name and refusal.message), (name, refusal)
            tried += 1
    assert tried > 1_200
