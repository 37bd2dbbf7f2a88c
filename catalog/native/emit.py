"""Writing generated native files: always through an emitter, so the same manifest gives the same bytes.

UTF-8 without BOM, LF line endings, exactly one final newline, keys in the order given, strings that look
like YAML syntax (`{{prompt}}`) quoted by the emitter, numbers in their shortest round-tripping form.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from catalog.native.yamlsafe import FUNCTION_TAG, TupleList

__all__ = ["dump_json", "dump_yaml", "number"]


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, long lines kept whole, multi-line text as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value and all(line == line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
    if set(value) == {FUNCTION_TAG}:
        return dumper.represent_scalar(FUNCTION_TAG, str(value[FUNCTION_TAG]))
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items())


def _tuple(dumper: yaml.SafeDumper, value: TupleList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:python/tuple", list(value))


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", repr(value) if value != int(value) else f"{value:.1f}")


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(TupleList, _tuple)
_Dumper.add_representer(float, _float)


def number(value: float | int) -> float | int:
    """85.0 -> 85 (written as `85`), 0.9 stays 0.9: the shortest form that reads back equal."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def dump_yaml(data: Any, *, sort_keys: bool = False) -> bytes:
    """Block YAML, deterministic."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=sort_keys, allow_unicode=True, width=4096, indent=2)
    return text.rstrip("\n").encode("utf-8") + b"\n"


def dump_json(data: Any, *, indent: int = 2) -> bytes:
    """JSON as the native tools write it, deterministic."""
    return json.dumps(data, indent=indent, ensure_ascii=False).encode("utf-8") + b"\n"
