"""LangChain serialized prompts (`_type: prompt | few_shot | chat`, YAML or JSON): one `prompt` asset per file."""

from __future__ import annotations

import json
import re
import string
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, normalize_tags, slugify
from catalog.native.emit import dump_json, dump_yaml
from catalog.native.promptkit import catalog_role, prompt_spec, summary_for
from catalog.native.references import attach_refs
from catalog.native.yamlsafe import load_yaml

__all__ = ["LangChain"]

_TYPES = {"prompt", "few_shot", "chat"}
_TO_LANGCHAIN = {"system": "system", "user": "human", "assistant": "ai"}


def _check_fields(template: str, file: str) -> None:
    """LangChain's own rule: f-string fields are plain names (no attribute, index or all-digit names)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError as err:
        raise NativeError(file, f"the f-string template does not parse: {err}") from err
    bad = [f for f in fields if re.search(r"[.\[\]]", f) or f.isdigit()]
    if bad:
        raise NativeError(
            file, f"LangChain refuses the f-string fields {bad}", fix="use plain names such as {question}"
        )


class LangChain:
    id: ClassVar[str] = "langchain"
    kind: ClassVar[str] = "prompt"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".json")
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        kind = data.get("_type")
        return (isinstance(kind, str) and kind in _TYPES) or ("template" in data and "input_variables" in data)

    def load(self, source: Source) -> dict[str, Any]:
        if source.suffix == ".json":
            try:
                data = json.loads(source.text)
            except ValueError as err:
                raise NativeError(source.name, f"not valid JSON: {err}") from err
        else:
            data = load_yaml(source.text).data
        if not self.detect(source, data):
            raise NativeError(source.name, "a LangChain prompt is a mapping with `_type` and `template`", line=1)
        kind = data.get("_type", "prompt")
        if not isinstance(kind, str) or kind not in _TYPES:
            raise NativeError(source.name, f"`_type: {kind}` is not a prompt LangChain loads")
        if kind == "prompt" and ("template" in data) == ("template_path" in data):
            raise NativeError(source.name, "give exactly one of `template` and `template_path`")
        return dict(data)

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        kind = data.get("_type", "prompt")
        fmt = str(data.get("template_format") or "f-string")
        if fmt not in {"f-string", "mustache", "jinja2"}:
            raise NativeError(source.name, f"template_format {fmt!r} is not one LangChain knows")
        refs = [
            str(data[k])
            for k in ("template_path", "prefix_path", "suffix_path", "example_prompt_path")
            if isinstance(data.get(k), str)
        ]
        if isinstance(data.get("examples"), str):
            refs.append(data["examples"])
        attached, unresolved = attach_refs(source, refs)
        if unresolved:
            raise NativeError(
                source.name,
                f"the referenced files {unresolved} are not inside the imported folder",
                fix="import the folder that holds them, or inline the text",
            )

        def text_of(key: str) -> str:
            if isinstance(data.get(key), str):
                return str(data[key])
            path = data.get(f"{key}_path")
            return attached[str(path)].decode("utf-8") if isinstance(path, str) else ""

        native_roles: list[str] | None = None
        if kind == "chat":
            items = data.get("template") if isinstance(data.get("template"), list) else None
            if items is not None and not all(isinstance(m, dict) for m in items):
                raise NativeError(source.name, "every chat `template` item is a mapping of `role` and `content`")
            if items is not None:  # the fixture shape: template: [{role, content}]
                native_roles = [str(m.get("role")) for m in items]
                if "placeholder" in native_roles:
                    raise NativeError(source.name, "a `placeholder` message has no equivalent in the catalog")
                messages = [
                    {"role": catalog_role(str(m.get("role")), source.name), "content": str(m.get("content"))}
                    for m in items
                ]
            else:  # what ChatPromptTemplate.save() wrote: prompts without roles
                items = data.get("messages") or []
                messages = [
                    {"role": "user", "content": str((m.get("prompt") or {}).get("template", ""))}
                    for m in items
                    if isinstance(m, dict)
                ]
            if fmt == "f-string":
                for m in messages:
                    _check_fields(m["content"], source.name)
            spec = prompt_spec(source.name, fmt, messages=messages, native_roles=native_roles)
        elif kind == "few_shot":
            spec = prompt_spec(source.name, fmt, template=self._few_shot(source, data, attached, text_of))
            spec["few_shot"] = {
                k: data[k] for k in ("prefix", "suffix", "examples", "example_prompt", "example_separator") if k in data
            }
        else:
            template = text_of("template")
            if fmt == "f-string":
                _check_fields(template, source.name)
            spec = prompt_spec(source.name, fmt, template=template)
        spec["native"] = {"format": self.id, "path": source.name}
        spec["native_type"] = kind
        for key in ("input_variables", "partial_variables", "output_parser", "validate_template", "metadata"):
            if key in data:
                spec[key] = data[key]
        notices = ["LangChain's load_prompt refuses jinja2 templates from files"] if fmt == "jinja2" else []
        name = data.get("name")
        title = str(name) if isinstance(name, str) and len(name) >= 3 else humanize(source.stem)
        tags = ["langchain", "chat" if kind == "chat" else "", "few-shot" if kind == "few_shot" else ""]
        tags += [str(t) for t in data.get("tags") or [] if isinstance(data.get("tags"), list)]
        return [
            Draft(
                kind=self.kind,
                slug=slugify(title if isinstance(name, str) else source.stem),
                title=cut(title if len(title) >= 3 else f"{title} prompt", 200),
                summary=cut(summary_for(f"LangChain {kind} prompt ({fmt})", spec["variables"]), 500),
                tags=normalize_tags([t for t in tags if t]),
                spec=spec,
                extra_files=attached,
                notices=notices,
            )
        ]

    @staticmethod
    def _few_shot(source: Source, data: dict[str, Any], attached: dict[str, bytes], text_of: Any) -> str:
        """prefix, each example rendered by plain substitution (braces doubled), suffix; joined as LangChain does."""
        examples = data.get("examples")
        if isinstance(examples, str):
            raw = attached[examples].decode("utf-8")
            examples = json.loads(raw) if examples.endswith(".json") else load_yaml(raw).data
        example_prompt = data.get("example_prompt") or {}
        if isinstance(data.get("example_prompt_path"), str):
            example_prompt = load_yaml(attached[data["example_prompt_path"]].decode("utf-8")).data or {}
        template = str(example_prompt.get("template", "")) if isinstance(example_prompt, dict) else ""
        rendered = []
        for example in examples if isinstance(examples, list) else []:
            text = template
            for key, value in example.items() if isinstance(example, dict) else []:
                text = text.replace("{" + str(key) + "}", str(value).replace("{", "{{").replace("}", "}}"))
            rendered.append(text)
        separator = str(data.get("example_separator", "\n\n"))
        return separator.join(p for p in [text_of("prefix"), *rendered, text_of("suffix")] if p)

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        partials = spec.get("partial_variables") or {}
        inputs = [v for v in spec.get("variables") or [] if v not in partials]
        if spec.get("messages"):
            if any(m["role"] == "tool" for m in spec["messages"]):
                raise NativeError(manifest["slug"], "LangChain chat prompts have no tool role")
            body: dict[str, Any] = {
                "_type": "chat",
                "input_variables": inputs,
                "partial_variables": partials,
                "template": [{"role": _TO_LANGCHAIN[m["role"]], "content": m["content"]} for m in spec["messages"]],
            }
        else:
            body = {
                "_type": "prompt",
                "input_variables": inputs,
                "partial_variables": partials,
                "template": spec["template"],
                "template_format": spec.get("template_format", "f-string"),
            }
        if body.get("template_format", spec.get("template_format")) not in {"f-string", "mustache", "jinja2"}:
            raise NativeError(manifest["slug"], f"LangChain has no {spec.get('template_format')} templates")
        native = spec.get("native") or {}
        if str(native.get("path", "")).endswith(".json"):
            return dump_json(body, indent=4)
        return dump_yaml(body)
