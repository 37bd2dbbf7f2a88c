"""Paging parameters shared by the list routes: bounded, so no value reaches the database as an overflow."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

__all__ = ["MAX_OFFSET", "Offset"]

MAX_OFFSET = 1_000_000

Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description=f"items to skip (0 to {MAX_OFFSET:,})")]
