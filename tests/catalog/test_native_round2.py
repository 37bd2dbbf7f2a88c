"""What real files tripped on, round 2: each class fixed at its root, on the real layouts in tests/corpora/folders
(sources in tests/corpora/SOURCES.md) and, where no public file has the shape, on the smallest file that does."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from catalog.native.base import Source
from catalog.native.folders import AttachedFolder, DiskFolder
from catalog.native.formats import get_format
from catalog.native.importing import Imported, ImportOptions, import_paths, import_source
from catalog.native.validation import native_problems
from catalog.templates import template_variables

FOLDERS = Path(__file__).resolve().parents[1] / "corpora" / "folders"
PRONE = Path(__file__).resolve().parents[1] / "corpora" / "prompty"
OPTIONS = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake")


def _by_slug(*paths: Path) -> dict[str, Imported]:
    return {i.manifest["slug"]: i for i in import_paths(list(paths), OPTIONS).imported}


def _files(item: Imported) -> list[tuple[str, bytes]]:
    return list(item.files.items())


def test_lm_eval_includes_are_attached_and_publish_validates_them_together() -> None:
    assets = _by_slug(FOLDERS / "lm-eval-paws-x", FOLDERS / "lm-eval-mmlu-continuation")
    en = assets["paws-en"]
    assert list(en.files) == ["paws_en.yaml", "pawsx_template_yaml"]
    spec = en.manifest["spec"]
    assert spec["includes"] == ["pawsx_template_yaml"]
    assert (spec["dataset"]["uri"], spec["dataset"]["name"], spec["dataset"]["split"]) == (
        "hf://google-research-datasets/paws-x", "en", "test")  # fmt: skip
    assert [m["name"] for m in spec["metrics"]] == ["acc"] and spec["output_type"] == "multiple_choice"
    assert spec["functions"] == [] and assets["paws-de"].manifest["spec"]["functions"][0]["function"] == (
        "utils.process_docs_paraphrases")  # fmt: skip
    for item in assets.values():  # what the dry run accepted, publish accepts: the includes are attached beside it
        assert native_problems("eval_harness", item.manifest["spec"], _files(item)) == [], item.manifest["slug"]
    alone = [("paws_en.yaml", en.files["paws_en.yaml"])]
    (problem,) = native_problems("eval_harness", spec, alone)
    assert problem.pointer == "/files/0" and "pawsx_template_yaml" in problem.detail
    stats = assets["mmlu-high-school-statistics-continuation"].manifest
    assert stats["spec"]["dataset"]["uri"] == "hf://cais/mmlu" and stats["tags"][:2] == [
        "lm-eval",
        "mmlu-stem-continuation",
    ]
    group = assets["mmlu-continuation"].manifest
    assert "stem (mmlu_stem_continuation), other (mmlu_other_continuation)" in group["summary"]
    assert "{" not in group["summary"] and "[" not in group["description"]


def test_promptfoo_prompt_and_test_files_are_read_as_promptfoo_reads_them() -> None:
    cli = _by_slug(FOLDERS / "promptfoo-simple-cli")["a-translator-built-with-llm"]
    assert list(cli.files) == ["promptfooconfig.yaml", "prompts.txt"]  # `prompts: prompts.txt`, no file://
    assert cli.manifest["spec"]["prompts"] == ["prompts.txt"] and cli.manifest["spec"]["dataset"]["rows"] == 4
    assert "Rephrase this" not in cli.manifest["description"]  # a file name, not a prompt text
    csv = _by_slug(FOLDERS / "promptfoo-simple-csv")["a-translator-built-with-llm"]
    assert list(csv.files) == ["promptfooconfig.yaml", "prompts.txt", "tests.csv"]
    spec = csv.manifest["spec"]
    assert (spec["dataset"]["uri"], spec["dataset"]["rows"]) == ("file://tests.csv", 4)  # counted in the CSV
    assert [m["name"] for m in spec["metrics"]] == ["pass_rate", "icontains"]  # from its __expected column
    sheet = _by_slug(FOLDERS / "promptfoo-google-sheets")["promptfoo-google-sheets"]
    uri = sheet.manifest["spec"]["dataset"]["uri"]
    assert uri.startswith("https://docs.google.com/spreadsheets/") and sheet.manifest["spec"]["dataset"]["rows"] is None
    assert list(sheet.files) == ["promptfooconfig.yaml", "prompts.txt"] and uri in sheet.manifest["summary"]


def test_promptfoo_test_lists_mix_globs_urls_and_cases(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "a.yaml").write_text("- vars: {q: one}\n  assert: [{type: contains, value: x}]\n")
    (tmp_path / "tests" / "b.yaml").write_text("- vars: {q: two}\n- vars: {q: three}\n")
    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['Answer {{q}}']\nproviders: [echo]\ntests:\n  - file://tests/*.yaml\n"
        "  - https://docs.google.com/spreadsheets/d/abc/edit\n  - vars: {q: inline}\n"
    )
    (item,) = import_paths([tmp_path / "promptfooconfig.yaml"], OPTIONS).imported
    spec = item.manifest["spec"]
    assert list(item.files) == ["promptfooconfig.yaml", "tests/a.yaml", "tests/b.yaml"]
    assert spec["dataset"]["rows"] is None  # the sheet's cases are not counted: never fetched
    assert (
        "1 inline test cases; tests from file://tests/*.yaml, https://docs.google.com" in spec["dataset"]["description"]
    )
    assert [m["name"] for m in spec["metrics"]] == ["pass_rate", "contains"]


def test_dotprompt_helpers_partials_and_escapes() -> None:
    assets = _by_slug(FOLDERS / "dotprompt-genkit-go", FOLDERS / "dotprompt-genkit-java", FOLDERS / "dotprompt-fiddle")
    assert assets["multi-msg"].manifest["spec"]["variables"] == ["videoUrl"]  # {{media url=videoUrl}}
    assert [m["role"] for m in assets["multi-msg"].manifest["spec"]["messages"]] == ["system", "user"]
    assert assets["travel-planner"].manifest["spec"]["variables"] == [
        "budget", "destination", "duration", "interests", "travelStyle"]  # fmt: skip
    fiddle = assets["generate-prompt"]
    assert fiddle.manifest["spec"]["variables"] == ["existingPrompt", "query"]  # `\{{someVariable}}` is text
    assert fiddle.manifest["spec"]["unresolved_refs"] == ["_dotprompt_docs.prompt", "_prompting_docs.prompt"]
    assert any("_prompting_docs.prompt is missing" in n for n in fiddle.notices)
    text = '{{role "system"}}{{history}}{{section "x"}}{{json data}}{{> style personality=persona}}{{ifEquals a b}}'
    assert template_variables(text, "handlebars") == {"data", "persona", "a", "b"}
    source = Source.of("c.prompt", b'{{!-- kept out of the messages --}}\n{{role "system"}}\nHi {{name}}\n')
    (item,) = import_source(source, OPTIONS)
    assert item.manifest["spec"]["messages"] == [{"role": "system", "content": "Hi {{name}}"}]


def test_grafana_recording_rules_are_skipped_with_a_notice() -> None:
    run = import_paths([FOLDERS / "grafana-provisioning"], OPTIONS)
    outcomes = {Path(f.path).name: f.outcome for f in run.files}
    assert outcomes == {"rules.yml": "imported", "with-target-datasource.yml": "skipped"}
    first = run.imported[0].manifest["spec"]
    assert first["signal"] == "query A of datasource PD8C576611E62080A" and first["severity"] == "warning"
    both = yaml.safe_load((FOLDERS / "grafana-provisioning" / "multiple-rules" / "rules.yml").read_text())
    recording = yaml.safe_load(
        (FOLDERS / "grafana-provisioning" / "recording-rules" / "with-target-datasource.yml").read_text()
    )
    both["groups"][0]["rules"] += recording["groups"][0]["rules"]
    items = import_source(Source.of("mixed.yml", yaml.safe_dump(both).encode()), OPTIONS)
    assert [i.manifest["slug"] for i in items] == ["my-first-rule", "my-other-rule"]
    assert any("1 recording rule(s) skipped (my_recording_rule_with_target)" in n for n in items[0].notices)


RULES = b"""groups:
  - name: llm
    rules:
      - record: job:errors:rate5m
        expr: sum(rate(errors_total[5m])) by (job)
      - alert: HighErrorRate
        expr: |
          # errors per second, over the last five minutes (don't page below it)
          job:errors:rate5m{job="llm-gateway#1"} > 0.5 # the budget
        for: 10m
      - alert: NoSeverity
        expr: up == 0
        labels: {severity: page-me}
