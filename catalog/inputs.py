"""The input boundary: what any value from outside must be before it reaches a rule or a database.

One walk over a request's decoded JSON (and over its path and query) refuses, with a pointer to each place,
what would otherwise fail differently on SQLite and PostgreSQL, or not at all on one of them: NUL and other
control characters (PostgreSQL cannot store NUL, SQLite can), lone surrogates (neither encodes them),
integers beyond 64 bits, nesting deeper than any manifest needs, and oversized arrays and objects.
Field-specific bounds (lengths matching the columns, list sizes, single-line names) live in the schemas.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.errors import FieldProblem, InvalidInput

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "check_document",
    "check_text",
    "document_problems",
    "printable",
    "single_line",
    "text_problem",
]

MAX_DEPTH = 32  # a manifest's deepest real nesting (spec -> components -> params -> ...) is under 10
MAX_ITEMS = 10_000  # elements of one array or members of one object
MAX_PROBLEMS = 20  # enough to fix a request in one go; a hostile one does not get a huge answer
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Control characters but tab, newline and carriage return; DEL; UTF-16 surrogates (only lone ones decode).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]")
_FIX_TEXT = "remove control characters; send binary files with `encoding: base64`"


def _describe(char: str) -> str:
    if char == "\x00":
        return "a NUL character (U+0000)"
    if "\ud800" <= char <= "\udfff":
        return f"a lone surrogate (U+{ord(char):04X})"
    return f"the control character U+{ord(char):04X}"


def text_problem(pointer: str, text: str) -> FieldProblem | None:
    """The problem with one piece of text, if it holds a character no catalog text may hold."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return FieldProblem(pointer, f"contains {_describe(found.group())} at position {found.start()}", _FIX_TEXT)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def document_problems(value: Any, root: str = "") -> list[FieldProblem]:
    """Every place in a decoded JSON document that breaks the boundary (the first MAX_PROBLEMS of them).

    Iterative, so no input depth can exhaust the interpreter's stack.
    """
    problems: list[FieldProblem] = []
    stack: list[tuple[str, Any, int]] = [(root, value, 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        pointer, item, depth = stack.pop()
        where = pointer or "/"
        if isinstance(item, str):
            if problem := text_problem(where, item):
                problems.append(problem)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                problems.append(
                    FieldProblem(where, "is an integer beyond 64 bits", "give a number between -2^63 and 2^63-1")
                )
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                problems.append(FieldProblem(where, "is not a finite number", "give a finite number"))
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                problems.append(FieldProblem(where, f"nests deeper than {MAX_DEPTH} levels", "flatten this value"))
                continue
            if len(item) > MAX_ITEMS:
                problems.append(
                    FieldProblem(where, f"has {len(item)} entries, more than {MAX_ITEMS}", "send fewer entries")
                )
                continue
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    child_pointer = f"{pointer}/{_escape(str(key))}"
                    if problem := text_problem(child_pointer, str(key)):
                        problems.append(FieldProblem(child_pointer, f"the key {problem.detail}", problem.fix))
                    children.append((child_pointer, child, depth + 1))
                stack.extend(reversed(children))
            else:
                stack.extend((f"{pointer}/{i}", child, depth + 1) for i, child in reversed(list(enumerate(item))))
    problems.sort(key=lambda p: p.pointer)
    return problems


def check_document(value: Any, *, what: str = "the request body", root: str = "") -> None:
    """Raise InvalidInput naming every place in `value` that breaks the boundary."""
    problems = document_problems(value, root)
    if problems:
        raise InvalidInput(
            f"{what} has {len(problems)} value{'s' if len(problems) != 1 else ''} the registry cannot store: "
            + ", ".join(p.pointer for p in problems[:5]),
            problems,
        )


def check_text(value: str, pointer: str) -> None:
    """Raise InvalidInput if one piece of text (a path or query value) breaks the boundary."""
    if problem := text_problem(pointer, value):
        raise InvalidInput(f"{pointer} {problem.detail}", [problem])


def single_line(value: str) -> str:
    """A validator for names, titles and other one-line fields: no line breaks or tabs."""
    if found := _LINE_BREAKS.search(value):
        raise ValueError(f"must be one line; it contains {_describe(found.group())!s} at position {found.start()}")
    return value


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str, limit: int = 300) -> str:
    """Text as it may appear in a log line: control characters escaped, so input cannot forge log lines."""
    escaped = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text[:limit])
    return escaped + ("..." if len(text) > limit else "")
