"""deepset PromptHub cards (`name`, `text`, `description`, `tags`, `meta`, `version`): one `prompt` asset each.

Card texts are Haystack 1.x templates: plain `{name}` fields stay `f-string`; fields that call Haystack's
functions (`{join(documents, ...)}`) are `haystack-v1`, whose variables come from a parse-only Python AST.
"""

from __future__ import annotations

import re
import string
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, normalize_tags, slugify
from catalog.native.emit import dump_yaml
from catalog.native.promptkit import prompt_spec
from catalog.native.yamlsafe import load_yaml

__all__ = ["PromptHub"]

_REQUIRED = {"name": str, "text": str, "description": str, "tags": list, "meta": dict, "version": str}


def _plain_fields(text: str) -> bool:
    try:
        return all(f.isidentifier() for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError:
        return False


def _semver(raw: str) -> str | None:
    """`0.1.0` as is; `v0.1` -> `0.1.0`."""
    m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", raw.strip())
    return f"{m.group(1)}.{m.group(2) or 0}.{m.group(3) or 0}" if m else None


class PromptHub:
    id: ClassVar[str] = "prompthub"
    kind: ClassVar[str] = "prompt"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml",)
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        return isinstance(data, dict) and set(_REQUIRED) <= set(data)

    def load(self, source: Source) -> dict[str, Any]:
        loaded = load_yaml(source.text)
        data = loaded.data
        if not isinstance(data, dict):
            raise NativeError(source.name, "a PromptHub card is a mapping", line=1)
        for key, kind in _REQUIRED.items():
            if not isinstance(data.get(key), kind):
                raise NativeError(
                    source.name,
                    f"`{key}` must be a {kind.__name__}" if key in data else f"the card has no `{key}`",
                    line=loaded.line(f"/{key}"),
                    fix="a card has name, text, description, tags, meta and version",
                )
        return data

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        text = data["text"]
        fmt = "f-string" if _plain_fields(text) else "haystack-v1"
        spec = prompt_spec(source.name, fmt, template=text)
        spec["native"] = {"format": self.id, "path": source.name}
        spec["prompthub_name"] = data["name"]
        spec["meta"] = data["meta"]
        version = _semver(data["version"])
        if version != data["version"]:
            spec["native_version"] = data["version"]
        companion = source.reference(f"{source.stem}.md")
        extra = dict([companion]) if companion is not None else {}
        authors = data["meta"].get("authors") or []
        authors = authors if isinstance(authors, list) else [authors]
        description = data["description"]
        if authors:
            description += "\n\nAuthors: " + ", ".join(str(a) for a in authors)
        if extra:
            description += "\n\n" + next(iter(extra.values())).decode("utf-8", "replace")
        last = str(data["name"]).rsplit("/", 1)[-1]
        return [
            Draft(
                kind=self.kind,
                slug=slugify(str(data["name"]).replace("/", "-")),
                title=cut(humanize(last) if len(last) >= 3 else str(data["name"]), 200),
                summary=cut(data["description"], 500)
                if len(data["description"].strip()) >= 10
                else f"PromptHub prompt {data['name']}",
                description=description[:50_000],
                tags=normalize_tags([*data["tags"], "prompthub", "haystack"]),
                spec=spec,
                version=version,
                extra_files=extra,
            )
        ]

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        if spec.get("messages"):
            raise NativeError(manifest["slug"], "a PromptHub card holds one text, not chat messages")
        text = str(spec["template"])
        if spec.get("template_format") in {"mustache", "jinja2", "handlebars"}:
            if re.search(r"\{%|\{\{\s*[#^/]", text):
                raise NativeError(manifest["slug"], "only plain {{name}} fields convert to a PromptHub card")
            parts = re.split(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}", text)  # odd items are the field names
            text = "".join(
                f"{{{p}}}" if i % 2 else p.replace("{", "{{").replace("}", "}}") for i, p in enumerate(parts)
            )
        body = {
            "name": spec.get("prompthub_name") or manifest["slug"],
            "text": text,
            "description": manifest["summary"],
            "tags": manifest.get("tags") or [],
            "meta": spec.get("meta") or {"authors": [manifest.get("owner", "unknown")]},
            "version": str(manifest["version"]),
        }
        return dump_yaml(body)
