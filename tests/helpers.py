"""What many test modules share: problem-details checks, the CLI run in-process or as a process, a served
registry, a local webhook receiver, and one way to wait for what happens asynchronously."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from click.testing import CliRunner, Result

from catalog.native.importing import Imported, ImportOptions, import_paths
from catalog.tables import ALL_TABLES
from registry.cli.main import cli
from tests.conftest import Api
from tests.factories import gate, pilot_request

T = TypeVar("T")

PROBLEM = "application/problem+json"


ADMIN = "reg_test-admin-token-for-the-live-server"


REGISTRY = [sys.executable, "-m", "registry.cli.main"]


def wait_until(check: Callable[[], T], seconds: float = 30) -> T:
    """Poll until `check` returns something truthy, and return it; fail the test when it never does (the
    bound only keeps a broken run finite: deliveries and search follow the catalog within moments)."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {check}"
        time.sleep(0.05)
    return result


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if code:
        assert body["code"] == code, body
    return body


def row_counts() -> dict[str, int]:
    async def count() -> dict[str, int]:
        return {t._meta.tablename: await t.count() for t in ALL_TABLES}

    return asyncio.run(count())


def graduate(api: Api, slug: str = "claims-triage-assistant", team: str = "claims-ai", who: str = "claims") -> None:
    r = api.client.post("/api/v1/pilots", json=pilot_request(slug, team), headers=api.auth(who))
    assert r.status_code == 201, r.text
    for stage in range(1, 5):
        r = api.client.post(f"/api/v1/pilots/{slug}/gates", json=gate(stage), headers=api.auth(who))
        assert r.status_code == 201, r.text
    assert r.json()["status"] == "graduated"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*REGISTRY, *args], env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(
            f"registry {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@contextmanager
def serving(env: dict[str, str], log_path: Path, *args: str) -> Iterator[None]:
    """A `registry serve` process, ready (its /readyz answered 200) for the block, then stopped."""
    log = log_path.open("w")
    server = subprocess.Popen([*REGISTRY, "serve", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{env['REGISTRY_URL']}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("server did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=True)


def ok(env: dict[str, str], *args: str) -> str:
    result = invoke(env, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def refused(env: dict[str, str], *args: str, code: int = 1) -> str:
    """The command fails cleanly: the expected exit code, a message, and no traceback."""
    result = invoke(env, *args)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert "Traceback" not in result.output and result.output.strip(), args
    return result.output


def admin(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    return subprocess.run([*REGISTRY, *args], cwd=folder, env={**clean, **env}, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


@dataclass
class Receiver:
    """A webhook receiver on a local port: records what it got; `failing` makes it answer 503."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failing: bool = False
    attempts: int = 0

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


def import_strictly(paths: list[Path], options: ImportOptions) -> list[Imported]:
    """import_paths, raising the first file's failure (the tests of single files expect the error itself)."""
    run = import_paths(paths, options)
    failed = run.having("failed")
    if failed and failed[0].error is not None:
        raise failed[0].error
    return run.imported
