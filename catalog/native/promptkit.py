"""What the prompt formats share: the catalog's roles, the variables a template uses, a generated summary."""

from __future__ import annotations

from typing import Any

from catalog.native.base import NativeError
from catalog.templates import template_variables

__all__ = ["ROLES", "catalog_role", "prompt_spec", "summary_for", "variables_of"]

ROLES = ("system", "user", "assistant", "tool")
_ROLE_MAP = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
    "tools": "tool",
}


def catalog_role(role: str, file: str) -> str:
    """A native role name as one of the catalog's four (the original is kept in `native_roles`)."""
    mapped = _ROLE_MAP.get(role.strip().lower())
    if mapped is None:
        raise NativeError(
            file, f"the message role {role!r} has no equivalent in the catalog", fix=f"use one of {', '.join(ROLES)}"
        )
    return mapped


def variables_of(texts: list[str], template_format: str, file: str) -> list[str]:
    """The variables the texts use, sorted by code point, exactly as the catalog will compute them."""
    used: set[str] = set()
    for text in texts:
        try:
            used |= template_variables(text, template_format)
        except ValueError as err:
            raise NativeError(file, str(err)) from err
    return sorted(used)


def prompt_spec(
    file: str,
    template_format: str,
    *,
    template: str | None = None,
    messages: list[dict[str, str]] | None = None,
    native_roles: list[str] | None = None,
) -> dict[str, Any]:
    """A prompt spec with its variables; messages keep their content exactly."""
    spec: dict[str, Any] = {"template_format": template_format}
    if messages is not None:
        spec["messages"] = messages
        texts = [m["content"] for m in messages]
        if native_roles is not None and native_roles != [m["role"] for m in messages]:
            spec["native_roles"] = native_roles
    else:
        assert template is not None
        spec["template"] = template
        texts = [template]
    spec["variables"] = variables_of(texts, template_format, file)
    return spec


def summary_for(kind: str, variables: list[str]) -> str:
    """A generated summary when the file has none: what it is and what it needs."""
    needs = f" with variables {', '.join(variables)}" if variables else " without variables"
    return f"{kind}{needs}."
