"""Import never drops a reference without a word: what is missing or outside the folder is a notice (a failure
with --strict), and an lm-eval task whose include is absent imports only with --allow-missing-includes."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.native.base import NativeError
from catalog.native.importing import ImportOptions, import_paths
from tests.factories import CONFIG, TASK
from tests.helpers import import_strictly

OPTIONS = ImportOptions(owner="claims-ai", pilot="claims-triage-assistant")


def _promptfoo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "faithful"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "summarize.txt").write_text("Summarize: {{article}}\n")
    (folder / "promptfooconfig.yaml").write_text(CONFIG)
    (tmp_path / "outside.txt").write_text("never read\n")
    return folder


def test_missing_and_outside_references_are_notices(tmp_path: Path) -> None:
    run = import_paths([_promptfoo_folder(tmp_path)], OPTIONS)
    only, prompt = run.imported  # the prompt file is attached to the eval, and is a prompt asset of its own
    assert "prompts/summarize.txt" in only.files and prompt.format == "promptfoo-prompt"
    assert [(Path(f.path).name, f.outcome) for f in run.files] == [
        ("promptfooconfig.yaml", "imported"),
        ("summarize.txt", "imported"),
    ]
    assert run.files[1].detail == "summarize; also attached to summaries-stay-faithful"
    assert any("file://articles/* is missing or outside the imported folder" in n for n in only.notices)
    assert any("file://../outside.txt is missing or outside" in n for n in only.notices)
    with pytest.raises(NativeError, match="--strict, and the import has notices"):
        import_strictly([_promptfoo_folder(tmp_path / "again")], ImportOptions(**{**OPTIONS.__dict__, "strict": True}))


def test_an_absent_lm_eval_include_needs_the_flag_and_is_then_recorded(tmp_path: Path) -> None:
    (tmp_path / "claims_qa.yaml").write_text(TASK)
    with pytest.raises(NativeError, match="--allow-missing-includes"):
        import_strictly([tmp_path / "claims_qa.yaml"], OPTIONS)
    lenient = ImportOptions(**{**OPTIONS.__dict__, "allow_missing_includes": True})
    (only,) = import_paths([tmp_path / "claims_qa.yaml"], lenient).imported
    assert only.manifest["spec"]["unresolved_includes"] == ["_default_template.yaml"]
    assert any("the include _default_template.yaml is missing" in n for n in only.notices)
