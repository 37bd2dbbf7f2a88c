"""Hostile native files: refused with a clear message, never executed, never read outside the import root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.native.base import NativeError, Source
from catalog.native.importing import ImportOptions, import_paths, import_source
from tests.helpers import import_strictly

OPTIONS = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake")
RULES = b"groups:\n  - name: g\n    rules:\n      - alert: HighErrors\n        expr: rate(errors[5m]) > 1\n        for: 5m\n        labels: {severity: critical}\n"  # noqa: E501


def _import(name: str, raw: bytes, fmt: str = "auto") -> list[dict]:  # type: ignore[type-arg]
    options = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", format=fmt)
    return [i.manifest for i in import_source(Source.of(name, raw), options)]


def test_a_yaml_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    with pytest.raises(NativeError, match=r"expansion bomb|aliases"):
        _import("bomb.yaml", bomb.encode())


def test_python_tags_are_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    raw = f"groups: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    with pytest.raises(
        NativeError, match=re.escape("unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system")
    ):
        _import("rules.yml", raw)
    assert not marker.exists()


def test_lm_eval_function_modules_are_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "utils.py").write_text(f"open({str(marker)!r}, 'w').write('x')\ndef process_docs(d): return d\n")
    task = tmp_path / "task.yaml"
    task.write_text(
        "task: t1\ndataset_path: org/data\ntest_split: test\ndoc_to_text: '{{q}}'\n"
        "doc_to_target: a\nprocess_docs: !function utils.process_docs\n"
    )
    (item,) = import_paths([task], OPTIONS).imported
    assert item.manifest["spec"]["config"]["process_docs"] == {"!function": "utils.process_docs"}
    assert not marker.exists()


def test_includes_outside_the_folder_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("dataset_path: stolen/data\ntest_split: test\n")
    inner = tmp_path / "tasks"
    inner.mkdir()
    for include in ("../secret.yaml", "/etc/passwd", "../../etc/passwd"):
        task = inner / "task.yaml"
        task.write_text(f"task: t1\ninclude: {include}\ndoc_to_text: x\n")
        with pytest.raises(NativeError, match="neither in the imported folder nor attached"):
            import_strictly([task], OPTIONS)


def test_symlinks_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "prompts.txt").write_text("leaked {{secret}}")
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "prompts.txt").symlink_to(outside / "prompts.txt")
    (outside / "rules.yml").write_bytes(RULES)
    (folder / "rules.yml").symlink_to(outside / "rules.yml")
    (folder / "promptfooconfig.yaml").write_text(
        "prompts: [file://prompts.txt, file://../outside/prompts.txt]\nproviders: [echo]\ntests: []\n"
    )
    run = import_paths([folder], OPTIONS)
    (item,) = run.imported  # the symlinked rule file is not imported
    assert list(item.files) == ["promptfooconfig.yaml"]
    assert item.manifest["spec"]["unresolved_refs"] == ["file://prompts.txt", "file://../outside/prompts.txt"]
    assert {f.detail for f in run.having("skipped")} == {f"a symlink out of {folder}, not read"}


def test_files_over_the_limit_and_invalid_utf8_are_refused() -> None:
    with pytest.raises(NativeError, match="the limit is 5,000,000"):
        Source.of("big.yml", b"#" * 6_000_000)
    with pytest.raises(NativeError, match="not UTF-8 text") as err:
        Source.of("bad.yml", b"groups:\n  - name: \xff\xfe\n")
    assert err.value.line == 2


def test_duplicate_keys_name_both_lines() -> None:
    raw = RULES.replace(b"        for: 5m\n", b"        for: 5m\n        for: 10m\n")
    with pytest.raises(NativeError, match=r"the key 'for' appears twice in one mapping \(first on line 6\)") as err:
        _import("rules.yml", raw)
    assert err.value.line == 7


def test_literal_credentials_are_refused_unless_allowed() -> None:
    raw = b"prompts: ['{{q}}']\nproviders:\n  - id: openai:gpt-4o-mini\n    config:\n      apiKey: sk-live-12345678\n"
    with pytest.raises(
        NativeError, match=re.escape("literal credentials found: provider openai:gpt-4o-mini config.apiKey")
    ):
        _import("promptfooconfig.yaml", raw)
    options = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", allow_secrets=True)
    assert import_source(Source.of("promptfooconfig.yaml", raw), options)


def test_urls_are_recorded_never_fetched() -> None:
    raw = b"prompts: ['{{q}}']\nproviders: [echo]\ntests: huggingface://datasets/org/qa\n"
    (manifest,) = _import("promptfooconfig.yaml", raw)
    assert manifest["spec"]["dataset"]["uri"] == "huggingface://datasets/org/qa"
    assert "unresolved_refs" not in manifest["spec"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"this is not a prometheus rule file {{{", "not valid YAML|not a file of any format"),
        (RULES.replace(b"expr: rate(errors[5m]) > 1", b"record: x"), "exactly one of `alert` and `record`"),
        (RULES.replace(b"for: 5m", b"for: 5 minutes"), "is not a duration"),
        (RULES + b"extra: 1\n", "unknown top-level field 'extra'"),
        (RULES + b"---\n" + RULES, "one YAML document"),
    ],
)
def test_broken_rule_files_say_what_and_where(raw: bytes, message: str) -> None:
    with pytest.raises(NativeError, match=message):
        _import("rules.yml", raw, "prometheus" if b"{{{" not in raw else "auto")


def test_a_folder_walk_skips_files_of_no_known_format(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_bytes(RULES)
    (tmp_path / "notes.yaml").write_text("owner: someone\n")
    assert [i.manifest["slug"] for i in import_paths([tmp_path], OPTIONS).imported] == ["high-errors"]
    (tmp_path / "broken.json").write_text("{not json")
    skipped = import_paths([tmp_path], OPTIONS).having("skipped")
    assert [(Path(f.path).name, f.detail) for f in skipped] == [
        ("broken.json", "not a file of any format the registry imports (not valid JSON: Expecting property name "
         "enclosed in double quotes: line 1 column 2 (char 1))"),
        ("notes.yaml", "not a file of any format the registry imports"),
    ]  # fmt: skip
    with pytest.raises(NativeError, match="not a file of any format"):
        import_strictly([tmp_path / "notes.yaml"], OPTIONS)


def test_select_and_slug_prefix() -> None:
    raw = RULES + b"      - alert: LowTraffic\n        expr: rate(req[5m]) < 1\n        labels: {severity: info}\n"
    options = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", select=("LowTraffic",), slug_prefix="api-")
    (item,) = import_source(Source.of("rules.yml", raw), options)
    assert item.manifest["slug"] == "api-low-traffic"
    assert item.manifest["spec"]["condition"] == {"op": "<", "threshold": 1.0, "window": "0s", "applies_to": "value"}
    with pytest.raises(NativeError, match="--select matched nothing; the file has: HighErrors, LowTraffic"):
        import_source(Source.of("rules.yml", raw), ImportOptions(owner="a-b", pilot="c-d", select=("Nope",)))


def test_command_line_overrides() -> None:
    path = Path(__file__).resolve().parents[1] / "corpora" / "lm-eval"
    task = next(path.glob("*arc_easy.yaml"))
    options = ImportOptions(
        owner="a-b",
        pilot="c-d",
        slug="arc-easy-gate",
        title="ARC easy, our gate",
        tags=("science",),
        thresholds=(("acc", 0.8),),
    )
    (item,) = import_paths([task], options).imported
    assert item.manifest["title"] == "ARC easy, our gate" and "science" in item.manifest["tags"]
    assert item.manifest["slug"] == "arc-easy-gate"
    assert item.manifest["spec"]["metrics"][0] == {
        "name": "acc",
        "threshold": 0.8,
        "higher_is_better": True,
        "threshold_kind": "score",
    }
    with pytest.raises(NativeError, match="--threshold names no metric 'f1'; the metrics are: acc, acc_norm"):
        import_strictly([task], ImportOptions(owner="a-b", pilot="c-d", thresholds=(("f1", 0.5),)))
    with pytest.raises(NativeError, match="--slug, --title and --summary name one asset; the file gives 2"):
        import_source(
            Source.of("rules.yml", RULES + RULES[RULES.index(b"      - alert") :].replace(b"HighErrors", b"B")),
            ImportOptions(owner="a-b", pilot="c-d", title="One title"),
        )


def test_characters_yaml_refuses_are_a_clear_error() -> None:
    with pytest.raises(NativeError, match=re.escape("the character U+008E is not allowed")) as err:
        _import("rules.yml", "groups:\n  - name: \u008e\n".encode())
    assert err.value.line == 2
