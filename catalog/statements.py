"""Hot queries compiled once: a Piccolo query built and compiled to SQL per shape, then run with new values;
and inserts of many rows in one statement, written without Piccolo's per-value query strings.

Building and compiling a Piccolo query (its columns, joins and nested query strings) cost five to ten times
what SQLite took to run it: reading one asset spent 0.3 ms a query on it. A `Statement` builds its query once
per database kind and shape, with markers where the values go, keeps the SQL and where each marker landed,
and then runs that SQL with the values in their places. Results are read by the query built (JSON loaded,
aliases, counts, `first`), so a statement answers exactly what awaiting the query would.

What is bound and what shapes the SQL of a `Statement`:
- str, int and float arguments are bound; a list of them (for `is_in`) is bound item by item, one shape per
  length (lists longer than `LONGEST_LIST`, which batches send, build the query each time instead);
- None and bool arguments, and every keyword argument (a limit, an offset), shape the SQL: the builder gets
  them as they are, and each combination is compiled apart (`MOST_SHAPES` at most; more build each time).

`insert_rows` sends Table instances as Piccolo's insert does (every column but the key, values converted as
Piccolo converts them, ids read back onto the rows), with the SQL written once per table and row count.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns import JSON, JSONB, Column
from piccolo.query.base import Query
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value

__all__ = ["LONGEST_LIST", "MOST_SHAPES", "Statement", "insert_rows", "statement"]

LONGEST_LIST = 16
MOST_SHAPES = 64  # per statement: limits and offsets could otherwise grow the compiled forms without bound
_BOUND = (str, int, float)
_PARAMETERS = 30_000  # bound parameters per statement: SQLite allows 32,766, PostgreSQL 32,767
_AS_IS = (str, int, float, bool, type(None), datetime.datetime)  # what Piccolo passes to the driver unchanged


@dataclass(frozen=True)
class _Compiled:
    query: Query[Any, Any]  # built with markers: it reads the rows the SQL returns
    sql: str
    args: list[Any]  # the compiled arguments, markers included
    slots: list[tuple[int, int, int]]  # (argument position, value index, list index or -1)


def _marker(value: int, item: int) -> str:
    return f"\x00statement-value:{value}:{item}\x00"


def _shape_of(value: Any) -> Hashable:
    """-1 for a bound value, a list's length, or the value itself when it shapes the SQL (None, bool)."""
    if value is None or isinstance(value, bool):
        return ("as-is", value)
    if isinstance(value, _BOUND):
        return -1
    if isinstance(value, list) and all(isinstance(v, _BOUND) and not isinstance(v, bool) for v in value):
        return len(value)
    raise TypeError(f"a statement binds str, int, float or a list of them, not {type(value).__name__}")


