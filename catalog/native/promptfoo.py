"""promptfoo configs (`promptfooconfig.yaml`): one `eval_harness` asset per file, metrics from its assertions."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, normalize_tags, slugify
from catalog.native.emit import dump_yaml, number
from catalog.native.promptfoo_sources import (
    ASSERTION_TYPES,
    TestSources,
    config_refs,
    file_ref,
    prompt_refs,
    read_default_test,
    read_test_files,
    test_sources,
)
from catalog.native.references import attach_refs
from catalog.native.yamlsafe import load_yaml

__all__ = ["Promptfoo"]

_MODEL_GRADED = {"llm-rubric", "g-eval", "factuality", "answer-relevance", "select-best", "search-rubric"}
_LOWER_IS_BETTER = {"cost", "latency", "perplexity", "levenshtein"}
_SECRET_KEYS = re.compile(r"(api[_-]?key|token|secret|password)$", re.IGNORECASE)


def _is_literal_secret(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 8 and "{{" not in value and "$" not in value


def _provider_id(provider: Any) -> str:
    if isinstance(provider, str):
        return provider
    if isinstance(provider, dict):
        if "id" in provider:
            return str(provider["id"])
        if len(provider) == 1:
            return str(next(iter(provider)))
    return "custom"


def _assertions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """defaultTest first, then every test, then scenarios; assert-sets descended into."""
    found: list[dict[str, Any]] = []

    def walk(items: Any) -> None:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("type") == "assert-set":
                walk(item.get("assert"))
            elif isinstance(item, dict) and "type" in item:
                found.append(item)

    default = data.get("defaultTest")
    if isinstance(default, dict):
        walk(default.get("assert"))
    tests = data.get("tests")
    for test in tests if isinstance(tests, list) else []:
        if isinstance(test, dict):
            walk(test.get("assert"))
    scenarios = data.get("scenarios")
    for scenario in scenarios if isinstance(scenarios, list) else []:
        if isinstance(scenario, dict):
            for key in ("config", "tests"):  # either may be a file reference instead of a list
                parts = scenario.get(key)
                for part in parts if isinstance(parts, list) else []:
                    if isinstance(part, dict):
                        walk(part.get("assert"))
    return found


def metrics_of(assertions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """pass_rate first, then one metric per distinct assertion name, with the strictest threshold written."""
    names: list[str] = []
    thresholds: dict[str, list[float]] = {}
    for a in assertions:
        name = str(a.get("metric") or a["type"])
        if name == "pass_rate":
            name = "pass_rate-assert"
        if name not in names:
            names.append(name)
        value = a.get("threshold")
        if isinstance(value, int | float) and not isinstance(value, bool):
            thresholds.setdefault(name, []).append(float(value))
    metrics: list[dict[str, Any]] = [
        {"name": "pass_rate", "threshold": 1.0, "higher_is_better": True, "threshold_kind": "pass_rate"}
    ]
    for name in names:
        lower = name.removeprefix("not-") in _LOWER_IS_BETTER and not name.startswith("not-")
        if name in thresholds:
            value = min(thresholds[name]) if lower else max(thresholds[name])
            metrics.append({"name": name, "threshold": value, "higher_is_better": not lower, "threshold_kind": "score"})
        else:
            metrics.append(
                {"name": name, "threshold": 1.0, "higher_is_better": not lower, "threshold_kind": "pass_rate"}
            )
    return metrics, {k: v for k, v in thresholds.items() if len(set(v)) > 1}


def _vars(test: Any) -> dict[str, Any]:
    """A test's vars as a mapping (`vars: file://vars.yaml` reads as none here; the file is attached)."""
    vars_ = test.get("vars") if isinstance(test, dict) else None
    return vars_ if isinstance(vars_, dict) else {}


def _expanding(test: Any) -> bool:
    """A test that becomes several at run time: a list-valued var or a glob file reference."""
    vars_ = _vars(test)
    return any(
        isinstance(v, list) or (isinstance(v, str) and v.startswith("file://") and "*" in v) for v in vars_.values()
    )


