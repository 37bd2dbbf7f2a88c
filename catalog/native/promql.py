"""Reading an alert's PromQL expression as `signal op threshold` when it is one, by scanning text, never evaluating.

The comparison rule (native-formats notes §3.9): strip enclosing parentheses; at nesting depth 0 find the
comparison and set operators; the expression is a condition only with exactly one comparison, no set
operator, no `bool` or vector matching after it, and a number (or constant arithmetic) on one side. Anything
else fires "when the expression returns series", which is exactly what Prometheus does with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "Comparison",
    "canonical_duration",
    "is_duration",
    "parse_comparison",
    "severity_of",
    "severity_or_warning",
    "without_comments",
]

_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_SET_OPS = {"and", "or", "unless"}
_AFTER_OP = re.compile(r"\s*(bool|on|ignoring|group_left|group_right)\b", re.IGNORECASE)
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?\Z")
_UNITS = ("y", "w", "d", "h", "m", "s", "ms")


@dataclass(frozen=True)
class Comparison:
    signal: str
    op: str
    threshold: float


def is_duration(text: str) -> bool:
    """A Prometheus duration: units y w d h m s ms, each at most once and in that order, or `0`."""
    return text == "0" or (bool(text) and _DURATION.match(text) is not None)


def canonical_duration(text: str) -> str:
    """`0` -> `0s`; anything else kept as written (it already is in Prometheus order)."""
    return "0s" if text == "0" else text


def _balanced_enclosed(expr: str) -> bool:
    if not (expr.startswith("(") and expr.endswith(")")):
        return False
    depth = 0
    for i, (ch, quoted) in enumerate(_chars(expr)):
        if quoted:
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(expr) - 1:
                return False
    return depth == 0


def _chars(expr: str) -> list[tuple[str, bool]]:
    """Each character and whether it sits inside a string literal."""
    out: list[tuple[str, bool]] = []
    quote = ""
    escaped = False
    for ch in expr:
        if quote:
            out.append((ch, True))
            if escaped:
                escaped = False
            elif ch == "\\" and quote != "`":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
            out.append((ch, True))
        else:
            out.append((ch, False))
    return out


def _top_level_operators(expr: str) -> tuple[list[tuple[int, str]], bool]:
    """Comparison operators at depth 0 (position, text) and whether a set operator occurs at depth 0."""
    chars = _chars(expr)
    depth = 0
    found: list[tuple[int, str]] = []
    has_set = False
    i = 0
    while i < len(chars):
        ch, quoted = chars[i]
        if quoted:
            i += 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            two = expr[i : i + 2]
            if two in {"==", "!=", ">=", "<="}:
                found.append((i, two))
                i += 2
                continue
            if ch in "<>":
                found.append((i, ch))
            elif ch.isalpha() and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_:")):
                word = re.match(r"[A-Za-z_:][\w:]*", expr[i:])
                if word:
                    if word.group(0).lower() in _SET_OPS:
                        has_set = True
                    i += len(word.group(0))
                    continue
        i += 1
    return found, has_set


def without_comments(expr: str) -> str:
    """The expression without its `# ...` comments (to the end of a line, outside string literals)."""
    out: list[str] = []
    quote, escaped, skipping = "", False, False
    for ch in expr:  # one scan for both: a quote inside a comment (`# don't`) opens no string
        if skipping:
            skipping = ch != "\n"
            if skipping:
                continue
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote != "`":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "#":
            skipping = True
            continue
        out.append(ch)
    return "".join(out)


def parse_comparison(expr: str) -> Comparison | None:
    """`signal op threshold` when the expression is one comparison against a constant, else None."""
    text = expr.strip()
    while _balanced_enclosed(text):
        text = text[1:-1].strip()
    operators, has_set = _top_level_operators(text)
    if has_set or len(operators) != 1:
        return None
    pos, op = operators[0]
    left, right = text[:pos].strip(), text[pos + len(op) :]
    if _AFTER_OP.match(right):
        return None
    right = right.strip()
    right_value, left_value = constant(right), constant(left)
    if right_value is not None and left_value is None and left:
        return Comparison(left, op, right_value)
    if left_value is not None and right_value is None and right:
        return Comparison(right, _MIRROR[op], left_value)
    return None


_TOKEN = re.compile(r"\s*(0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|Inf|NaN|[-+*/%^()])", re.IGNORECASE)


def constant(text: str) -> float | None:
    """The value of a number literal or of constant arithmetic (`60 * 60 * 48`), computed by a tiny parser."""
    tokens: list[str] = []
    rest = text.strip()
    if not rest:
        return None
    while rest:
        m = _TOKEN.match(rest)
        if not m:
            return None
        tokens.append(m.group(1))
        rest = rest[m.end() :].lstrip()
    try:
        value, used = _sum(tokens, 0)
    except (IndexError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if used != len(tokens) or not math.isfinite(value):
        return None
    return value


def _sum(t: list[str], i: int) -> tuple[float, int]:
    value, i = _product(t, i)
    while i < len(t) and t[i] in "+-":
        rhs, j = _product(t, i + 1)
        value, i = (value + rhs if t[i] == "+" else value - rhs), j
    return value, i


def _product(t: list[str], i: int) -> tuple[float, int]:
    value, i = _power(t, i)
    while i < len(t) and t[i] in "*/%":
        rhs, j = _power(t, i + 1)
        value = value * rhs if t[i] == "*" else value / rhs if t[i] == "/" else math.fmod(value, rhs)
        i = j
    return value, i


def _power(t: list[str], i: int) -> tuple[float, int]:
    base, i = _unary(t, i)
    if i < len(t) and t[i] == "^":
        exponent, i = _power(t, i + 1)  # right-associative, as in PromQL
        return float(base**exponent), i
    return base, i


def _unary(t: list[str], i: int) -> tuple[float, int]:
    if t[i] in "+-":
        value, j = _unary(t, i + 1)
        return (-value if t[i] == "-" else value), j
    if t[i] == "(":
        value, j = _sum(t, i + 1)
        if t[j] != ")":
            raise ValueError("unbalanced")
        return value, j + 1
    literal = t[i]
    if literal in "*/%^)":
        raise ValueError("operator where a number belongs")
    return (float(int(literal, 16)) if literal.lower().startswith("0x") else float(literal)), i + 1


_SEVERITY = {
    "critical": ("critical", "page", "high", "error", "major", "emergency", "p0", "p1", "sev1"),
    "warning": ("warning", "warn", "medium", "minor", "ticket", "p2", "p3", "sev2", "sev3"),
    "info": ("info", "informational", "low", "notice", "none", "debug", "p4", "p5"),
}
_SEVERITY_OF = {alias: level for level, aliases in _SEVERITY.items() for alias in aliases}


def severity_of(value: object) -> str | None:
    """The catalog severity of a rule's `severity` label, or None when it has none the table knows."""
    return _SEVERITY_OF.get(str(value).strip().lower()) if value is not None else None


def severity_or_warning(value: object, rule: str) -> tuple[str, list[str]]:
    """The catalog severity, or `warning` with a notice saying why (no label, or one the table does not know)."""
    severity = severity_of(value)
    if severity is not None:
        return severity, []
    if value is None:
        return "warning", [f"{rule}: no `severity` label; recorded as warning"]
    known = ", ".join(sorted(_SEVERITY_OF))
    return "warning", [f"{rule}: severity {value!r} is not one the registry knows ({known}); recorded as warning"]
