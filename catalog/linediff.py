"""Line diffs whose cost is bounded whatever the input.

`difflib.SequenceMatcher` is quadratic or worse on inputs of repeated short lines (two 96 KB templates took
half a minute), and a diff is something anyone can ask for. Here the common head and tail are cut off in
linear time, the middle is compared by rapidfuzz's bit-parallel LCS (C++, one bit per pair of lines) while
it fits `MAX_CELLS`, and a middle larger than that is shown as removed-then-added, marked `exact=False`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import Indel

__all__ = ["MAX_CELLS", "LineDiff", "Opcode", "line_diff", "unified_diff"]

MAX_CELLS = 16_000_000  # pairs of lines compared at most: a 2 MB bit matrix, about 15 ms here
Tag = Literal["equal", "delete", "insert"]
Opcode = tuple[Tag, int, int, int, int]  # like difflib's: a[i1:i2] against b[j1:j2]


@dataclass(frozen=True, slots=True)
class LineDiff:
    opcodes: list[Opcode]
    exact: bool
    """False when the changed middle was too large to align line by line (shown as removed, then added)"""


def _middle(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many lines both share at the head, and then at the tail."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def line_diff(a: Sequence[str], b: Sequence[str]) -> LineDiff:
    """The opcodes turning lines `a` into lines `b` (a shortest edit where the work is bounded)."""
    head, tail = _middle(a, b)
    a_end, b_end = len(a) - tail, len(b) - tail
    ops: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    exact = (a_end - head) * (b_end - head) <= MAX_CELLS
    if exact:
        ids: dict[str, int] = {}
        left = [ids.setdefault(line, len(ids)) for line in a[head:a_end]]
        right = [ids.setdefault(line, len(ids)) for line in b[head:b_end]]
        equal = [(op.src_start, op.src_end, op.dest_start) for op in Indel.opcodes(left, right) if op.tag == "equal"]
    else:
        equal = []
    i, j = head, head  # between equal runs, what was removed comes before what was added (as git shows it)
    for src, src_end, dest in [*((head + s, head + e, head + d) for s, e, d in equal), (a_end, a_end, b_end)]:
        if i < src:
            ops.append(("delete", i, src, j, j))
        if j < dest:
            ops.append(("insert", src, src, j, dest))
        if src < src_end:
            ops.append(("equal", src, src_end, dest, dest + src_end - src))
        i, j = src_end, dest + src_end - src
    if tail:
        ops.append(("equal", a_end, len(a), b_end, len(b)))
    return LineDiff(ops, exact)


def _groups(ops: list[Opcode], context: int) -> Iterator[list[Opcode]]:
    """Changes with `context` equal lines around them, as difflib groups them into hunks."""
    codes = list(ops) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def unified_diff(a: Sequence[str], b: Sequence[str], fromfile: str, tofile: str, context: int = 3) -> str:
    """A unified diff of lines kept with their line ends, in `difflib.unified_diff`'s exact format."""
    out: list[str] = []
    for group in _groups(line_diff(a, b).opcodes, context):
        if not out:
            out += [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            out += ["-" + line for line in a[i1:i2]]
            out += ["+" + line for line in b[j1:j2]]
    return "".join(out)