"""


def test_prometheus_comments_severities_and_recording_rules() -> None:
    high, nosev = import_source(Source.of("rules.yml", RULES), OPTIONS)
    spec = high.manifest["spec"]
    assert spec["signal"] == 'job:errors:rate5m{job="llm-gateway#1"}'  # a `#` inside a string is not a comment
    assert (spec["condition"]["op"], spec["condition"]["threshold"]) == (">", 0.5)
    assert spec["expr"].startswith("# errors per second")  # kept verbatim
    notices = [*high.notices, *nosev.notices]
    assert "HighErrorRate: no `severity` label; recorded as warning" in notices
    assert any(n.startswith("NoSeverity: severity 'page-me' is not one the registry knows (") for n in notices)
    assert any("1 recording rule(s) skipped (job:errors:rate5m)" in n for n in notices)
    assert not any("None" in n for n in notices)


HYBRID = """components:
  sparse_text_embedder:
    type: SPARSE
    init_parameters: {model: prithvida/Splade_PP_en_v1}
  dense_text_embedder:
    type: haystack_integrations.components.embedders.fastembed.fastembed_text_embedder.FastembedTextEmbedder
    init_parameters: {model: BAAI/bge-small-en-v1.5}
  retriever:
    type: haystack_integrations.components.retrievers.qdrant.retriever.QdrantHybridRetriever
    init_parameters:
      document_store:
        type: haystack_integrations.document_stores.qdrant.document_store.QdrantDocumentStore
        init_parameters: {embedding_dim: 384, use_sparse_embeddings: true}
      top_k: 5
