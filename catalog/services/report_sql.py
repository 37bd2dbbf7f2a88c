"""The reports' SQL, run the same on SQLite and PostgreSQL: written once with :named parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from catalog.tables import Adoption

__all__ = ["Row", "one_by_one", "postgres", "query_rows"]

_PARAM = re.compile(r":(\w+)")

Row = Mapping[str, Any]


def postgres() -> bool:
    return isinstance(Adoption._meta.db, PostgresEngine)


def _value(value: Any) -> Any:
    """SQLite keeps timestamps as text: compare with text written the same way."""
    if isinstance(value, datetime) and not postgres():
        return value.astimezone(UTC).isoformat(sep=" ")
    return value


async def query_rows(sql: str, params: Row) -> Sequence[Row]:
    """Run SQL written with :named parameters.

    On PostgreSQL with a pool (the server), straight through asyncpg: the report reads tens of thousands of
    grouped rows, and its records need no conversion to dicts. Otherwise Piccolo's raw query (positional `{}`).
    """
    names = _PARAM.findall(sql)
    args = [_value(params[name]) for name in names]
    engine = Adoption._meta.db
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        numbers = iter(range(1, len(names) + 1))
        async with engine.pool.acquire() as connection:
            records: Sequence[Row] = await connection.fetch(_PARAM.sub(lambda _: f"${next(numbers)}", sql), *args)
            return records
    rows: list[Row] = await Adoption.raw(_PARAM.sub("{}", sql), *args)
    return rows


async def one_by_one(queries: Sequence[tuple[str, Row]]) -> list[Sequence[Row]]:
    return [await query_rows(sql, params) for sql, params in queries]
