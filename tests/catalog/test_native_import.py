"""Every real-world file in tests/corpora imports as the native-formats notes predict, and round-trips (RT1-RT4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.native.base import NativeError, Source
from catalog.native.exporting import export_native, generated_suffix
from catalog.native.formats import detect, get_format
from catalog.native.importing import Imported, ImportOptions, import_paths, import_source
from catalog.schemas import parse_manifest
from catalog.services.publishing import content_digest

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
OPTIONS = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake")
FOLDER_FORMATS = {
    "promptfoo": {"promptfoo"},
    "lm-eval": {"lm-eval"},
    "haystack": {"haystack"},
    "prompty": {"prompty"},
    "prompt-other": {"prompthub", "langchain", "promptfoo-prompt"},
    "prometheus-rules": {"prometheus"},
}
# The flat folders: one file each, named after its source; tests/corpora/folders keeps real folder layouts.
ALL_FILES = sorted(p for p in CORPORA.glob("*/*") if p.is_file() and p.parent.name in FOLDER_FORMATS)


def _import(name: str) -> list[Imported]:
    path = next(p for p in ALL_FILES if p.name.endswith(name))
    return import_paths([path], OPTIONS).imported


def _spec(name: str) -> dict[str, Any]:
    (item,) = _import(name)
    return item.manifest["spec"]


def test_every_sample_imports_to_the_counts_the_notes_give() -> None:
    counts: dict[str, int] = {}
    for path in ALL_FILES:
        imported = import_paths([path], OPTIONS).imported
        assert {i.format for i in imported} <= FOLDER_FORMATS[path.parent.name], path.name
        counts[path.parent.name] = counts.get(path.parent.name, 0) + len(imported)
        for item in imported:
            parse_manifest(item.manifest)  # valid as published
            assert item.files[path.name] == path.read_bytes()  # the original, byte for byte
    assert counts == {
        "promptfoo": 13,
        "lm-eval": 6,
        "haystack": 9,
        "prompty": 9,
        "prompt-other": 11,
        "prometheus-rules": 115,
    }


def test_all_115_alerting_rules_match_appendix_a() -> None:
    expected = json.loads((Path(__file__).parent / "native_alerts.json").read_text(encoding="utf-8"))
    actual = []
    for path in sorted((CORPORA / "prometheus-rules").iterdir()):
        for item in import_paths([path], OPTIONS).imported:
            spec = item.manifest["spec"]
            actual.append(
                {
                    "file": path.name.rsplit("__", 1)[-1],
                    "group": spec["group"]["name"],
                    "alert": spec["alert"],
                    "slug": item.manifest["slug"],
                    "severity": spec["severity"],
                    "window": spec["condition"]["window"],
                    "applies_to": spec["condition"]["applies_to"],
                    "op": spec["condition"]["op"],
                    "threshold": float(spec["condition"]["threshold"]),
                    "signal": spec["signal"],
                }
            )
    by_alert = {(r["file"], r["alert"]): r for r in actual}
    assert len(actual) == len(expected) == 115
    for row in expected:
        got = by_alert[(row["file"], row["alert"])]
        signal = " ".join(row["signal"].split())
        assert got == {**row, "signal": signal}, row["alert"]


def test_kuberay_crd_keeps_kubernetes_metadata_and_recording_rules() -> None:
    spec = _spec("prometheusRules.yaml")
    assert spec["kubernetes"]["metadata"]["labels"] == {"release": "prometheus"}
    assert spec["native"]["selector"] == {
        "group": "ray-cluster-main-staging-gcs.rules",
        "alert": "MissingMetricRayGlobalControlStore",
        "index": 0,
        "document": 0,
    }
    assert [r["record"] for r in spec["recording_rules"]] == ["ray_gcs_availability_30d"]


def test_samber_rules_keep_their_cc_by_attribution() -> None:
    item = _import("python-exporter.yml")[0]
    assert 'awesome-prometheus-alerts" by Samuel Berthe' in item.manifest["description"]


@pytest.mark.parametrize(
    ("name", "title", "metrics", "rows", "uri"),
    [
        (
            "claude-vs-gpt__promptfooconfig.yaml",
            "Claude 3.5 vs GPT 4o",
            ["pass_rate", "cost", "latency", "javascript", "icontains", "llm-rubric", "icontains-any", "contains"],
            15,
            None,
        ),
        ("getting-started__promptfooconfig.yaml", "Getting started", ["pass_rate", "contains", "icontains"], 2, None),
        ("redteam-agent__promptfooconfig.yaml", "Agent Redteam", ["pass_rate"], 30, "promptfoo-redteam:generated"),
        ("redteam-starter__promptfooconfig.yaml", "Red Team Starter", ["pass_rate"], None, None),
        ("simple-csv__promptfooconfig.yaml", "A translator built with LLM", ["pass_rate"], None, "file://tests.csv"),
        (
            "summarization__promptfooconfig.yaml",
            None,
            ["pass_rate", "not-starts-with", "not-contains", "javascript"],
            None,
            None,
        ),
    ],
)
def test_promptfoo_configs(name: str, title: str | None, metrics: list[str], rows: int | None, uri: str | None) -> None:
    (item,) = _import(name)
    spec = item.manifest["spec"]
    if title:
        assert item.manifest["title"] == title
    assert [m["name"] for m in spec["metrics"]] == metrics
    assert spec["dataset"]["rows"] == rows
    assert spec["runner"] == {"type": "promptfoo", "entry": item.origin} and spec["targets"] == ["prompt"]
    if uri:
        assert spec["dataset"]["uri"] == uri


def test_promptfoo_metric_thresholds_and_tags() -> None:
    spec = _spec("claude-vs-gpt__promptfooconfig.yaml")
    cost, latency = spec["metrics"][1], spec["metrics"][2]
    assert (cost["threshold"], cost["higher_is_better"], cost["threshold_kind"]) == (0.01, False, "score")
    assert (latency["threshold"], latency["higher_is_better"]) == (3000, False)
    rag = _import("rag-eval__promptfooconfig.yaml")[0]
    assert {"rag", "llm-as-judge"} <= set(rag.manifest["tags"])
    assert [m["threshold"] for m in rag.manifest["spec"]["metrics"][3:]] == [0.9, 0.9, 0.9, 0.9]
    starter = _spec("redteam-starter__promptfooconfig.yaml")
    assert [p["id"] for p in starter["redteam"]["plugins"]] == ["harmful", "intent"]
    assert "intent" not in json.dumps(starter["redteam"]).replace('"intent"', "")  # ids only, never the texts


@pytest.mark.parametrize(
    ("name", "slug", "uri", "split", "metrics"),
    [
        ("arc_easy.yaml", "arc-easy", "hf://allenai/ai2_arc", "test", ["acc", "acc_norm"]),
        (
            "gsm8k.yaml",
            "gsm8k",
            "hf://openai/gsm8k",
            "test",
            ["exact_match,strict-match", "exact_match,flexible-extract"],
        ),
        ("hellaswag.yaml", "hellaswag", "hf://Rowan/hellaswag", "validation", ["acc", "acc_norm"]),
        (
            "ifeval.yaml",
            "ifeval",
            "hf://google/IFEval",
            "train",
            ["prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc"],
        ),
        ("_mmlu.yaml", "mmlu", "lm-eval-group:mmlu", None, ["acc"]),
        (
            "triviaqa__default.yaml",
            "triviaqa",
            "hf://mandarjoshi/trivia_qa",
            "validation",
            ["exact_match,remove_whitespace"],
        ),
    ],
)
def test_lm_eval_tasks_and_groups(name: str, slug: str, uri: str, split: str | None, metrics: list[str]) -> None:
    (item,) = _import(name)
    spec = item.manifest["spec"]
    assert item.manifest["slug"] == slug
    assert spec["dataset"]["uri"] == uri and spec["dataset"].get("split") == split
    assert [m["name"] for m in spec["metrics"]] == metrics
    assert all(m["higher_is_better"] and m["threshold_kind"] == "unset" for m in spec["metrics"])


def test_lm_eval_function_tags_are_markers_never_code() -> None:
    spec = _spec("hellaswag.yaml")
    assert spec["functions"] == [{"path": "/process_docs", "function": "utils.process_docs"}]
    assert spec["config"]["process_docs"] == {"!function": "utils.process_docs"}


@pytest.mark.parametrize(
    ("name", "retriever", "embedder", "tags"),
    [
        (
            "basic_rag_pipeline.yml",
            {"k": 10, "k_source": "default"},
            None,
            {"haystack", "rag", "bm25", "in-memory", "openai", "hayhooks"},
        ),
        (
            "minimal_retriever.yml",
            {"k": 3},
            {"model": "sentence-transformers/paraphrase-MiniLM-L3-v2", "dimensions": 384},
            {"embedding-retrieval", "qdrant"},
        ),
        (
            "st_retriever.yml",
            {"k": 3},
            {"model": "sentence-transformers/paraphrase-MiniLM-L3-v2", "dimensions": 384},
            {"in-memory"},
        ),
        (
            "qa_rag_pipeline.yaml",
            {"k": 10},
            {"model": "sentence-transformers/all-MiniLM-L6-v2", "dimensions": 384},
            {"rag"},
        ),
        ("elasticsearch_indexing.yaml", None, None, {"indexing", "elasticsearch"}),
    ],
)
def test_haystack_pipelines(name: str, retriever: Any, embedder: Any, tags: set[str]) -> None:
    (item,) = _import(name)
    spec = item.manifest["spec"]
    assert spec.get("retriever") == retriever and spec.get("embedder") == embedder
    assert tags <= set(item.manifest["tags"])
    assert spec["framework"] == "haystack"


def test_haystack_utf8_title_and_secrets_stay_descriptors() -> None:
    (item,) = _import("utf8_pipeline.yml")
    assert item.manifest["title"] == "Pipeline with UTF-8: 你好世界 🌍 こんにちは мир Δοκιμή"
    llm = next(c for c in _spec("chat_with_website.yml")["components"] if c["name"] == "llm")
    assert llm["params"]["api_key"] == {"env_vars": ["OPENAI_API_KEY"], "strict": True, "type": "env_var"}


@pytest.mark.parametrize(
    ("name", "title", "roles", "variables", "model"),
    [
        (
            "groundedness.prompty",
            "QnA Groundedness Evaluation",
            ["system", "user"],
            ["answer", "context"],
            ("azure-openai", "gpt-4"),
        ),
        ("shorthand_quick.prompty", "quick-prompt", ["system", "user"], ["topic"], ("unspecified", "gpt-4o-mini")),
        (
            "basic.prompty",
            "basic-prompt",
            ["system", "user"],
            ["firstName", "lastName", "question"],
            ("openai", "gpt-4"),
        ),
        ("embedding.prompty", "embedding", None, ["text"], ("openai", "text-embedding-3-small")),
        ("tools_function.prompty", "function-tools", ["system", "user"], ["question"], ("unspecified", "gpt-4")),
        (
            "socrates.prompty",
            "Llama Ask You To Think About It",
            ["system", "user"],
            ["context", "firstName", "question"],
            ("serverless", "Meta-Llama-3-8B-Instruct"),
        ),
    ],
)
def test_prompty(name: str, title: str, roles: list[str] | None, variables: list[str], model: tuple[str, str]) -> None:
    (item,) = _import(name)
    spec = item.manifest["spec"]
    assert item.manifest["title"] == title
    assert [m["role"] for m in spec["messages"]] if roles else spec["template"] == "{{text}}\n"
    assert spec["variables"] == variables
    assert (spec["model"]["provider"], spec["model"]["name"]) == model


def test_prompty_env_references_are_never_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-resolved-would-leak")
    spec = _spec("basic.prompty")
    assert spec["model_native"]["connection"]["apiKey"] == "${env:OPENAI_API_KEY}"
    assert "sk-resolved-would-leak" not in json.dumps(spec)
    assert spec["model"]["parameters"] == {"temperature": 0.7, "maxOutputTokens": 1000}
    assert _spec("structured.prompty")["output_schema"]["required"] == ["temperature", "condition", "city"]


def test_other_prompt_files() -> None:
    qa = _import("question-answering-with-references.yaml")[0].manifest
    assert (qa["slug"], qa["version"]) == ("deepset-question-answering-with-references", "0.1.0")
    assert (qa["spec"]["template_format"], qa["spec"]["variables"]) == ("haystack-v1", ["documents", "query"])
    assert _spec("deepset-sentiment-analysis.yaml")["template_format"] == "f-string"
    chat = _spec("simple_chat_prompt.json")
    assert chat["messages"] == [
        {"role": "system", "content": "You are a comedian"},
        {"role": "user", "content": "Tell me a {adjective} joke about {content}."},
    ]
    assert (chat["variables"], chat["native_roles"]) == (["adjective", "content"], ["system", "human"])
    assert _spec("simple_chat_prompt.yaml")["messages"] == chat["messages"]
    riddle = _spec("claude-vs-gpt__prompt.yaml")
    assert riddle["messages"][1] == {"role": "user", "content": "Answer this riddle:\n{{riddle}}\n"}
    prompts = _import("self-grading__prompts.txt")
    assert [p.manifest["spec"]["native"]["selector"] for p in prompts] == [{"prompt_index": 0}, {"prompt_index": 1}]
    assert prompts[0].manifest["spec"]["template"].startswith("You're an ecommerce chat assistant")
    assert prompts[0].files == prompts[1].files


def test_detection_names_each_sample_format() -> None:
    for path in ALL_FILES:
        fmt, _ = detect(Source.of(path.name, path.read_bytes()))
        assert fmt.id in FOLDER_FORMATS[path.parent.name], path.name


def test_import_is_deterministic_and_exports_the_original_byte_for_byte() -> None:
    """RT1 and RT2: export gives the file back; importing that again gives the same digest."""
    for path in ALL_FILES:
        first = import_paths([path], OPTIONS).imported
        second = import_paths([path], OPTIONS).imported
        assert [i.manifest for i in first] == [i.manifest for i in second]
        for item in first:
            files = [{"path": p, "sha256": _sha(raw), "raw": raw} for p, raw in item.files.items()]
            exported = export_native(item.manifest, files)
            assert (exported.content, exported.generated) == (path.read_bytes(), False), path.name
            again = import_source(Source.of(path.name, exported.content), OPTIONS)
            match = next(a for a in again if a.manifest["slug"] == item.manifest["slug"])
            assert content_digest(parse_manifest(match.manifest)) == content_digest(parse_manifest(item.manifest))


def test_generated_files_import_back_and_generate_the_same_bytes() -> None:
    """RT3 and RT4: without the original, the generated file imports back and regenerates byte for byte."""
    for path in ALL_FILES:
        for item in import_paths([path], OPTIONS).imported[:2]:
            fmt = get_format(item.format)
            generated = fmt.generate(item.manifest)
            assert generated == fmt.generate(item.manifest) and generated.endswith(b"\n")
            name = item.manifest["slug"] + generated_suffix(item.format, item.manifest)
            options = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", format=item.format)
            back = import_source(Source.of(name, generated), options)[0].manifest
            assert fmt.generate(back) == generated, path.name
            assert back["kind"] == item.manifest["kind"]
            for key in ("template", "messages", "variables", "signal", "condition", "severity", "components"):
                if key in item.manifest["spec"]:
                    assert back["spec"][key] == item.manifest["spec"][key], (path.name, key)


def test_an_explicit_format_that_does_not_fit_names_the_expected_shape() -> None:
    path = next(p for p in ALL_FILES if p.name.endswith("gsm8k.yaml"))
    with pytest.raises(NativeError, match=r"Prometheus|groups|rule file"):
        import_source(
            Source.of(path.name, path.read_bytes()), ImportOptions(owner="a-b", pilot="c-d", format="prometheus")
        )


def _sha(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()
