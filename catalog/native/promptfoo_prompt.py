"""promptfoo prompt files: `.txt` with prompts between `---` lines, or a YAML/JSON chat list of {role, content}."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from catalog.native.base import Draft, NativeError, Source, cut, humanize, slugify
from catalog.native.emit import dump_yaml
from catalog.native.promptkit import catalog_role, prompt_spec, summary_for
from catalog.native.yamlsafe import load_yaml

__all__ = ["PromptfooPrompt"]

_GENERIC = {"prompt", "prompts", "template", "system", "chat"}


def _split_text(text: str) -> list[str]:
    """Prompts between lines whose trimmed text is `---`, each trimmed, empty ones dropped (as promptfoo does)."""
    prompts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == "---":
            prompts.append("\n".join(current))
            current = []
        else:
            current.append(line)
    prompts.append("\n".join(current))
    return [p.strip() for p in prompts if p.strip()]


class PromptfooPrompt:
    id: ClassVar[str] = "promptfoo-prompt"
    kind: ClassVar[str] = "prompt"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".txt", ".json")
    claims: ClassVar[tuple[str, ...]] = (".txt",)

    def detect(self, source: Source, data: Any) -> bool:
        return (
            isinstance(data, list)
            and bool(data)
            and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in data)
        )

    def load(self, source: Source) -> list[str] | list[dict[str, Any]]:
        if source.suffix == ".txt":
            prompts = _split_text(source.text)
            if not prompts:
                raise NativeError(source.name, "the prompt file is empty")
            return prompts
        if source.suffix == ".json":
            try:
                data = json.loads(source.text)
            except ValueError as err:
                raise NativeError(source.name, f"not valid JSON: {err}") from err
        else:
            data = load_yaml(source.text, yaml12=True).data
        if not self.detect(source, data):
            raise NativeError(
                source.name,
                "a promptfoo prompt file is a list of chat messages",
                fix="write `- role: system` / `content: ...` items, or use a .txt file",
            )
        for message in data:
            if not isinstance(message["content"], str):
                raise NativeError(source.name, "every message `content` must be text")
            catalog_role(str(message["role"]), source.name)
        return list(data)

    def drafts(self, source: Source, data: list[Any]) -> list[Draft]:
        base = source.stem
        if base.lower() in _GENERIC and source.folder is not None:
            base = f"{source.folder.name}-{base}"
        notices = (
            [f"{source.name}: the title {source.stem!r} says little; pass --title"] if base.lower() in _GENERIC else []
        )
        title = humanize(base) if len(base) >= 3 else f"{base} prompt"
        if data and isinstance(data[0], dict):
            messages = [{"role": catalog_role(str(m["role"]), source.name), "content": m["content"]} for m in data]
            spec = prompt_spec(source.name, "jinja2", messages=messages, native_roles=[str(m["role"]) for m in data])
            spec["native"] = {"format": self.id, "path": source.name}
            return [self._draft(slugify(base), title, spec, notices, (source.stem,))]
        drafts = []
        for index, text in enumerate(data):
            spec = prompt_spec(source.name, "jinja2", template=text)
            spec["native"] = {"format": self.id, "path": source.name, "selector": {"prompt_index": index}}
            many = len(data) > 1
            slug = f"{slugify(base)}-{index + 1}" if many else slugify(base)
            drafts.append(
                self._draft(
                    slug, f"{title} ({index + 1})" if many else title, spec, notices, (str(index), str(index + 1))
                )
            )
        return drafts

    def _draft(self, slug: str, title: str, spec: dict[str, Any], notices: list[str], names: tuple[str, ...]) -> Draft:
        return Draft(
            kind=self.kind,
            slug=slug,
            title=cut(title, 200),
            summary=cut(summary_for("promptfoo prompt", spec["variables"]), 500),
            tags=["promptfoo", "prompt"],
            spec=spec,
            select_names=names,
            notices=notices,
        )

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        if spec.get("messages"):
            roles = spec.get("native_roles") or [m["role"] for m in spec["messages"]]
            return dump_yaml(
                [{"role": r, "content": m["content"]} for r, m in zip(roles, spec["messages"], strict=True)]
            )
        return (str(spec["template"]).rstrip("\n") + "\n").encode("utf-8")
