"""Dotprompt and Grafana, the formats the shared corpora hold no sample of: written from their documentation
(tests/catalog/native_samples), imported, generated back and re-imported."""

from __future__ import annotations

from pathlib import Path

from catalog.native.base import Source
from catalog.native.exporting import generated_suffix
from catalog.native.formats import get_format
from catalog.native.importing import ImportOptions, import_paths, import_source
from catalog.templates import template_variables

SAMPLES = Path(__file__).parent / "native_samples"
OPTIONS = ImportOptions(owner="claims-ai", pilot="claims-triage-assistant")


def test_dotprompt_with_role_helpers_blocks_and_a_partial() -> None:
    (item,) = import_paths([SAMPLES / "greeting.prompt"], OPTIONS).imported
    spec = item.manifest["spec"]
    assert item.format == "dotprompt" and spec["template_format"] == "handlebars"
    assert [m["role"] for m in spec["messages"]] == ["system", "user"]
    assert spec["variables"] == ["name", "style"]  # `if` is a helper, `style` its argument
    assert spec["model"] == {"provider": "googleai", "name": "gemini-2.5-flash", "parameters": {"temperature": 0.6}}
    assert spec["output_schema"] == {
        "type": "object",
        "properties": {"greeting": {"type": "string", "description": "the greeting"}, "language": {"type": "string"}},
        "required": ["greeting"],
    }
    assert sorted(item.files) == ["_signature.prompt", "greeting.prompt"] and spec["partials"] == ["signature"]


def test_grafana_rule_reads_its_threshold_through_the_expression_chain() -> None:
    (item,) = import_paths([SAMPLES / "alerts.yaml"], OPTIONS).imported
    spec = item.manifest["spec"]
    assert item.format == "grafana" and item.manifest["slug"] == "llm-p95-latency-above-3-s"
    assert spec["signal"] == "histogram_quantile(0.95, sum(rate(llm_request_seconds_bucket[5m])) by (le))"
    assert spec["condition"] == {"op": ">", "threshold": 3.0, "window": "5m", "applies_to": "value"}
    assert (spec["severity"], spec["runbook_url"]) == ("critical", "https://wiki.example.com/runbooks/llm-latency")


def test_both_generate_files_that_import_back_the_same() -> None:
    for name in ("greeting.prompt", "alerts.yaml"):
        (item,) = import_paths([SAMPLES / name], OPTIONS).imported
        fmt = get_format(item.format)
        generated = fmt.generate(item.manifest)
        options = ImportOptions(owner="claims-ai", pilot="claims-triage-assistant", format=item.format)
        back = import_source(Source.of(item.manifest["slug"] + generated_suffix(item.format, item.manifest), generated),
                             options)[0].manifest  # fmt: skip
        assert fmt.generate(back) == generated
        for key in ("messages", "variables", "model", "signal", "condition", "severity"):
            if key in item.manifest["spec"]:
                assert back["spec"][key] == item.manifest["spec"][key], (name, key)


def test_handlebars_variables() -> None:
    text = "{{#each items}}{{this.name}} {{@index}}{{/each}} {{json data}} {{media url=photo}} {{{raw}}} {{!-- x --}}"
    assert template_variables(text, "handlebars") == {"items", "data", "photo", "raw"}
    assert template_variables("{join(documents, delimiter=new_line)} {query}", "haystack-v1") == {"documents", "query"}
    assert template_variables("{{ x | dump }} {% message role='user' %}{{ y }}{% endmessage %}", "jinja2") == {"x", "y"}
