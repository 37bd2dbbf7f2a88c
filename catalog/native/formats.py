"""The native formats the registry reads and writes, in the order `auto` tries them (first match wins)."""

from __future__ import annotations

import json
from typing import Any

from catalog.native.base import NativeError, NativeFormat, Source
from catalog.native.dotprompt import Dotprompt
from catalog.native.grafana import Grafana
from catalog.native.haystack import Haystack
from catalog.native.langchain import LangChain
from catalog.native.lmeval import LmEval
from catalog.native.prometheus import Prometheus
from catalog.native.promptfoo import Promptfoo
from catalog.native.promptfoo_prompt import PromptfooPrompt
from catalog.native.prompthub import PromptHub
from catalog.native.prompty import Prompty
from catalog.native.yamlsafe import FUNCTION_TAG, load_yaml_documents

__all__ = ["FORMATS", "FORMAT_IDS", "NOT_NATIVE", "detect", "get_format"]

NOT_NATIVE = "not a file of any format the registry imports"

# Extension rules come first; among YAML/JSON shapes Grafana precedes Prometheus (both have groups[].rules[]).
FORMATS: tuple[NativeFormat, ...] = (
    Prompty(),
    Dotprompt(),
    PromptfooPrompt(),
    Grafana(),
    Prometheus(),
    Haystack(),
    LmEval(),
    Promptfoo(),
    LangChain(),
    PromptHub(),
)
FORMAT_IDS: tuple[str, ...] = tuple(f.id for f in FORMATS)
_BY_ID = {f.id: f for f in FORMATS}


def get_format(format_id: str) -> NativeFormat:
    """A format by its id (case-insensitive)."""
    fmt = _BY_ID.get(format_id.lower())
    if fmt is None:
        raise NativeError("", f"unknown format {format_id!r}", fix=f"use one of: auto, {', '.join(FORMAT_IDS)}")
    return fmt


def _shape(source: Source) -> Any:
    """The file's data for detection only: the first Kubernetes rule resource, or the first document."""
    if source.suffix == ".json":
        try:
            return json.loads(source.text)
        except ValueError as err:
            raise NativeError(source.name, f"not valid JSON: {err}") from err
    documents = load_yaml_documents(source.text, tags=frozenset({FUNCTION_TAG, "tag:yaml.org,2002:python/tuple"}))
    for doc in documents:
        if isinstance(doc.data, dict) and doc.data.get("kind") == "PrometheusRule":
            return doc.data
    return documents[0].data if documents else None


def detect(source: Source) -> tuple[NativeFormat, Any]:
    """The file's format and its data as that format loads it; NativeError when no format fits."""
    by_suffix = [f for f in FORMATS if source.suffix in f.claims]
    if by_suffix:
        fmt = by_suffix[0]
    else:
        try:
            shape = _shape(source)
        except NativeError as err:  # unreadable as YAML/JSON: not a format `auto` can recognise
            raise NativeError(source.name, f"{NOT_NATIVE} ({err.message})", line=err.line, fix=err.fix) from None
        matching = [f for f in FORMATS if f.detect(source, shape)]
        if not matching:
            raise NativeError(source.name, NOT_NATIVE, fix="name the format with --format")
        fmt = matching[0]
    try:
        return fmt, fmt.load(source)
    except NativeError as err:
        raise err.located(source.name) from None
