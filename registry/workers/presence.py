"""A delivery worker's sign of life on PostgreSQL, so a live worker takes back at once what a dead one leased.

Each worker holds a session advisory lock keyed by its own id, on a connection of its own, for as long as its
process lives; PostgreSQL drops the lock the moment the process (or its host) dies. A lease names its holder,
so a worker that can take a holder's lock knows the holder is gone and gives its subscriptions back, instead
of waiting for the lease to run out.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from catalog.services import deliveries

__all__ = ["Presence"]

log = logging.getLogger("registry.webhooks")
_HOLDERS = 0x7265  # the advisory-lock key space of lease holders (the first of the two int4 keys)
_CONNECT = ("host", "port", "user", "password", "database")


def _key(holder: str) -> int:
    return int.from_bytes(hashlib.sha256(holder.encode()).digest()[:4], "big", signed=True)


class Presence:
    def __init__(self, holder: str, engine: PostgresEngine) -> None:
        self.holder = holder
        self.config: dict[str, Any] = {k: engine.config[k] for k in _CONNECT if k in engine.config}
        self._connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        """Connect and hold this worker's lock (before it leases anything)."""
        self._connection = await asyncpg.connect(**self.config)
        await self._connection.execute("SELECT pg_advisory_lock($1, $2)", _HOLDERS, _key(self.holder))

    async def take_back(self) -> int:
        """Give back the leases of holders that are gone; returns how many subscriptions came back."""
        if self._connection is None:
            return 0
        taken = 0
        for holder in await deliveries.lease_holders(besides=self.holder):
            if await self._connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", _HOLDERS, _key(holder)):
                try:
                    taken += await deliveries.release_held_by(holder)
                finally:
                    await self._connection.execute("SELECT pg_advisory_unlock($1, $2)", _HOLDERS, _key(holder))
        if taken:
            log.info("took back %d webhook subscriptions a stopped worker had leased", taken)
        return taken

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
