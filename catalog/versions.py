"""Semantic versions and the ranges `depends_on` may use.

Versions follow semver 2.0 strictly (`1.2.0`, `2.0.0-rc.1`). Ranges are comma-separated clauses that
all must hold, each an operator (`>=`, `>`, `<=`, `<`, `==`, `=`, `!=`, `^`, `~`) and a version that may
omit minor and patch (`>=1.0,<2`, `^1.2`, `~1.4.0`, `1.3.2`). A bare `*` matches every version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import semver

__all__ = ["InvalidVersion", "VersionRange", "parse_version", "sort_key"]

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|=|\^|~)?\s*v?([0-9][0-9A-Za-z.+-]*)\s*$")


class InvalidVersion(ValueError):
    """A version or range that cannot be parsed; the message says what a valid one looks like."""


def parse_version(text: str) -> semver.Version:
    """Parse a full semver version, with a message that shows the expected shape."""
    try:
        return semver.Version.parse(text.strip())
    except (ValueError, TypeError) as err:
        raise InvalidVersion(
            f"{text!r} is not a semantic version; use MAJOR.MINOR.PATCH such as 1.2.0 or 2.0.0-rc.1"
        ) from err


def sort_key(text: str) -> tuple[int, int, int, int, str]:
    """A key that orders versions by semver precedence (pre-releases before their release)."""
    v = parse_version(text)
    return (v.major, v.minor, v.patch, 0 if v.prerelease else 1, v.prerelease or "")


def _partial(text: str) -> tuple[semver.Version, int]:
    """Parse `1`, `1.2` or `1.2.3`; return the version and how many parts were given."""
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    given = len(core.split("."))
    try:
        return semver.Version.parse(text, optional_minor_and_patch=True), given
    except (ValueError, TypeError) as err:
        raise InvalidVersion(f"{text!r} is not a version") from err


class VersionRange:
    """A parsed range; `matches` tells whether a version satisfies every clause."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if not self.text:
            raise InvalidVersion("the version range is empty; use for example '>=1.0,<2' or '^1.2' or '*'")
        self._checks: list[Callable[[semver.Version], bool]] = []
        if self.text in {"*", "x"}:
            return
        for clause in self.text.split(","):
            m = _CLAUSE.match(clause)
            if not m:
                raise InvalidVersion(
                    f"cannot read the range clause {clause.strip()!r}; use an operator "
                    "(>=, >, <=, <, ==, !=, ^, ~) and a version, for example '>=1.0,<2'"
                )
            self._checks.append(self._clause(m.group(1) or "==", m.group(2)))

    @staticmethod
    def _clause(op: str, text: str) -> Callable[[semver.Version], bool]:
        low, given = _partial(text)
        if op in {"==", "="} and given < 3:
            op = "~" if given == 2 else "^"  # `1.2` means any 1.2.x, `1` any 1.x.y
            if given == 1:
                return lambda v: v.major == low.major and v >= low
        if op == "^":
            if low.major > 0 or given == 1:
                high = semver.Version(low.major + 1)
            elif low.minor > 0 or given == 2:
                high = semver.Version(0, low.minor + 1)
            else:
                high = semver.Version(0, 0, low.patch + 1)
            return lambda v: low <= v < high
        if op == "~":
            high = semver.Version(low.major + 1) if given == 1 else semver.Version(low.major, low.minor + 1)
            return lambda v: low <= v < high
        compare: dict[str, Callable[[semver.Version], bool]] = {
            ">=": lambda v: v >= low,
            ">": lambda v: v > low,
            "<=": lambda v: v <= low,
            "<": lambda v: v < low,
            "==": lambda v: v == low,
            "=": lambda v: v == low,
            "!=": lambda v: v != low,
        }
        return compare[op]

    def matches(self, version: str) -> bool:
        v = parse_version(version)
        return all(check(v) for check in self._checks)

    def best(self, versions: Iterable[str]) -> str | None:
        """The highest version that satisfies the range, or None."""
        fitting = [v for v in versions if self.matches(v)]
        return max(fitting, key=sort_key) if fitting else None
