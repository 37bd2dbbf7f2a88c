"""Manifest validation: every rejection names the field and says how to fix it."""

from __future__ import annotations

import pytest

from catalog.errors import InvalidInput
from catalog.schemas import parse_manifest, template_variables
from catalog.versions import InvalidVersion, VersionRange
from tests.factories import manifest


def problems(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        parse_manifest(data)
    return {p.pointer: p.detail for p in err.value.problems}


def test_common_fields_are_checked_with_fixes() -> None:
    found = problems(manifest(slug="Claims Prompt", version="1.2", tags=["ok", "Not Valid!"], owner=""))
    assert set(found) == {"/slug", "/version", "/tags", "/owner"}
    assert "for example 'claims-triage-prompt'" in found["/slug"]
    assert "MAJOR.MINOR.PATCH" in found["/version"]


def test_missing_and_unknown_fields() -> None:
    data = manifest()
    del data["title"]
    data["colour"] = "blue"
    found = problems(data)
    assert set(found) == {"/title", "/colour"}


def test_unknown_kind_names_the_allowed_ones() -> None:
    found = problems(manifest(kind="notebook"))
    assert "prompt" in found["/kind"] and "monitor" in found["/kind"]


@pytest.mark.parametrize(
    ("template", "fmt", "expected"),
    [
        ("Hi {{name}}, {{#docs}}{{title}}{{/docs}} {{! comment}} {{{raw}}}", "mustache", {"name", "docs", "raw"}),
        ("{% for d in docs %}{{ d.text }}{% endfor %} {{ question | upper }}", "jinja2", {"docs", "question"}),
        ("Answer {question} using {context[0]} and {{literal}}", "f-string", {"question", "context"}),
    ],
)
def test_template_variables_per_format(template: str, fmt: str, expected: set[str]) -> None:
    assert template_variables(template, fmt) == expected


def test_prompt_variables_must_match_the_template() -> None:
    spec = {"template": "Summarise {{document}} for {{audience}}", "variables": ["document", "tone"]}
    found = problems(manifest(spec=spec))
    assert "['audience']" in found["/spec"] and "['tone']" in found["/spec"]


def test_prompt_messages_and_broken_templates() -> None:
    ok = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{q}}"}],
        "variables": ["q"],
    }
    assert parse_manifest(manifest(spec=ok)).spec.model_dump()["variables"] == ["q"]
    found = problems(manifest(spec={"template": "{{#a}} never closed", "variables": ["a"]}))
    assert "never closed" in found["/spec"]
    found = problems(manifest(spec={"template": "{% if x %}", "template_format": "jinja2", "variables": ["x"]}))
    assert "does not parse" in found["/spec"]
    found = problems(manifest(spec={"variables": []}))
    assert "exactly one of `template`" in found["/spec"]


def test_kind_specific_rules() -> None:
    harness = manifest("eval_harness")
    harness["spec"]["baseline_results"] = {"recall": 0.5}
    assert "not among the metrics" in problems(harness)["/spec"]
    harness["spec"] = {**harness["spec"], "metrics": []}
    assert "/spec/metrics" in problems(harness)
    pipeline = manifest("retrieval_pipeline")
    pipeline["spec"]["chunking"] = {"size": 100, "overlap": 100}
    assert "smaller than the chunk size" in problems(pipeline)["/spec/chunking"]
    monitor = manifest("monitor")
    monitor["spec"]["condition"]["window"] = "an hour"
    monitor["spec"]["severity"] = "sev1"
    found = problems(monitor)
    assert "'5m'" in found["/spec/condition"]
    assert "/spec/severity" in found


def test_spec_keeps_unknown_keys() -> None:
    data = manifest("monitor")
    data["spec"]["labels"] = {"team": "claims"}
    assert parse_manifest(data).spec.model_dump()["labels"] == {"team": "claims"}


def test_files_and_dependencies_are_checked() -> None:
    found = problems(manifest(files=[{"path": "../etc/passwd", "content": "x"}]))
    assert "climbs out" in found["/files/0/path"]
    found = problems(manifest(depends_on=[{"slug": "claims-triage-prompt"}]))
    assert "cannot depend on itself" in found["/"]
    found = problems(manifest(depends_on=[{"slug": "other-eval", "version": "about 1"}]))
    assert "/depends_on/0/version" in found


@pytest.mark.parametrize(
    ("text", "yes", "no"),
    [
        (">=1.0,<2", ["1.0.0", "1.9.3"], ["2.0.0", "0.9.0"]),
        ("^1.2", ["1.2.0", "1.9.0"], ["1.1.9", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
        ("~1.4", ["1.4.0", "1.4.7"], ["1.5.0"]),
        ("1.3", ["1.3.0", "1.3.5"], ["1.4.0"]),
        ("==1.3.2", ["1.3.2"], ["1.3.3"]),
        ("*", ["0.0.1", "9.0.0"], []),
    ],
)
def test_version_ranges(text: str, yes: list[str], no: list[str]) -> None:
    rng = VersionRange(text)
    assert all(rng.matches(v) for v in yes)
    assert not any(rng.matches(v) for v in no)


def test_bad_ranges_say_what_a_good_one_looks_like() -> None:
    with pytest.raises(InvalidVersion, match="for example"):
        VersionRange(">> 1")
