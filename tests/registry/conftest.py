"""Fixtures of the registry tests: a `registry serve` process, and a local webhook receiver."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.helpers import ADMIN, Receiver, free_port, serving


@pytest.fixture
def live(db: Database, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A `registry serve` process on an empty catalog; yields the environment the CLI needs to reach it."""
    port = free_port()
    env = {
        **os.environ,
        "REGISTRY_DATA_DIR": str(tmp_path),
        "REGISTRY_PORT": str(port),
        "REGISTRY_SEED": "false",
        "REGISTRY_ADMIN_TOKEN": ADMIN,
        "REGISTRY_URL": f"http://127.0.0.1:{port}",
        "REGISTRY_TOKEN": ADMIN,
    }
    if db.name == "postgres":
        env["REGISTRY_DATABASE_URL"] = db.url
    else:
        env.pop("REGISTRY_DATABASE_URL", None)
        env["REGISTRY_DATA_DIR"] = str(Path(db.url.removeprefix("sqlite:///")).parent)
    with serving(env, tmp_path / "server.log"):
        yield env


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.attempts += 1
            if state.failing:
                self.send_response(503)
            else:
                state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/registry"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
