"""Dotprompt (`.prompt`): optional YAML front matter and a Handlebars template; one `prompt` asset per file.

`{{role "..."}}` helpers split the template into messages; everything else stays Handlebars (`handlebars`
template format), whose variables the catalog reads with a Handlebars-aware parser.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, normalize_tags, slugify
from catalog.native.emit import dump_yaml
from catalog.native.promptkit import prompt_spec, summary_for
from catalog.native.yamlsafe import load_yaml

__all__ = ["Dotprompt"]

_FRONT = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*---[ \t]*\n(.*?\n)?---[ \t]*\n(.*)\Z", re.DOTALL)
_ROLE = re.compile(r"\{\{\s*role\s+[\"'](system|user|model|tool)[\"']\s*\}\}")
_PICO_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null", "any"}


def picoschema(schema: Any) -> Any:
    """Picoschema (`field?: type, description`) as JSON Schema; a schema with a top-level `type` is already one."""
    if not isinstance(schema, dict):
        if isinstance(schema, str) and schema.split(",")[0].strip() in _PICO_TYPES:
            return _pico_type(schema)
        return {"type": "object"}
    if "type" in schema and isinstance(schema["type"], str):
        return schema
    properties: dict[str, Any] = {}
    required = []
    for key, value in schema.items():
        m = re.fullmatch(r"([\w*]+)(\?)?(?:\((\w+)(?:,\s*(.*))?\))?", key)
        if not m or m.group(1) == "*":
            continue
        name, optional, container, desc = m.groups()
        if container == "array":
            prop: dict[str, Any] = {
                "type": "array",
                "items": picoschema(value) if isinstance(value, dict) else _pico_type(value),
            }
        elif container == "object":
            prop = picoschema(value)
        elif container == "enum":
            prop = {"enum": value}
        elif isinstance(value, dict):
            prop = picoschema(value)
        else:
            prop = _pico_type(value)
        if desc:
            prop["description"] = desc
        properties[name] = prop
        if not optional:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _pico_type(value: Any) -> dict[str, Any]:
    text = str(value)
    kind, _, desc = text.partition(",")
    out: dict[str, Any] = {"type": kind.strip()} if kind.strip() in _PICO_TYPES - {"any"} else {}
    if desc.strip():
        out["description"] = desc.strip()
    return out


def _only_comments(text: str) -> bool:
    """Whether a template part is Handlebars comments and blanks only (one pass, whatever the input)."""
    rest = text.strip()
    while rest.startswith("{{!"):
        close = "--}}" if rest.startswith("{{!--") else "}}"
        end = rest.find(close, 3)
        if end < 0:
            return False
        rest = rest[end + len(close) :].strip()
    return not rest


class Dotprompt:
    id: ClassVar[str] = "dotprompt"
    kind: ClassVar[str] = "prompt"
    suffixes: ClassVar[tuple[str, ...]] = (".prompt",)
    claims: ClassVar[tuple[str, ...]] = (".prompt",)

    def detect(self, source: Source, data: Any) -> bool:
        return source.suffix == ".prompt"

    def load(self, source: Source) -> dict[str, Any]:
        m = _FRONT.match(source.text.replace("\r\n", "\n"))
        meta: Any = {}
        body = source.text
        if m:
            try:
                meta = load_yaml(m.group(1) or "", yaml12=True).data or {}
            except NativeError as err:
                raise NativeError(
                    source.name,
                    f"the front matter is not valid YAML: {err.message}",
                    fix="fix the YAML between the ---",
                ) from None
            body = m.group(2)
        if not isinstance(meta, dict):
            raise NativeError(source.name, "the front matter must be a mapping (model, config, input, output, ...)")
        body = body.strip()
        if not body:
            raise NativeError(source.name, "the template is empty")
        return {"meta": meta, "body": body}

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        meta, body = data["meta"], data["body"]
        parts = _ROLE.split(body)
        if len(parts) > 1:
            messages, roles = [], []
            if not _only_comments(parts[0]):  # comments before the first role render to nothing: no message
                messages.append({"role": "user", "content": parts[0].strip()})
                roles.append("user")
            for role, content in zip(parts[1::2], parts[2::2], strict=True):
                if content.strip():
                    messages.append({"role": "assistant" if role == "model" else role, "content": content.strip()})
                    roles.append(role)
            spec = prompt_spec(source.name, "handlebars", messages=messages, native_roles=roles)
        else:
            spec = prompt_spec(source.name, "handlebars", template=body)
        model = meta.get("model")
        if isinstance(model, str) and model:
            provider, _, name = model.partition("/")
            spec["model"] = {
                "provider": provider if name else "unspecified",
                "name": name or provider,
                "parameters": meta.get("config") if isinstance(meta.get("config"), dict) else {},
            }
        output = meta.get("output") if isinstance(meta.get("output"), dict) else {}
        if output.get("schema") is not None:
            spec["output_schema"] = picoschema(output["schema"])
        spec["native"] = {"format": self.id, "path": source.name}
        if output.get("format"):
            spec["output_format"] = output["format"]
        for key in ("input", "tools", "toolDefs", "variant", "metadata"):
            if key in meta:
                spec[key] = meta[key]
        ext = {k: v for k, v in meta.items() if "." in k}
        if ext:
            spec["ext"] = ext
        partials = sorted(set(re.findall(r"\{\{>\s*([\w.-]+)", body)))
        extra: dict[str, bytes] = {}
        missing = []
        for partial in partials:
            found = source.reference(f"_{partial}.prompt")
            if found is not None:
                extra[found[0]] = found[1]
            else:
                missing.append(f"_{partial}.prompt")
        if partials:
            spec["partials"] = partials
        if missing:
            spec["unresolved_refs"] = missing
        stem, _, variant = source.stem.partition(".")
        name = str(meta.get("name") or stem)
        variant = str(meta.get("variant") or variant)
        title = f"{humanize(name)} ({variant})" if variant else humanize(name)
        partial = source.stem.startswith("_")  # `_name.prompt`: a partial other prompts include with {{> name}}
        title += " (Dotprompt partial)" if partial else ""
        description = meta.get("description") if isinstance(meta.get("description"), str) else ""
        kind = "Dotprompt partial" if partial else "Dotprompt prompt"
        summary = description if len(description.strip()) >= 10 else summary_for(kind, spec["variables"])
        namespaces = sorted({k.split(".", 1)[0] for k in ext})
        return [
            Draft(
                kind=self.kind,
                slug=slugify(f"{name}-{variant}" if variant else name),
                title=cut(title if len(title) >= 3 else f"{title} prompt", 200),
                summary=cut(summary, 500),
                description=description,
                tags=normalize_tags(
                    ["dotprompt", "partial" if partial else "", str(output.get("format") or ""), *namespaces]
                ),
                spec=spec,
                version=str(meta["version"]) if meta.get("version") is not None else None,
                extra_files=extra,
            )
        ]

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        fmt = spec.get("template_format", "mustache")
        front: dict[str, Any] = {}
        model = spec.get("model")
        if model:
            provider = model.get("provider")
            front["model"] = model["name"] if provider in (None, "unspecified") else f"{provider}/{model['name']}"
            if model.get("parameters"):
                front["config"] = model["parameters"]
        if spec.get("variables"):
            front["input"] = {"schema": {v: "string" for v in spec["variables"]}}
        if spec.get("output_schema"):
            front["output"] = {"format": "json", "schema": spec["output_schema"]}

        def convert(text: str) -> str:
            if fmt in {"mustache", "handlebars"}:
                return text
            if fmt == "jinja2" and not re.search(r"\{%|\{#", text):
                return text
            if fmt == "f-string":
                fields = re.findall(r"(?<!\{)\{([^{}]*)\}(?!\})", text)
                if any(not f.isidentifier() for f in fields) or "{{" in text:
                    raise NativeError(manifest["slug"], "only plain {name} fields convert to Dotprompt")
                return re.sub(r"\{([A-Za-z_]\w*)\}", r"{{\1}}", text)
            raise NativeError(manifest["slug"], f"a {fmt} template with blocks does not convert to Dotprompt")

        if spec.get("messages"):
            roles = {"assistant": "model"}
            body = "\n".join(
                f'{{{{role "{roles.get(m["role"], m["role"])}"}}}}\n{convert(m["content"])}' for m in spec["messages"]
            )
        else:
            body = convert(str(spec["template"]))
        head = b"---\n" + dump_yaml(front) + b"---\n" if front else b""
        return head + body.rstrip("\n").encode("utf-8") + b"\n"
