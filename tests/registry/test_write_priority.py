"""Writes first: a worker bounds the reads it runs at once, holds new reads while a write runs, never probes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from catalog.tables import JournalEntry
from catalog.writer import writes
from registry.http.write_priority import WritesFirst
from tests.conftest import Database

pytestmark = pytest.mark.anyio


class Downstream:
    """The app behind the gate: each request runs until the test releases it."""

    def __init__(self) -> None:
        self.running: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        name = f"{scope['method']} {scope['path']}"
        self.running.append(name)
        await self.event(name).wait()
        self.running.remove(name)

    def event(self, name: str) -> asyncio.Event:
        return self.release.setdefault(name, asyncio.Event())

    def finish(self, *names: str) -> None:
        for name in names:
            self.event(name).set()


def request(app: Any, method: str, path: str) -> asyncio.Task[None]:
    scope = {"type": "http", "method": method, "path": path}
    return asyncio.create_task(app(scope, None, None))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_reads_queue_beyond_the_limit_and_wait_for_writes() -> None:
    downstream = Downstream()
    app = WritesFirst(reads=2, max_wait=5).middleware(downstream)
    reads = [request(app, "GET", f"/api/v1/assets/a{i}") for i in range(3)]
    await settle()
    assert downstream.running == ["GET /api/v1/assets/a0", "GET /api/v1/assets/a1"]  # the third waits its turn
    write = request(app, "POST", "/api/v1/assets")
    await settle()
    assert "POST /api/v1/assets" in downstream.running  # a write never waits for reads
    late = request(app, "GET", "/api/v1/search")
    probe = request(app, "GET", "/readyz")
    downstream.finish("GET /api/v1/assets/a0")
    await settle()
    assert "GET /readyz" in downstream.running  # probes never wait
    assert "GET /api/v1/search" not in downstream.running  # new reads wait while the write runs
    downstream.finish("POST /api/v1/assets")
    await write
    downstream.finish("GET /api/v1/assets/a1", "GET /api/v1/assets/a2", "GET /api/v1/search", "GET /readyz")
    await asyncio.wait_for(asyncio.gather(*reads, late, probe), 5)
    assert downstream.running == []


async def test_a_read_waits_for_writes_only_so_long() -> None:
    downstream = Downstream()
    app = WritesFirst(reads=4, max_wait=0.05).middleware(downstream)
    write = request(app, "PUT", "/api/v1/assets/a/labels/production")
    await settle()
    read = request(app, "GET", "/api/v1/assets")
    await asyncio.sleep(0.2)
    assert "GET /api/v1/assets" in downstream.running  # writes cannot starve reads
    downstream.finish("PUT /api/v1/assets/a/labels/production", "GET /api/v1/assets")
    await asyncio.wait_for(asyncio.gather(write, read), 5)


async def test_sqlite_writes_run_on_the_writer_thread(db: Database) -> None:
    @writes
    async def where() -> str:
        return threading.current_thread().name

    expected = "catalog-writer" if db.name == "sqlite" else threading.current_thread().name
    assert JournalEntry._meta.db is db.engine
    assert await where() == expected
