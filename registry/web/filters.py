"""Jinja filters the pages share: numbers written the way people write them."""

from __future__ import annotations

import json

from litestar.plugins.jinja import JinjaTemplateEngine

from search.problem import label_of

__all__ = ["plain_number", "register_filters", "shown_value"]


def plain_number(value: object) -> str:
    """`25` for 25.0, `2.5` for 2.5, `1,250` for 1250: no trailing `.0` a person would never write."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def shown_value(value: object) -> str:
    """A manifest value as people read it: text as written, anything else as JSON with its characters (not
    `\\u00e9` escapes); the template's autoescaping makes it safe HTML."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["number"] = plain_number
    engine.engine.filters["value"] = shown_value
    engine.engine.filters["vocabulary"] = label_of