class Statement:
    """A query whose SQL is compiled once per database kind and shape (see the module's docstring)."""

    def __init__(self, build: Callable[..., Query[Any, Any]]) -> None:
        self._build = build
        self._compiled: dict[Hashable, _Compiled] = {}
        self._last: Query[Any, Any] | None = None  # any query built: its table names the engine in use

    async def run(self, *values: Any, **shape: Hashable) -> Any:
        """What awaiting the built query would answer: rows of a select, a count, whether one exists."""
        shapes = tuple(_shape_of(v) for v in values)
        compiled = self._compiled_for(shapes, values, shape)
        if compiled is None:  # a long list, or one shape too many: built the ordinary way
            return await self._build(*values, **shape)
        args = list(compiled.args)
        for position, value, item in compiled.slots:
            args[position] = values[value] if item < 0 else values[value][item]
        query = compiled.query
        querystring = QueryString("", query_type="select", table=query.table)
        querystring._frozen_compiled_strings = (compiled.sql, args)  # what compile_string then answers
        results = await query.table._meta.db.run_querystring(querystring)
        return await query._process_results(results)

    async def first(self, *values: Any, **shape: Hashable) -> dict[str, Any] | None:
        """A select's first row, or None when it has none (the builder limits the select to one row)."""
        rows: list[dict[str, Any]] = await self.run(*values, **shape)
        return rows[0] if rows else None

    def _compiled_for(
        self, shapes: tuple[Hashable, ...], values: tuple[Any, ...], shape: dict[str, Hashable]
    ) -> _Compiled | None:
        if any(isinstance(s, int) and s > LONGEST_LIST for s in shapes):
            return None
        engine_type = self._last.engine_type if self._last is not None else None
        key = (engine_type, shapes, tuple(sorted(shape.items())))
        if (compiled := self._compiled.get(key)) is not None:
            return compiled
        if len(self._compiled) >= MOST_SHAPES:
            return None
        arguments = [
            _marker(i, -1) if s == -1 else [_marker(i, j) for j in range(s)] if isinstance(s, int) else values[i]
            for i, s in enumerate(shapes)
        ]
        query = self._last = self._build(*arguments, **shape)
        (querystring,) = query.querystrings
        sql, args = querystring.compile_string(engine_type=query.engine_type)
        where: dict[str, list[int]] = {}
        for position, arg in enumerate(args):
            if isinstance(arg, str) and arg.startswith("\x00statement-value:"):
                where.setdefault(arg, []).append(position)
        slots = []
        for i, s in enumerate(shapes):
            for j in [-1] if s == -1 else range(s) if isinstance(s, int) else []:
                if _marker(i, j) not in where:
                    raise TypeError(f"argument {i} of the statement does not reach the SQL as a bound value")
                slots += [(position, i, j) for position in where[_marker(i, j)]]
        compiled = _Compiled(query, sql, args, slots)
        self._compiled[(query.engine_type, shapes, key[2])] = compiled
        return compiled


def statement(build: Callable[..., Query[Any, Any]]) -> Statement:
    """Decorate a function that builds a query from its arguments: calls then reuse its compiled SQL."""
    return Statement(build)


def _columns(table: type[Table]) -> list[Column]:
    return [c for c in table._meta.columns if not c._meta.primary_key]


@functools.lru_cache(maxsize=256)
def _insert_sql(table: type[Table], rows: int, engine_type: str) -> str:
    """INSERT of `rows` rows of every column but the key, returning the keys (kept for up to 16 rows).

    RETURNING needs SQLite 3.35 (2021; Debian 12 has 3.40.1), where Piccolo's insert falls back to reading the
    last row id one row at a time."""
    names = ",".join(f'"{c._meta.db_column_name}"' for c in _columns(table))
    width = len(_columns(table))
    if engine_type == "sqlite":
        values = ",".join(["(" + ",".join("?" * width) + ")"] * rows)
    else:
        values = ",".join("(" + ",".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows))
    key = table._meta.primary_key._meta.db_column_name
    into = table._meta.get_formatted_tablename()  # names from the table's definition, never from input
    return f'INSERT INTO {into} ({names}) VALUES {values} RETURNING "{key}"'  # noqa: S608


def _sql_value(value: Any, column: Column) -> Any:
    if type(value) in _AS_IS and not isinstance(column, (JSON, JSONB)):
        return value
    return convert_to_sql_value(value, column)


async def insert_rows(table: type[Table], rows: Sequence[Table]) -> None:
    """Insert rows in as few statements as the databases' parameter limits allow; each row gets its id."""
    columns = _columns(table)
    engine = table._meta.db
    key = table._meta.primary_key._meta
    per_statement = max(1, _PARAMETERS // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        make = _insert_sql if len(chunk) <= LONGEST_LIST else _insert_sql.__wrapped__
        querystring = QueryString("", query_type="insert", table=table)
        args = [_sql_value(row[c._meta.name], c) for row in chunk for c in columns]
        querystring._frozen_compiled_strings = (make(table, len(chunk), engine.engine_type), args)
        for row, inserted in zip(chunk, await engine.run_querystring(querystring), strict=True):
            setattr(row, key.name, inserted[key.db_column_name])
            row._exists_in_db = True
