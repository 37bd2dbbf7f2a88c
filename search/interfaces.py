"""The contract every search backend implements; the index is derived data, rebuilt from the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["SearchBackend"]


class SearchBackend(Protocol):
    """A search index of assets. Writes come from the outbox worker; nothing lives only in the index."""

    async def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        """Add or replace the documents of these assets."""

    async def delete(self, slugs: Sequence[str]) -> None:
        """Remove these assets from the index."""

    async def health(self) -> str | None:
        """None when the index answers, else why it does not."""