connections:
  - {sender: sparse_text_embedder.sparse_embedding, receiver: retriever.query_sparse_embedding}
  - {sender: dense_text_embedder.embedding, receiver: retriever.query_embedding}
""".replace(
    "SPARSE",
    "haystack_integrations.components.embedders.fastembed.fastembed_sparse_text_embedder.FastembedSparseTextEmbedder",
)


def test_a_hybrid_pipeline_reports_its_dense_embedder_and_its_sparse_one() -> None:
    (item,) = import_source(Source.of("hybrid.yaml", HYBRID.encode()), OPTIONS)
    spec: dict[str, Any] = item.manifest["spec"]
    assert spec["embedder"] == {"model": "BAAI/bge-small-en-v1.5", "dimensions": 384}
    assert spec["sparse_embedder"] == {"model": "prithvida/Splade_PP_en_v1", "component": "sparse_text_embedder"}
    assert "hybrid" in item.manifest["tags"]


def test_a_legacy_prompty_regenerates_inputs_the_current_runtime_reads() -> None:
    legacy = PRONE / "microsoft__prompty__web__src__content__docs__legacy__getting-started__setup__socrates.prompty"
    (item,) = import_paths([legacy], OPTIONS).imported
    front = yaml.safe_load(get_format("prompty").generate(item.manifest).split(b"---\n")[1])
    assert [(i["name"], i["kind"]) for i in front["inputs"]] == [
        ("context", "string"), ("firstName", "string"), ("question", "string")]  # fmt: skip
    assert front["inputs"][1]["example"] == "Nitya"  # the v1 `sample` value


def test_every_real_layout_file_is_recorded_with_its_source() -> None:
    sources = (FOLDERS.parent / "SOURCES.md").read_text(encoding="utf-8")
    for path in sorted(p for p in FOLDERS.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        assert f"| `folders/{path.relative_to(FOLDERS).as_posix()}` |" in sources, path
        assert f"`{digest}`" in sources, path


def test_what_every_corpus_import_proposes_passes_the_publish_checks() -> None:
    """Dry run = publish: the manifest validates (at import) and its native files validate together."""
    options = ImportOptions(owner="claims-ai", pilot="motor-fnol-intake", allow_secrets=True)
    folders = [p for p in FOLDERS.parent.iterdir() if p.is_dir() and p.name != "folders"] + [FOLDERS]
    run = import_paths(sorted(folders), options)
    assert run.having("failed") == [] and len(run.imported) >= 180
    for item in run.imported:
        problems = native_problems(item.manifest["kind"], item.manifest["spec"], _files(item))
        assert problems == [], (item.origin, problems)


def test_promptfoo_providers_default_test_and_scenarios_named_as_files_are_attached(tmp_path: Path) -> None:
    (tmp_path / "provider.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "default.yaml").write_text("assert:\n  - type: is-json\n")
    (tmp_path / "cases.csv").write_text("q,__expected\nhi,contains:hi\n")
    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['Say {{q}}']\nproviders: [file://provider.py, openai:gpt-4o-mini]\n"
        "defaultTest: file://default.yaml\nscenarios:\n  - config: [{vars: {q: a}}]\n    tests: file://cases.csv\n"
    )
    (item,) = import_paths([tmp_path / "promptfooconfig.yaml"], OPTIONS).imported
    assert sorted(item.files) == ["cases.csv", "default.yaml", "promptfooconfig.yaml", "provider.py"]
    assert "unresolved_refs" not in item.manifest["spec"]
    assert [m["name"] for m in item.manifest["spec"]["metrics"]] == ["pass_rate", "is-json"]  # defaultTest's


def test_lm_eval_code_and_data_beside_a_task_are_attached_never_run(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "test.jsonl").write_text('{"q": "2+2", "a": "4"}\n')
    (tmp_path / "utils.py").write_text("raise SystemExit('never run by the registry')\n")
    (tmp_path / "claims.yaml").write_text(
        "task: claims_qa\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: data/test.jsonl\n"
        "test_split: test\ndoc_to_text: '{{q}}'\ndoc_to_target: a\nprocess_docs: !function utils.clean\n"
    )
    (item,) = import_paths([tmp_path / "claims.yaml"], OPTIONS).imported
    assert sorted(item.files) == ["claims.yaml", "data/test.jsonl", "utils.py"]
    assert native_problems("eval_harness", item.manifest["spec"], _files(item)) == []
    de = _by_slug(FOLDERS / "lm-eval-paws-x")["paws-de"]  # its utils.py is not in the corpus: said, not dropped
    assert de.manifest["spec"]["unresolved_refs"] == ["utils.py"]
    assert any("utils.py is missing" in n for n in de.notices)


def test_a_red_team_config_without_prompts_is_a_promptfoo_eval() -> None:
    raw = (
        b"description: Support bot red team\ntargets:\n  - id: openai:gpt-4o-mini\n    label: support-bot\n"
        b"redteam:\n  purpose: Answers billing questions\n  plugins: [pii, harmful:hate]\n"
        b"  strategies: [jailbreak]\n"
    )
    (item,) = import_source(Source.of("promptfooconfig.yaml", raw), OPTIONS)
    spec = item.manifest["spec"]
    assert item.format == "promptfoo" and spec["prompts"] == ["{{prompt}}"]
    assert spec["redteam"]["plugins"] == [{"id": "pii"}, {"id": "harmful:hate"}] and "redteam" in item.manifest["tags"]


def test_attached_files_are_read_and_globbed_as_the_folder_on_disk(tmp_path: Path) -> None:
    tree = {"task.yaml": b"t", "tests/a.yaml": b"a", "tests/deep/b.yaml": b"b", "tests/c.csv": b"c", "x.txt": b"x"}
    for rel, raw in tree.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(raw)
    disk, attached = DiskFolder(tmp_path, tmp_path), AttachedFolder(tree, PurePosixPath())
    for pattern in ("tests/*.yaml", "tests/**/*.yaml", "tests/?.csv", "*.t[x]t", "tests/[!a]*"):
        assert attached.glob(pattern) == disk.glob(pattern), pattern
    for ref in ("tests/a.yaml", "../task.yaml", "/etc/passwd", "https://x/y.yaml", "absent.yaml"):
        assert attached.read(ref) == disk.read(ref), ref
    assert attached.at("tests").read("deep/b.yaml") == ("deep/b.yaml", b"b")


def test_generated_test_sources_leave_the_count_unknown_without_a_notice(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text("def tests():\n    return []\n")
    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['{{q}}']\nproviders: [echo]\ntests: file://gen.py:tests\n"
    )
    (item,) = import_paths([tmp_path / "promptfooconfig.yaml"], OPTIONS).imported
    assert "gen.py" in item.files and item.manifest["spec"]["dataset"]["rows"] is None and item.notices == []
