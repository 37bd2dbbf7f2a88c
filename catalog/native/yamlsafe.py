"""The one YAML loader every native format goes through: safe, bounded, and as strict as the tool that reads the file.

Built on PyYAML's SafeLoader: no Python object is ever built from a tag. On top of it: duplicate keys refused
(Go YAML and js-yaml refuse them, PyYAML keeps the last one silently), timestamps kept as text, non-JSON values
refused, aliases bounded against expansion bombs, YAML 1.2 booleans for the tools that read YAML 1.2, and only
the tags a format is known to use (`!function` for lm-eval, `!!python/tuple` for Haystack) turned into data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from catalog.native.base import NativeError

__all__ = ["FUNCTION_TAG", "Loaded", "TupleList", "load_yaml", "load_yaml_documents"]

MAX_ALIASES = 100
EXPANSION_FACTOR = 10
FUNCTION_TAG = "!function"
_TUPLE_TAG = "tag:yaml.org,2002:python/tuple"


class TupleList(list[Any]):
    """A `!!python/tuple` sequence: a list that remembers it was a tuple, so generation can write the tag back."""


@dataclass
class Loaded:
    """A parsed document and the line (1-based) where each JSON pointer starts, for errors that name a line."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, pointer: str) -> int | None:
        """The line of the pointer, or of its nearest ancestor the file has."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_YAML12_INT = re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$")
_YAML12_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _resolvers(yaml12: bool) -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    """SafeLoader's implicit resolvers without timestamps; for YAML 1.2 also without yes/no/on/off and sexagesimals."""
    table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:timestamp"]
        if yaml12:
            kept = [(tag, rx) for tag, rx in kept if tag.rsplit(":", 1)[1] not in {"bool", "int", "float"}]
        table[first] = kept
    if yaml12:
        for tag, rx, firsts in (
            ("tag:yaml.org,2002:bool", _YAML12_BOOL, "tTfF"),
            ("tag:yaml.org,2002:int", _YAML12_INT, "-+0123456789"),
            ("tag:yaml.org,2002:float", _YAML12_FLOAT, "-+0123456789."),
        ):
            for ch in firsts:
                table.setdefault(ch, []).append((tag, rx))
    return table


