"""lm-evaluation-harness task and group YAML: one `eval_harness` asset per file, includes resolved inside the root.

`!function` tags become `{"!function": "module.attr"}` markers: lm-eval would import and run that code, the
registry never does.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, normalize_tags, slugify
from catalog.native.emit import dump_yaml
from catalog.native.references import attach_refs
from catalog.native.yamlsafe import FUNCTION_TAG, load_yaml
from catalog.templates import template_variables

__all__ = ["LmEval"]

_KEYS = {"dataset_path", "doc_to_text", "output_type", "metric_list", "include", "aggregate_metric_list"}
_DEFAULT_METRICS = {
    "multiple_choice": ["acc", "acc_norm"],
    "generate_until": ["exact_match"],
    "loglikelihood": ["perplexity", "acc"],
    "loglikelihood_rolling": ["word_perplexity", "byte_perplexity", "bits_per_byte"],
}
_LOWER_IS_BETTER = {"perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "brier_score"}
_TEXT_KEYS = ("doc_to_text", "doc_to_target", "doc_to_choice", "description")
_EXTRAS = (
    "doc_to_text",
    "doc_to_target",
    "doc_to_choice",
    "target_delimiter",
    "fewshot_delimiter",
    "generation_kwargs",
    "filter_list",
    "repeats",
    "should_decontaminate",
    "doc_to_decontamination_query",
    "metadata",
    "num_fewshot",
    "output_type",
)
_TAGS = frozenset({FUNCTION_TAG})


def _ref(value: Any) -> str:
    return str(value[FUNCTION_TAG]) if isinstance(value, dict) and FUNCTION_TAG in value else str(value)


def _member_name(member: Any) -> str:
    """A group member as lm-eval names it: a task name, an inline group's `group`, an inline task's `task`."""
    if isinstance(member, str):
        return member
    if not isinstance(member, dict):
        return "inline task"
    inner = member.get("task")
    parts = [_member_name(t) for t in inner] if isinstance(inner, list) else [inner] if isinstance(inner, str) else []
    name = member.get("group")
    if isinstance(name, str):
        return f"{name} ({', '.join(parts)})" if parts else name
    return ", ".join(parts) or "inline task"


class LmEval:
    id: ClassVar[str] = "lm-eval"
    kind: ClassVar[str] = "eval_harness"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml",)
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        if ("task" in data or "group" in data or "class" in data) and _KEYS & set(data):
            return True
        return "group" in data and isinstance(data.get("task"), str | list)

    def load(self, source: Source) -> dict[str, Any]:
        loaded = load_yaml(source.text, tags=_TAGS)
        data = loaded.data
        if not isinstance(data, dict) or not ({"task", "group", "class"} & set(data)):
            raise NativeError(
                source.name,
                "an lm-eval file is a task (`task:`) or a group (`group:`) mapping",
                line=1,
                fix="include-only templates are imported with the tasks that include them",
            )
        for key in ("metric_list", "filter_list", "aggregate_metric_list"):
            if (
                key in data
                and not isinstance(data[key], list | None)
                and not (key == "aggregate_metric_list" and isinstance(data[key], dict))
            ):
                raise NativeError(source.name, f"`{key}` must be a list", line=loaded.line(f"/{key}"))
        missing: list[str] = []
        merged, includes = self._resolve(source, data, [], missing)
        merged["_includes"], merged["_missing_includes"] = includes, missing
        if "group" not in merged and "class" not in merged:
            if not merged.get("dataset_path") and "custom_dataset" not in merged:
                raise NativeError(
                    source.name,
                    "the task has no `dataset_path`" + (" (its include was not found)" if missing else ""),
                    fix="set dataset_path, or import the folder that holds the included file",
                )
            if merged.get("test_split") is None and merged.get("validation_split") is None:
                raise NativeError(
                    source.name, "the task has neither `test_split` nor `validation_split`", fix="name the split"
                )
        return merged

    def _resolve(
        self, source: Source, data: dict[str, Any], chain: list[str], missing: list[str]
    ) -> tuple[dict[str, Any], list[str]]:
        """Includes merged shallowly in order, the file's own keys last (as lm-eval's loader does); an absent
        include is refused, or added to `missing` when the import allows it."""
        include = data.get("include")
        if include is None:
            return dict(data), []
        merged: dict[str, Any] = {}
        attached: list[str] = []
        if not isinstance(include, str | list):
            raise NativeError(
                source.name, "`include` is a file name or a list of them", fix="e.g. include: _template_yaml"
            )
        for name in [include] if isinstance(include, str) else include:
            target = source.reference(str(name))
            if target is None and source.missing_includes_ok:
                missing.append(str(name))
                continue
            if target is None:
                raise NativeError(
                    source.name,
                    f"the include {name!r} is neither in the imported folder nor attached beside the task",
                    fix="import the folder that holds it (includes outside it are never read), or pass "
                    "--allow-missing-includes to import the task without it",
                )
            rel, raw = target
            if rel in chain:
                raise NativeError(source.name, f"the include {rel!r} includes itself")
            folder = PurePosixPath(rel).parent
            parent_source = Source.of(
                PurePosixPath(rel).name,
                raw,
                folder=source.folder.at(folder.as_posix()) if source.folder else None,
                missing_includes_ok=source.missing_includes_ok,
            )
            parent = load_yaml(parent_source.text, tags=_TAGS).data
            if not isinstance(parent, dict):
                raise NativeError(rel, "an included file must be a mapping")
            parent_merged, parent_includes = self._resolve(parent_source, parent, [*chain, rel], missing)
            parent_merged.pop("task_list", None)
            merged.update(parent_merged)
            attached += [rel, *[(folder / p).as_posix() for p in parent_includes]]
        merged.update({k: v for k, v in data.items() if k != "include"})
        return merged, list(dict.fromkeys(attached))

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        includes, missing = data.pop("_includes"), data.pop("_missing_includes", [])
        extra_files = {}
        for rel in includes:
            found = source.reference(rel)
            if found is not None:
                extra_files[rel] = found[1]
        draft = self._group(source, data) if "group" in data else self._task(source, data)
        beside, unresolved = attach_refs(source, self._beside(data))
        draft.extra_files = extra_files | beside
        draft.spec["native"] = {"format": self.id, "path": source.name}
        if includes:
            draft.spec["includes"] = includes
        if missing:
            draft.spec["unresolved_includes"] = missing
        if unresolved:
            draft.spec["unresolved_refs"] = unresolved
        draft.spec["config"] = data
        return [draft]

    @staticmethod
    def _beside(data: dict[str, Any]) -> list[str]:
        """Files the task reads from its folder: the module of a `!function utils.f` (utils.py, never run by the
        registry, attached so an adopter gets a task that runs) and local `dataset_kwargs.data_files`."""
        refs = [f"{f['function'].split('.')[0]}.py" for f in LmEval._functions(data) if f["function"].count(".") == 1]
        kwargs = data.get("dataset_kwargs")
        files = kwargs.get("data_files") if isinstance(kwargs, dict) else None
        for value in files.values() if isinstance(files, dict) else [files]:
            refs += [
                v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and "://" not in v
            ]
        return refs

    def _metrics(self, entries: list[Any], filters: list[str], key: str) -> tuple[list[dict[str, Any]], list[str]]:
        metrics: list[dict[str, Any]] = []
        notices = []
        for entry in entries:
            name = _ref(entry.get(key) if isinstance(entry, dict) else entry)
            higher = entry.get("higher_is_better") if isinstance(entry, dict) else None
            if not isinstance(higher, bool):
                higher = name not in _LOWER_IS_BETTER
            for f in filters or ["none"]:
                full = name if f == "none" else f"{name},{f}"
                if all(m["name"] != full for m in metrics):
                    metrics.append(
                        {"name": full, "threshold": 0.0, "higher_is_better": higher, "threshold_kind": "unset"}
                    )
        if metrics:
            notices.append("lm-eval files state no thresholds: set them before using the eval as a gate")
        return metrics, notices

    def _task(self, source: Source, data: dict[str, Any]) -> Draft:
        task = str(data.get("task") or source.stem)
        output_type = str(data.get("output_type") or "generate_until")
        filters = [str(f.get("name")) for f in data.get("filter_list") or [] if isinstance(f, dict)]
        entries = data.get("metric_list") or _DEFAULT_METRICS.get(output_type, ["exact_match"])
        metrics, notices = self._metrics(entries, filters, "metric")
        split = "test" if data.get("test_split") is not None else "validation"
        split_name = data.get("test_split") if split == "test" else data.get("validation_split")
        custom = data.get("custom_dataset")
        uri = f"function:{_ref(custom)}" if custom is not None else f"hf://{data['dataset_path']}"
        name = data.get("dataset_name")
        description = f"{name or 'default'} config, {split_name} split"
        if data.get("fewshot_split"):
            description += f"; few-shot from {data['fewshot_split']}"
        dataset: dict[str, Any] = {
            "uri": uri,
            "rows": None,
            "description": description,
            "name": name,
            "split": split_name,
            "columns": self._columns(data),
        }
        if data.get("dataset_kwargs"):
            dataset["kwargs"] = data["dataset_kwargs"]
        where = f"{data.get('dataset_path', uri)}" + (f"/{name}" if name else "")
        spec: dict[str, Any] = {
            "metrics": metrics,
            "dataset": dataset,
            "targets": [],
            "runner": {"type": "lm-eval", "entry": source.name, "task": task},
            "baseline_results": {},
            "splits": {
                k.removesuffix("_split"): data.get(k)
                for k in ("training_split", "validation_split", "test_split", "fewshot_split")
                if k in data
            },
            "functions": self._functions(data),
        }
        spec |= {k: data[k] for k in _EXTRAS if k in data}
        if "description" in data:
            spec["task_description"] = data["description"]
        if "tag" in data:
            spec["tags_native"] = data["tag"]
        raw_tags = data.get("tag")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else [raw_tags] if raw_tags else []
        summary = (
            f"lm-evaluation-harness {output_type} task on {where}, {split_name} split; "
            f"metrics: {', '.join(m['name'] for m in metrics)}"
        )
        return Draft(
            kind=self.kind,
            slug=slugify(task),
            title=cut(f"{data.get('task_alias') or task} (lm-eval task)", 200),
            summary=cut(summary, 500),
            description=self._task_description(task, data, dataset, spec),
            tags=normalize_tags(["lm-eval", *tags, output_type]),
            spec=spec,
            notices=notices,
        )

    @staticmethod
    def _columns(data: dict[str, Any]) -> list[str]:
        columns: set[str] = set()
        for key in _TEXT_KEYS:
            value = data.get(key)
            if not isinstance(value, str):
                continue
            if "{{" in value or "{%" in value:
                try:
                    columns |= template_variables(value, "jinja2")
                except ValueError:
                    continue
            elif key != "description" and value.isidentifier():
                columns.add(value)
        return sorted(columns)

    @staticmethod
    def _functions(data: Any, path: str = "") -> list[dict[str, str]]:
        if isinstance(data, dict):
            if FUNCTION_TAG in data:
                return [{"path": path or "/", "function": str(data[FUNCTION_TAG])}]
            return [f for k, v in data.items() for f in LmEval._functions(v, f"{path}/{k}")]
        if isinstance(data, list):
            return [f for i, v in enumerate(data) for f in LmEval._functions(v, f"{path}/{i}")]
        return []

    @staticmethod
    def _task_description(task: str, data: dict[str, Any], dataset: dict[str, Any], spec: dict[str, Any]) -> str:
        lines = [
            f"lm-evaluation-harness task `{task}`.",
            "",
            f"Dataset: `{dataset['uri']}` ({dataset['description']}).",
        ]
        if "num_fewshot" in data:
            lines.append(f"Few-shot examples: {data['num_fewshot']}.")
        for key in ("doc_to_text", "doc_to_target", "doc_to_choice"):
            if isinstance(data.get(key), str):
                lines += ["", f"`{key}`:", "", "```jinja", data[key], "```"]
        if spec["functions"]:
            lines += [
                "",
                "Code it calls (never run by the registry): "
                + ", ".join(f"`{f['function']}`" for f in spec["functions"]),
            ]
        return "\n".join(lines)[:50_000]

    def _group(self, source: Source, data: dict[str, Any]) -> Draft:
        group = str(data["group"])
        members_raw = data.get("task")
        members_list = members_raw if isinstance(members_raw, list) else [members_raw] if members_raw else []
        members = [_member_name(m) for m in members_list]
        entries = data.get("aggregate_metric_list") or []
        entries = entries if isinstance(entries, list) else [entries]
        metrics: list[dict[str, Any]] = []
        for entry in entries:
            filters = entry.get("filter_list") if isinstance(entry, dict) else None
            filter_names = [filters] if isinstance(filters, str) else list(filters or [])
            more, _ = self._metrics([entry], [str(f) for f in filter_names], "metric")
            metrics += [m for m in more if all(m["name"] != x["name"] for x in metrics)]
        notices = ["lm-eval files state no thresholds: set them before using the eval as a gate"]
        if not metrics:
            metrics = [
                {"name": "member_results", "threshold": 0.0, "higher_is_better": True, "threshold_kind": "unset"}
            ]
            notices.append(f"{group}: the group aggregates no metric; its members report their own")
        spec: dict[str, Any] = {
            "metrics": metrics,
            "dataset": {"uri": f"lm-eval-group:{group}", "rows": None, "description": "members: " + ", ".join(members)},
            "targets": [],
            "runner": {"type": "lm-eval", "entry": source.name, "group": group},
            "baseline_results": {},
            "members": members_raw,
            "aggregate_metric_list": data.get("aggregate_metric_list"),
            "metadata": data.get("metadata"),
        }
        summary = (
            f"lm-evaluation-harness group of {len(members)} tasks/groups: {', '.join(members)}; "
            f"aggregated metrics: {', '.join(m['name'] for m in metrics)}"
        )
        raw_tags = data.get("tag")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else [raw_tags] if raw_tags else []
        return Draft(
            kind=self.kind,
            slug=slugify(group),
            title=cut(f"{data.get('group_alias') or group} (lm-eval group)", 200),
            summary=cut(summary, 500),
            description="lm-evaluation-harness group. Members:\n\n" + "\n".join(f"- `{m}`" for m in members),
            tags=normalize_tags(["lm-eval", "group", *tags]),
            spec=spec,
            notices=notices,
        )

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        runner = spec.get("runner") or {}
        if "group" in runner or str(spec["dataset"]["uri"]).startswith("lm-eval-group:"):
            members = spec.get("members")
            if not members:
                raise NativeError(manifest["slug"], "an lm-eval group needs its member tasks (`members`)")
            body: dict[str, Any] = {
                "group": runner.get("group") or manifest["slug"].replace("-", "_"),
                "task": members,
                "aggregate_metric_list": spec.get("aggregate_metric_list")
                or [{"metric": m["name"], "weight_by_size": True} for m in spec["metrics"]],
                "metadata": {"version": 1.0},
            }
            return dump_yaml(body)
        uri = str(spec["dataset"]["uri"])
        if not uri.startswith("hf://"):
            raise NativeError(manifest["slug"], f"lm-eval reads Hugging Face datasets; {uri!r} is not an hf:// URI")
        if not spec.get("doc_to_text") or "doc_to_target" not in spec:
            raise NativeError(manifest["slug"], "an lm-eval task needs `doc_to_text` and `doc_to_target` in the spec")
        output_type = spec.get("output_type", "generate_until")
        body = {"task": runner.get("task") or manifest["slug"].replace("-", "_"), "dataset_path": uri[5:]}
        if spec["dataset"].get("name"):
            body["dataset_name"] = spec["dataset"]["name"]
        body["output_type"] = output_type
        split_key = (
            "validation_split"
            if (spec.get("splits") or {}).get("test") is None and spec.get("splits")
            else "test_split"
        )
        body[split_key] = spec["dataset"].get("split") or "test"
        for key in ("doc_to_text", "doc_to_target", "doc_to_choice", "filter_list", "generation_kwargs", "num_fewshot"):
            if key in spec:
                body[key] = spec[key]
        if output_type == "multiple_choice" and "doc_to_choice" not in body:
            raise NativeError(manifest["slug"], "a multiple_choice task needs `doc_to_choice` in the spec")
        body["metric_list"] = [
            {
                "metric": m["name"].split(",")[0],
                "aggregation": "mean",
                "higher_is_better": m.get("higher_is_better", True),
            }
            for m in spec["metrics"]
            if m["name"].split(",")[0] not in [""]
        ]
        body["metric_list"] = list({m["metric"]: m for m in body["metric_list"]}.values())
        body["metadata"] = {"version": 1.0}
        return dump_yaml(body)
