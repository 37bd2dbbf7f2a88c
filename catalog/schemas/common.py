"""Building blocks every schema shares: the validated slug, version, tag and text types, the actor, and
how a pydantic error becomes field problems with JSON pointers (so the API and the CLI say the same words).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from catalog.errors import FieldProblem
from catalog.inputs import single_line
from catalog.versions import InvalidVersion, VersionRange, parse_version

__all__ = [
    "KINDS",
    "SCOPES",
    "SYSTEM",
    "Actor",
    "Kind",
    "Name",
    "OpenModel",
    "Range",
    "Scope",
    "SemVer",
    "Sentence",
    "Slug",
    "StrictModel",
    "Text",
    "Url",
    "examples",
    "normalize_tags",
    "problems_from",
    "utc",
]


Kind = Literal["eval_harness", "prompt", "retrieval_pipeline", "monitor"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Scope = Literal["read", "publish", "adopt", "pilots", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

# `\Z`, not `$`: `$` also matches before a trailing newline.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}\Z")
_TAG = re.compile(r"[a-z0-9][a-z0-9+.#-]{0,49}\Z")
_PLACEHOLDERS = {"tbd", "todo", "n/a", "na", "none", "-", "...", "tba", "later", "unknown"}


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid slug: use 2-63 lowercase letters, digits and hyphens, "
            "starting with a letter or digit, for example 'claims-triage-prompt'"
        )
    return value


def _semver(value: str) -> str:
    if len(value) > 100:
        raise ValueError(f"a version is at most 100 characters; this one has {len(value)}")
    try:
        parse_version(value)
    except InvalidVersion as err:
        raise ValueError(str(err)) from err
    return value.strip()


def _range(value: str) -> str:
    if len(value) > 100:
        raise ValueError(f"a version range is at most 100 characters; this one has {len(value)}")
    try:
        VersionRange(value)
    except InvalidVersion as err:
        raise ValueError(str(err)) from err
    return value.strip()


def normalize_tags(values: list[str]) -> list[str]:
    out: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not _TAG.match(tag):
            raise ValueError(
                f"tag {raw!r} is not valid: use up to 50 lowercase letters, digits and - + . #, "
                "for example 'rag' or 'icd-10'"
            )
        if tag not in out:
            out.append(tag)
    return out


def _sentence(value: str) -> str:
    text = value.strip()
    if text.lower() in _PLACEHOLDERS or len(text.split()) < 4 or len(text) < 20:
        raise ValueError(
            f"{value!r} is not a real answer: write at least one full sentence (4+ words) saying what is in place"
        )
    return text


Slug = Annotated[str, AfterValidator(_slug)]
SemVer = Annotated[str, AfterValidator(_semver)]
Range = Annotated[str, AfterValidator(_range)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(single_line)]
Sentence = Annotated[str, AfterValidator(_sentence)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000), AfterValidator(single_line)]


class Actor(BaseModel):
    """Who acts: a token's name and team, or the system (seeding, admin CLI)."""

    name: str
    team: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def label(self) -> str:
        return f"{self.team}/{self.name}"

    def may_act_for(self, team: str) -> bool:
        return self.is_admin or self.team == team


SYSTEM = Actor(name="system", team="platform", scopes=frozenset({"admin"}))


def examples(*values: dict[str, Any]) -> dict[str, Any]:
    """A request model's examples, for its JSON schema (the API page shows them as ready-to-send bodies)."""
    return {"examples": list(values)}


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_attribute_docstrings=True)


class OpenModel(BaseModel):
    """Specs keep keys they do not know (teams add their own), but validate the ones they do.

    Text is kept exactly as written: prompt whitespace is content.
    """

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove this field or check its spelling",
    "string_too_short": "give a longer value",
    "string_too_long": "shorten it",
    "too_short": "add at least one item",
    "int_parsing": "give a whole number",
    "float_parsing": "give a number",
    "bool_parsing": "give true or false",
    "literal_error": "use one of the allowed values",
    "union_tag_invalid": "set `kind` to the kind of asset this is",
    "union_tag_not_found": "add `kind`",
    "string_pattern_mismatch": "match the pattern shown",
}


def problems_from(err: ValidationError, *, prefix: str = "", strip_tags: bool = True) -> list[FieldProblem]:
    """Turn pydantic errors into field problems with JSON pointers (union tags taken out of the path)."""
    out = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        if strip_tags and loc and loc[0] in KINDS:
            loc = loc[1:]
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            loc = [*loc, "kind"]
            message = f"`kind` must be one of {', '.join(KINDS)}"
        pointer = prefix + "/" + "/".join(loc) if loc else prefix or "/"
        fix = _FIXES.get(e["type"], "see what this field takes in /schema/openapi.json (or /api/docs)")
        typed = e.get("input")
        if e["type"] == "string_type" and isinstance(typed, bool | int | float):  # YAML typed an unquoted scalar
            what = "true/false" if isinstance(typed, bool) else "a number"
            message = f"was read as {what} ({typed!r}), not as text: YAML types unquoted values such as 1.0 or yes"
            fix = "write a full version such as 1.0.0" if loc[-1:] == ["version"] else ""
            fix = (fix + ", in quotes if needed" if fix else 'put the value in quotes, e.g. "1.0"').lstrip(", ")
        out.append(FieldProblem(pointer=pointer, detail=message, fix=fix))
    return out


def utc(dt: datetime) -> datetime:
    """Piccolo returns naive datetimes from SQLite; the catalog speaks UTC-aware ones everywhere."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