class _Base(yaml.SafeLoader):
    aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise NativeError(
                    "",
                    f"more than {MAX_ALIASES} YAML aliases; the file is refused as a possible expansion bomb",
                    line=mark.line + 1,
                    fix="write the repeated values out, or use fewer anchors",
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:  # before merge keys are flattened: an explicit key may override a merged one
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise NativeError(
                    "",
                    f"the mapping key {key!r} is not a string",
                    line=key_node.start_mark.line + 1,
                    fix="quote the key",
                )
            if key in seen:
                raise NativeError(
                    "",
                    f"the key {key!r} appears twice in one mapping (first on line {seen[key]})",
                    line=key_node.start_mark.line + 1,
                    fix="keep one of them: the tool that reads this file refuses duplicates",
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _function(loader: yaml.SafeLoader, node: Node) -> dict[str, str]:
    if not isinstance(node, ScalarNode):
        raise NativeError("", "`!function` must name a function, e.g. `!function utils.process_docs`")
    return {FUNCTION_TAG: str(loader.construct_scalar(node))}


def _tuple(loader: yaml.SafeLoader, node: Node) -> TupleList:
    if not isinstance(node, SequenceNode):
        raise NativeError("", "`!!python/tuple` must tag a sequence")
    return TupleList(loader.construct_sequence(node, deep=True))


_TAGS: dict[str, Callable[[yaml.SafeLoader, Node], Any]] = {FUNCTION_TAG: _function, _TUPLE_TAG: _tuple}


@cache
def _loader(yaml12: bool, tags: frozenset[str]) -> type[_Base]:
    loader: type[_Base] = type("NativeLoader", (_Base,), {})
    loader.yaml_implicit_resolvers = _resolvers(yaml12)
    loader.yaml_constructors = dict(_Base.yaml_constructors)
    for tag in tags:
        loader.add_constructor(tag, _TAGS[tag])
    return loader


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Characters the node stands for once every alias is expanded, computed without expanding anything."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 0  # a recursive alias counts once; construction refuses the cycle anyway
    if isinstance(node, ScalarNode):
        size = len(node.value) + 1
    elif isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    else:
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[key] = size
    return size


def _lines(node: Node, pointer: str, out: dict[str, int], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    out.setdefault(pointer, node.start_mark.line + 1)
    if isinstance(node, SequenceNode):
        for i, child in enumerate(node.value):
            _lines(child, f"{pointer}/{i}", out, seen)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                name = key.value.replace("~", "~0").replace("/", "~1")
                out.setdefault(f"{pointer}/{name}", key.start_mark.line + 1)
                _lines(value, f"{pointer}/{name}", out, seen)


def _check_values(value: Any, pointer: str, loaded: Loaded) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise NativeError("", f"{value} is not a finite number", line=loaded.line(pointer), fix="write a number")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, f"{pointer}/{k}", loaded)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, f"{pointer}/{i}", loaded)
    elif not isinstance(value, str | int | float | bool | type(None)):
        raise NativeError(
            "",
            f"a value of YAML type {type(value).__name__} has no JSON equivalent",
            line=loaded.line(pointer),
            fix="write it as text, a number, a list or a mapping",
        )


def _build(loader: _Base, node: Node, text_size: int) -> Loaded:
    limit = max(EXPANSION_FACTOR * text_size, 100_000)
    if loader.aliases and _expanded_size(node, {}) > limit:
        raise NativeError(
            "",
            "the YAML aliases expand to more than ten times the file's size; refused as an expansion bomb",
            fix="write the values out instead of repeating anchors",
        )
    loaded = Loaded(data=None)
    _lines(node, "", loaded.lines, set())
    loaded.data = loader.construct_document(node)
    _check_values(loaded.data, "", loaded)
    return loaded


def _parse(text: str, yaml12: bool, tags: frozenset[str]) -> list[Loaded]:
    try:
        loader = _loader(yaml12, tags)(text)
    except yaml.reader.ReaderError as err:  # YAML refuses control characters before parsing anything
        raise NativeError(
            "",
            f"not valid YAML: the character U+{err.character:04X} is not allowed",
            line=text[: err.position].count("\n") + 1,
            fix="remove control characters from the file",
        ) from err
    try:
        documents: list[Loaded] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                documents.append(_build(loader, node, len(text)))
        return documents
    except NativeError:
        raise
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark
        tag = re.search(r"tag '([^']*)'", str(err.problem))
        message = f"unsupported YAML tag {tag.group(1)}" if tag else str(err.problem)
        raise NativeError(
            "",
            message,
            line=mark.line + 1 if mark else None,
            fix="remove the tag: native files are read as data, never as code",
        ) from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise NativeError(
            "", f"not valid YAML: {err.problem or err.context}", line=mark.line + 1 if mark else None
        ) from err
    except yaml.YAMLError as err:
        raise NativeError("", f"not valid YAML: {err}") from err
    except RecursionError as err:
        raise NativeError("", "the YAML nests too deeply", fix="flatten the structure") from err
    finally:
        loader.dispose()


def load_yaml(text: str, *, yaml12: bool = False, tags: frozenset[str] = frozenset()) -> Loaded:
    """Exactly one YAML document (an empty file is None)."""
    documents = _parse(text, yaml12, tags)
    if len(documents) > 1:
        raise NativeError(
            "", f"the file holds {len(documents)} YAML documents; this format reads one", fix="split the file"
        )
    return documents[0] if documents else Loaded(data=None)


def load_yaml_documents(text: str, *, yaml12: bool = False, tags: frozenset[str] = frozenset()) -> list[Loaded]:
    """Every document of a multi-document stream (Kubernetes manifests)."""
    return _parse(text, yaml12, tags)
