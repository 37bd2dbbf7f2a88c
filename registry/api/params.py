"""Parameters shared by the routes, bounded and described once: no value reaches the database as an overflow."""

from __future__ import annotations

from typing import Annotated

from litestar.openapi.spec import Example
from litestar.params import PathParameter, QueryParameter

__all__ = ["MAX_ID", "MAX_OFFSET", "Label", "Offset", "RowId", "Slug", "Version"]

MAX_OFFSET = 1_000_000

Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description=f"items to skip (0 to {MAX_OFFSET:,})")]

MAX_ID = 2**31 - 1  # serial ids are 32-bit on PostgreSQL

RowId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="a numeric id")]

Slug = Annotated[
    str,
    PathParameter(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="2-63 lowercase letters, digits and hyphens",
        examples=[Example(value="claims-triage-prompt")],
    ),
]
Version = Annotated[
    str,
    PathParameter(min_length=1, max_length=100, description="a semantic version", examples=[Example(value="1.2.0")]),
]
Label = Annotated[
    str,
    PathParameter(
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description="1-63 lowercase letters, digits and hyphens",
        examples=[Example(value="production")],
    ),
]