class Promptfoo:
    id: ClassVar[str] = "promptfoo"
    kind: ClassVar[str] = "eval_harness"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".yml", ".json")
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        if not isinstance(data, dict) or ("providers" in data) == ("targets" in data):
            return False
        return "prompts" in data or isinstance(data.get("redteam"), dict)  # a red-team config may name no prompt

    def load(self, source: Source) -> dict[str, Any]:
        loaded = load_yaml(source.text, yaml12=True)  # promptfoo reads YAML with js-yaml: YAML 1.2 scalars
        data = loaded.data
        if not isinstance(data, dict):
            raise NativeError(source.name, "a promptfoo config is a mapping with `prompts` and `providers`", line=1)
        if "prompts" not in data and isinstance(data.get("redteam"), dict):
            data["prompts"] = ["{{prompt}}"]  # what promptfoo sends a red-team target when no prompt is named
        if not isinstance(data.get("prompts"), str | list | dict) or not data["prompts"]:
            raise NativeError(
                source.name,
                "a promptfoo config needs `prompts`: a prompt, a file, or a list of them",
                line=loaded.line("/prompts") or 1,
                fix="list the prompts to evaluate",
            )
        if ("providers" in data) == ("targets" in data):
            raise NativeError(
                source.name,
                "exactly one of `providers` or `targets` must be given",
                line=loaded.line("/targets") or loaded.line("/providers"),
            )
        tests = data.get("tests")
        if tests is not None and not isinstance(tests, str | list | dict):
            raise NativeError(source.name, "`tests` must be a file reference or a list", line=loaded.line("/tests"))
        for i, test in enumerate(tests if isinstance(tests, list) else []):
            asserts = test.get("assert") if isinstance(test, dict) else None
            for j, a in enumerate(asserts if isinstance(asserts, list) else []):
                if not isinstance(a, dict) or "type" not in a:
                    raise NativeError(
                        source.name,
                        "every assertion needs a `type`",
                        line=loaded.line(f"/tests/{i}/assert/{j}"),
                        fix="e.g. `type: contains`",
                    )
        return data

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        providers = data.get("providers", data.get("targets"))
        provider_list = providers if isinstance(providers, list) else [providers]
        provider_ids = [_provider_id(p) for p in provider_list]
        prompts = data.get("prompts")
        prompt_list = (
            prompts if isinstance(prompts, list) else list(prompts) if isinstance(prompts, dict) else [prompts]
        )
        tests = test_sources(data.get("tests"))
        inline = tests.inline
        refs = prompt_refs(prompts) + config_refs(data)
        for test in inline:
            vars_ = test.get("vars") if isinstance(test, dict) else None
            for value in [vars_] if isinstance(vars_, str) else _vars(test).values():
                if isinstance(value, str) and value.startswith("file://"):
                    refs.append(value)
        test_files, unresolved_tests = attach_refs(source, tests.files)
        counted, file_asserts, notices = read_test_files(test_files)
        default = data.get("defaultTest")
        named_default = [default] if isinstance(default, str) and default.startswith("file://") else []
        default_file, unresolved_default = attach_refs(source, named_default)
        assertions = read_default_test(default_file) + _assertions(data) + file_asserts
        refs += [a["value"] for a in assertions if isinstance(a.get("value"), str) and a["value"].startswith("file://")]
        attached, unresolved = attach_refs(source, refs)
        attached |= test_files | default_file
        unresolved += unresolved_tests + unresolved_default
        metrics, disagreeing = metrics_of(assertions)
        types = list(dict.fromkeys(str(a["type"]) for a in assertions))
        redteam = data.get("redteam") if isinstance(data.get("redteam"), dict) else None
        complete = counted is not None and not unresolved_tests and len(tests.files) == len(tests.sources)
        dataset = self._dataset(source, data, tests, counted if complete else None, redteam)
        spec: dict[str, Any] = {
            "metrics": metrics,
            "dataset": dataset,
            "targets": ["prompt"],
            "runner": {"type": "promptfoo", "entry": source.name},
            "baseline_results": {},
            "native": {"format": self.id, "path": source.name},
            "providers": provider_ids,
            "providers_config": [p for p in provider_list if isinstance(p, dict)],
            "prompts": prompt_list,
            "assertion_types": types,
        }
        if disagreeing:
            spec["thresholds"] = disagreeing
        default = data.get("defaultTest")
        if isinstance(default, dict) and isinstance(default.get("options"), dict):
            spec["default_test_options"] = default["options"]
        if redteam is not None:
            spec["redteam"] = self._redteam(redteam)
        if data.get("scenarios"):
            spec["scenarios_count"] = len(data["scenarios"])
        if unresolved:
            spec["unresolved_refs"] = unresolved
        return [
            Draft(
                kind=self.kind,
                slug=slugify(self._title(source, data)),
                title=cut(self._title(source, data), 200),
                summary=cut(self._summary(dataset, inline, types, provider_ids, redteam), 500),
                description=self._description(data, provider_ids, prompt_list, dataset, types, unresolved),
                tags=normalize_tags(self._tags(data, types, redteam)),
                spec=spec,
                extra_files=attached,
                secrets=self._secrets(data, provider_list),
                notices=notices,
            )
        ]

    @staticmethod
    def _title(source: Source, data: dict[str, Any]) -> str:
        description = data.get("description")
        if isinstance(description, str) and len(description.strip()) >= 3:
            return " ".join(description.split())
        stem = source.stem
        if stem == "promptfooconfig" and source.folder is not None:
            stem = source.folder.name
        return humanize(stem) if len(stem) >= 3 else f"{stem} promptfoo eval"

    @staticmethod
    def _dataset(
        source: Source, data: dict[str, Any], tests: TestSources, counted: int | None, redteam: Any
    ) -> dict[str, Any]:
        """Where the cases come from; `rows` only when every case could be counted (no URL, no var expansion)."""
        inline = tests.inline
        rows: int | None = None
        if len(tests.sources) == 1 and not inline:
            uri = tests.sources[0]
        elif tests.sources or inline:
            uri = f"{source.name}#/tests"
        elif redteam is not None:
            uri = "promptfoo-redteam:generated"
            listed = redteam.get("plugins") if isinstance(redteam.get("plugins"), list) else []
            plugins = [p for p in listed if isinstance(p, dict)]
            counts = [p.get("numTests") for p in plugins]
            if counts and all(isinstance(c, int) for c in counts) and len(plugins) == len(listed):
                rows = sum(counts)  # type: ignore[arg-type]
        else:
            uri = f"{source.name}#/defaultTest"
        if (inline or tests.sources) and not any(_expanding(t) for t in inline):
            rows = len(inline) + counted if counted is not None else None
        names = sorted({str(k) for t in inline for k in _vars(t)})
        parts = [f"{len(inline)} inline test cases"] if inline else []
        if tests.sources:
            parts.append("tests from " + ", ".join(tests.sources))
        description = "; ".join(parts) or f"tests from {uri}"
        if names:
            description += "; vars: " + ", ".join(names)
        file_vars = sorted(
            {
                f"var {k} loaded from {v}"
                for t in inline
                if isinstance(t, dict)
                for k, v in _vars(t).items()
                if isinstance(v, str) and v.startswith("file://")
            }
        )
        if file_vars:
            description += "; " + "; ".join(file_vars)
        return {"uri": uri, "rows": rows, "description": description}

    @staticmethod
    def _redteam(redteam: dict[str, Any]) -> dict[str, Any]:
        """Purpose, plugin and strategy ids: never the intent texts (they stay in the attached file only)."""
        plugins = []
        listed, named = redteam.get("plugins"), redteam.get("strategies")
        for p in listed if isinstance(listed, list) else []:
            entry = {"id": p} if isinstance(p, str) else {"id": p.get("id")} if isinstance(p, dict) else None
            if entry is not None and isinstance(p, dict) and "numTests" in p:
                entry["numTests"] = p["numTests"]
            if entry is not None:
                plugins.append(entry)
        strategies = [
            s if isinstance(s, str) else s.get("id")
            for s in (named if isinstance(named, list) else [])
            if isinstance(s, str | dict)
        ]
        out: dict[str, Any] = {"plugins": plugins, "strategies": strategies}
        if isinstance(redteam.get("purpose"), str):
            out["purpose"] = redteam["purpose"]
        return out

    @staticmethod
    def _summary(
        dataset: dict[str, Any], inline: list[Any], types: list[str], providers: list[str], redteam: Any
    ) -> str:
        if redteam is not None and not inline:
            red = Promptfoo._redteam(redteam)
            return (
                f"promptfoo red-team scan: plugins {', '.join(str(p['id']) for p in red['plugins']) or 'default'}; "
                f"strategies {', '.join(str(s) for s in red['strategies']) or 'none'}"
            )
        rows = dataset["rows"]
        cases = f"{rows} test cases" if rows is not None else dataset["description"].split("; vars:")[0]
        checks = f" ({', '.join(types)})" if types else ""
        return f"promptfoo eval: {cases}{checks} against {', '.join(providers)}"

    @staticmethod
    def _tags(data: dict[str, Any], types: list[str], redteam: Any) -> list[str]:
        tags = ["promptfoo", "eval"]
        if any(t in _MODEL_GRADED or t.startswith(("model-graded-", "context-")) for t in types):
            tags.append("llm-as-judge")
        if any(t.startswith("context-") for t in types):
            tags.append("rag")
        if {"is-json", "contains-json"} & set(types):
            tags.append("json-output")
        if redteam is not None:
            tags.append("redteam")
        if isinstance(data.get("tags"), dict):
            tags += [str(v) for v in data["tags"].values()]
        return tags

    @staticmethod
    def _description(
        data: dict[str, Any],
        providers: list[str],
        prompts: list[Any],
        dataset: dict[str, Any],
        types: list[str],
        unresolved: list[str],
    ) -> str:
        lines = [str(data["description"]), ""] if isinstance(data.get("description"), str) else []
        lines += ["promptfoo evaluation.", "", "Providers: " + ", ".join(f"`{p}`" for p in providers), "", "Prompts:"]
        for prompt in prompts:
            if isinstance(prompt, str) and file_ref(prompt) is None:
                lines += ["", "```", prompt.rstrip("\n"), "```"]
            else:
                label = (prompt.get("id") or prompt.get("label") or "prompt") if isinstance(prompt, dict) else prompt
                lines.append(f"- `{label}`")
        lines += ["", f"Tests: {dataset['description']}."]
        if types:
            lines += ["", "Assertions: " + ", ".join(f"`{t}`" for t in types)]
        if unresolved:
            lines += ["", "Referenced files not attached: " + ", ".join(f"`{r}`" for r in unresolved)]
        return "\n".join(lines)[:50_000]

    @staticmethod
    def _secrets(data: dict[str, Any], providers: list[Any]) -> list[str]:
        found = (
            [f"env.{k}" for k, v in (data.get("env") or {}).items() if _is_literal_secret(v)]
            if isinstance(data.get("env"), dict)
            else []
        )
        for p in providers:
            config = p.get("config") if isinstance(p, dict) else None
            for key, value in (config or {}).items() if isinstance(config, dict) else []:
                if _SECRET_KEYS.search(key) and _is_literal_secret(value):
                    found.append(f"provider {_provider_id(p)} config.{key}")
        return found

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        prompts = spec.get("prompts")
        providers = spec.get("providers_config") or spec.get("providers")
        if not prompts or not providers:
            missing = "prompts" if not prompts else "providers"
            raise NativeError(
                manifest["slug"],
                f"a promptfoo config needs `{missing}`, and this asset records none",
                fix=f"add `{missing}` to the spec (e.g. providers: [openai:gpt-4o-mini])",
            )
        uri = str(spec["dataset"]["uri"])
        tests: Any = uri if uri.startswith("file://") or re.fullmatch(r"[\w./-]+\.(csv|jsonl?|ya?ml)", uri) else []
        asserts, others = [], []
        for m in spec["metrics"][1:] if spec["metrics"][0]["name"] == "pass_rate" else spec["metrics"]:
            if m["name"] in ASSERTION_TYPES or m["name"].removeprefix("not-") in ASSERTION_TYPES:
                entry: dict[str, Any] = {"type": m["name"]}
                if m.get("threshold_kind") == "score":
                    entry["threshold"] = number(m["threshold"])
                asserts.append(entry)
            else:
                others.append(m["name"])
        body: dict[str, Any] = {"description": manifest["title"], "prompts": prompts, "providers": providers}
        body["tests"] = tests
        if asserts:
            body["defaultTest"] = {"assert": asserts}
        header = "".join(f"# metric without a promptfoo assertion type: {name}\n" for name in others)
        return header.encode("utf-8") + dump_yaml(body)
