"""Prompty (`.prompty`): YAML front matter and a body of role-marked messages; one `prompt` asset per file.

`${env:...}` and `${file:...}` references are kept as written, never resolved.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, normalize_tags, slugify
from catalog.native.emit import dump_yaml
from catalog.native.promptkit import catalog_role, prompt_spec, summary_for
from catalog.native.yamlsafe import load_yaml

__all__ = ["Prompty"]

_ROLE_LINE = re.compile(
    r"^\s*#?\s*(system|user|assistant|developer|function|tools)\s*(\[[^\]]*\])?\s*:\s*$", re.IGNORECASE
)
_KIND_TO_JSON = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


def split_front_matter(source: Source) -> tuple[str, str]:
    """Front matter and body, refusing files whose split the Prompty runtime would place elsewhere."""
    text = source.text
    stripped = text.lstrip()
    if not stripped.startswith("---"):
        return "", text
    lines = stripped.split("\n")
    if lines[0].strip() != "---":
        raise NativeError(source.name, "the opening `---` must be alone on its line", line=1)
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r") == "---":
            front = "\n".join(lines[1:i])
            if "---" in front:
                raise NativeError(
                    source.name,
                    "`---` appears inside the front matter, so the Prompty runtime would split the file elsewhere",
                    line=front[: front.index("---")].count("\n") + 2,
                    fix="quote or reword the text holding `---`",
                )
            return front, "\n".join(lines[i + 1 :]).lstrip()
    raise NativeError(source.name, "the front matter is never closed", fix="end it with a line holding only `---`")


def parse_body(body: str) -> tuple[list[tuple[str, str, str]], bool]:
    """(role, attributes, content) per message, and whether any role marker was found."""
    segments: list[tuple[str, str, list[str]]] = [("system", "", [])]
    found = False
    for line in body.split("\n"):
        m = _ROLE_LINE.match(line)
        if m:
            found = True
            segments.append((m.group(1), m.group(2) or "", []))
        else:
            segments[-1][2].append(line)
    messages = [(role, attrs, "\n".join(lines).strip("\n")) for role, attrs, lines in segments]
    return [(r, a, c) for r, a, c in messages if c.strip()], found


class Prompty:
    id: ClassVar[str] = "prompty"
    kind: ClassVar[str] = "prompt"
    suffixes: ClassVar[tuple[str, ...]] = (".prompty",)
    claims: ClassVar[tuple[str, ...]] = (".prompty",)

    def detect(self, source: Source, data: Any) -> bool:
        return source.suffix == ".prompty"

    def load(self, source: Source) -> dict[str, Any]:
        front, body = split_front_matter(source)
        try:
            meta = load_yaml(front).data if front.strip() else {}
        except NativeError as err:
            if err.line:
                err.line += 1  # the front matter starts on the file's second line
            raise
        if not isinstance(meta, dict):
            raise NativeError(source.name, "the front matter must be a mapping (name, model, inputs, ...)", line=2)
        fmt = self._format(meta)
        if fmt not in {"jinja2", "mustache"}:
            raise NativeError(source.name, f"template format {fmt!r} is not one the registry reads: jinja2 or mustache")
        messages, has_roles = parse_body(body)
        if not body.strip():
            raise NativeError(source.name, "the prompt body is empty", fix="write the prompt after the front matter")
        return {"meta": meta, "body": body, "messages": messages, "has_roles": has_roles, "format": fmt}

    @staticmethod
    def _format(meta: dict[str, Any]) -> str:
        template = meta.get("template")
        if isinstance(template, str):
            return template
        if isinstance(template, dict):
            fmt = template.get("format", "jinja2")
            return str(fmt.get("kind", "jinja2") if isinstance(fmt, dict) else fmt)
        return "jinja2"

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        meta, fmt = data["meta"], data["format"]
        if data["has_roles"]:
            native_roles = [role for role, _, _ in data["messages"]]
            messages = [{"role": catalog_role(r, source.name), "content": c} for r, _, c in data["messages"]]
            spec = prompt_spec(source.name, fmt, messages=messages, native_roles=native_roles)
            attrs = [a for _, a, _ in data["messages"]]
            if any(attrs):
                spec["message_attrs"] = attrs
        else:
            spec = prompt_spec(source.name, fmt, template=data["body"])
        model = self._model(meta)
        if model is not None:
            spec["model"] = model
        outputs = meta.get("outputs")
        schema = self._output_schema(outputs)
        if schema is not None:
            spec["output_schema"] = schema
        spec["native"] = {"format": self.id, "path": source.name}
        for key in ("inputs", "outputs", "tools", "metadata", "authors", "sample"):
            if key in meta:
                spec[key] = meta[key]
        if "model" in meta:
            spec["model_native"] = meta["model"]
        if "template" in meta:
            spec["template_config"] = meta["template"]
        title = str(meta.get("displayName") or meta.get("name") or source.stem).strip()
        description = meta.get("description") if isinstance(meta.get("description"), str) else ""
        api = self._api(meta)
        summary = (
            description.strip()
            if 10 <= len(description.strip()) <= 500
            else summary_for(f"Prompty {api} prompt" + (f" for {model['name']}" if model else ""), spec["variables"])
        )
        metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
        tags = [
            "prompty",
            *(metadata.get("tags") or []),
            *(meta.get("tags") or [] if isinstance(meta.get("tags"), list) else []),
        ]
        if api != "chat":
            tags.append(api)
        if meta.get("tools"):
            tags.append("tools")
        if outputs:
            tags.append("structured-output")
        authors = metadata.get("authors") or meta.get("authors") or []
        authors = authors if isinstance(authors, list) else [authors]
        lines = [description.strip()] if description.strip() else []
        if authors:
            lines.append("Authors: " + ", ".join(str(a) for a in authors))
        if model:
            lines.append(f"Model: `{model['name']}` ({model['provider']}, {api}).")
        if isinstance(meta.get("tools"), list) and meta["tools"]:
            lines.append("Tools: " + ", ".join(f"`{t.get('name')}`" for t in meta["tools"] if isinstance(t, dict)))
        return [
            Draft(
                kind=self.kind,
                slug=slugify(title if len(title) >= 2 else source.stem),
                title=cut(title if len(title) >= 3 else f"{title} prompt", 200),
                summary=cut(summary, 500),
                description="\n\n".join(lines),
                tags=normalize_tags(tags),
                spec=spec,
                secrets=self._secrets(meta),
            )
        ]

    @staticmethod
    def _api(meta: dict[str, Any]) -> str:
        model = meta.get("model")
        if isinstance(model, dict):
            return str(model.get("apiType") or model.get("api") or "chat")
        return "chat"

    @staticmethod
    def _model(meta: dict[str, Any]) -> dict[str, Any] | None:
        model = meta.get("model")
        if model is None:
            return None
        if isinstance(model, str):
            return {"provider": "unspecified", "name": model, "parameters": {}}
        if not isinstance(model, dict):
            return None
        connection = model.get("connection") or model.get("configuration") or {}
        connection = connection if isinstance(connection, dict) else {}
        name = (
            model.get("id") or connection.get("azure_deployment") or connection.get("model") or connection.get("name")
        )
        if not name:
            return None
        provider = model.get("provider")
        if not provider and connection.get("type"):
            provider = str(connection["type"]).lower().replace("_", "-")
        if not provider and ({"azure_deployment", "azure_endpoint"} & set(connection)):
            provider = "azure-openai"
        parameters = model.get("options") or model.get("parameters") or {}
        return {
            "provider": str(provider or "unspecified"),
            "name": str(name),
            "parameters": parameters if isinstance(parameters, dict) else {},
        }

    @staticmethod
    def _output_schema(outputs: Any) -> dict[str, Any] | None:
        if not outputs:
            return None
        items = (
            outputs
            if isinstance(outputs, list)
            else [{"name": k, **(v if isinstance(v, dict) else {"default": v})} for k, v in outputs.items()]
            if isinstance(outputs, dict)
            else []
        )
        properties: dict[str, Any] = {}
        required = []
        for item in items:
            if not isinstance(item, dict) or "name" not in item:
                continue
            prop: dict[str, Any] = {
                "type": _KIND_TO_JSON.get(str(item.get("kind", item.get("type", "string"))), "string")
            }
            if "description" in item:
                prop["description"] = item["description"]
            properties[str(item["name"])] = prop
            if item.get("required"):
                required.append(str(item["name"]))
        return {"type": "object", "properties": properties, "required": required} if properties else None

    @staticmethod
    def _secrets(meta: dict[str, Any]) -> list[str]:
        raw = meta.get("model")
        model: dict[str, Any] = raw if isinstance(raw, dict) else {}
        connection = model.get("connection") or model.get("configuration") or {}
        key = connection.get("apiKey") or connection.get("api_key") if isinstance(connection, dict) else None
        if isinstance(key, str) and key and not key.startswith("${"):
            return ["model.connection.apiKey"]
        return []

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        fmt = spec.get("template_format", "mustache")
        if fmt not in {"jinja2", "mustache"}:
            raise NativeError(
                manifest["slug"],
                f"Prompty reads jinja2 or mustache templates, not {fmt}",
                fix="export as another format",
            )
        front: dict[str, Any] = {"name": manifest["slug"], "description": manifest["summary"]}
        model = spec.get("model")
        if model:
            entry: dict[str, Any] = {"id": model["name"]}
            if model.get("provider") and model["provider"] != "unspecified":
                entry["provider"] = model["provider"]
            if model.get("parameters"):
                entry["options"] = model["parameters"]
            front["model"] = entry
        front["inputs"] = _v2_inputs(spec)
        schema = spec.get("output_schema")
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            required = set(schema.get("required") or [])
            front["outputs"] = [
                {
                    "name": k,
                    "kind": {"number": "float"}.get(str(v.get("type")), str(v.get("type", "string"))),
                    **({"description": v["description"]} if "description" in v else {}),
                    "required": k in required,
                }
                for k, v in schema["properties"].items()
                if isinstance(v, dict)
            ]
        front["template"] = {"format": {"kind": fmt}, "parser": {"kind": "prompty"}}
        if spec.get("messages"):
            roles = spec.get("native_roles") or [m["role"] for m in spec["messages"]]
            parts = []
            for role, message in zip(roles, spec["messages"], strict=True):
                if role == "tool" or any(_ROLE_LINE.match(line) for line in message["content"].split("\n")):
                    raise NativeError(
                        manifest["slug"],
                        "a message cannot be written as Prompty (tool role or a line that reads as a role marker)",
                    )
                parts.append(f"{role}:\n{message['content']}")
            body = "\n\n".join(parts)
        else:
            body = str(spec["template"])
        return b"---\n" + dump_yaml(front) + b"---\n" + body.rstrip("\n").encode("utf-8") + b"\n"


_KINDS = {"string", "integer", "float", "number", "boolean", "array", "object", "thread", "image", "file", "audio"}


def _v2_inputs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Inputs as the current runtime reads them: a list of `{name, kind, ...}`. A legacy (v1) file keeps them as a
    mapping of name -> sample value (or `sample:` beside them); those become each input's `example`."""
    inputs = spec.get("inputs")
    if isinstance(inputs, list) and all(isinstance(i, dict) and "name" in i for i in inputs):
        return inputs
    legacy = inputs if isinstance(inputs, dict) else {}
    sample = spec.get("sample")
    samples: dict[str, Any] = sample if isinstance(sample, dict) else {}
    out = []
    for name in [*legacy, *(v for v in spec.get("variables") or [] if v not in legacy)]:
        value = legacy.get(name)
        entry: dict[str, Any] = {"name": str(name), "kind": "string"}
        if isinstance(value, dict) and str(value.get("kind", value.get("type"))) in _KINDS:
            entry |= {k: v for k, v in value.items() if k != "type"}
            entry["kind"] = str(value.get("kind", value.get("type")))
        elif value is not None and not isinstance(value, dict | list):
            entry["example"] = value
        elif name in samples and not isinstance(samples[name], dict | list):
            entry["example"] = samples[name]
        out.append(entry)
    return out
