"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (the one `make test` starts)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from catalog.db import make_engine, migrate, use_engine
from catalog.schemas import SYSTEM, TokenRequest
from catalog.services.tokens import create_token
from catalog.tables import ALL_TABLES
from registry.app import create_app
from registry.settings import Settings

PG_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL")
if os.environ.get("REGISTRY_TEST_REQUIRE_POSTGRES") and not PG_URL:
    raise RuntimeError(
        "REGISTRY_TEST_REQUIRE_POSTGRES is set but REGISTRY_TEST_POSTGRES_URL is not: PostgreSQL did not start"
    )
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=pytest.mark.skipif(not PG_URL, reason="REGISTRY_TEST_POSTGRES_URL is not set (make test sets it)"),
    ),
]


@dataclass
class Database:
    name: str
    url: str
    engine: Engine


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Database]:
    """One migrated database per backend for the whole session, built lazily."""
    return {}


async def _worker_database(url: str, name: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _postgres_url() -> str:
    """The test database; under pytest-xdist each worker gets its own, created next to it on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return str(PG_URL)
    base, _, main = str(PG_URL).rpartition("/")
    name = f"{main}_{worker}"
    asyncio.run(_worker_database(str(PG_URL), name))
    return f"{base}/{name}"


def _database(name: str, databases: dict[str, Database], tmp: Path) -> Database:
    if name not in databases:
        url = f"sqlite:///{tmp / 'registry.sqlite'}" if name == "sqlite" else _postgres_url()
        engine = make_engine(url, tmp)
        if isinstance(engine, PostgresEngine):
            asyncio.run(_reset_postgres(engine))
        asyncio.run(migrate(engine))
        databases[name] = Database(name, url, engine)
    return databases[name]


async def _reset_postgres(engine: PostgresEngine) -> None:
    """Start from an empty schema, whatever an earlier run left behind."""
    await engine.run_ddl("DROP SCHEMA public CASCADE")
    await engine.run_ddl("CREATE SCHEMA public")


async def _empty(engine: Engine) -> None:
    names = [t._meta.tablename for t in reversed(ALL_TABLES)]
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        for name in names:
            await engine.run_ddl(f"DELETE FROM {name}")  # noqa: S608 (our own table names)


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, databases: dict[str, Database], tmp_path_factory: pytest.TempPathFactory
) -> Database:
    """An empty, migrated catalog on the parametrized backend; the catalog tables point at it."""
    database = _database(request.param, databases, tmp_path_factory.mktemp(request.param))
    use_engine(database.engine)
    asyncio.run(_empty(database.engine))
    return database


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Api:
    """The real app over HTTP (Litestar's test client), with tokens for two teams and an admin."""

    client: TestClient  # type: ignore[type-arg]
    tokens: dict[str, str]
    db: Database

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def settings_for(database: Database, tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database.url,
        "data_dir": tmp,
        "seed": False,
        "db_pool_size": 0,
        **overrides,
    }
    return Settings.model_validate(values)


async def make_tokens() -> dict[str, str]:
    specs = {
        "admin": ("platform", ["admin"]),
        "claims": ("claims-ai", ["publish", "pilots", "adopt"]),
        "fraud": ("fraud-ai", ["publish", "pilots", "adopt"]),
        "reader": ("claims-ai", ["read"]),
    }
    tokens = {}
    for who, (team, scopes) in specs.items():
        created = await create_token(TokenRequest.model_validate({"name": who, "team": team, "scopes": scopes}), SYSTEM)
        tokens[who] = created.token
    return tokens


@contextmanager
def serving_in_thread(app: Litestar) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a daemon thread; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Iterator[Api]:
    tokens = asyncio.run(make_tokens())
    app = create_app(settings_for(db, tmp_path), start_tasks=False)
    with TestClient(app=app) as client:
        yield Api(client, tokens, db)
    use_engine(db.engine)
