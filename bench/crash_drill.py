"""Crash drill: kill -9 the server during concurrent publishes; every acknowledged publish must survive.

    .venv/bin/python -m bench.crash_drill [rounds] [publishes]      # default: 3 rounds of 500

Each round serves the catalog (SQLite and the embedded index, or PostgreSQL when REGISTRY_DATABASE_URL is
set) with `registry serve`, sends `publishes` publishes from 32 concurrent clients, kills the server with
SIGKILL partway, restarts it, and checks that every publish that was answered 201 is in the catalog, and in
search within 5 s of the restart. Prints figures per round; exits 1 if anything acknowledged was lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.publish_load import ADMIN, manifest, start
from bench.serving import free_port

CLIENTS = 32
SEARCH_DEADLINE = 5.0


async def publish_all(url: str, numbers: list[int], kill_after: int, server: subprocess.Popen[bytes]) -> list[str]:
    """Publish concurrently; SIGKILL the server once `kill_after` publishes were acknowledged."""
    acknowledged: list[str] = []
    queue = list(numbers)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                try:
                    r = await client.post("/api/v1/assets", json=manifest(n))
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    acknowledged.append(f"bench-prompt-{n}")
                    if len(acknowledged) == kill_after and server.poll() is None:
                        server.send_signal(signal.SIGKILL)

        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return acknowledged


def searchable(url: str) -> set[str]:
    found: set[str] = set()
    offset = 0
    while True:
        r = httpx.get(f"{url}/api/v1/search", params={"tag": "bench", "limit": 100, "offset": offset}, timeout=10)
        hits = r.json()["hits"]
        found |= {h["slug"] for h in hits}
        offset += 100
        if len(hits) < 100:
            return found


def drill_round(number: int, publishes: int, database_url: str | None) -> bool:
    data = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    port = free_port()
    env = {**os.environ, "REGISTRY_DATA_DIR": str(data), "REGISTRY_PORT": str(port),
           "REGISTRY_ADMIN_TOKEN": ADMIN, "REGISTRY_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    if database_url:
        env["REGISTRY_DATABASE_URL"] = database_url
    else:
        env.pop("REGISTRY_DATABASE_URL", None)
    log = data / "server.log"
    server, _ = start(env, log)
    first = number * 1_000_000
    kill_after = random.Random(number).randint(publishes // 5, publishes * 3 // 5)
    acknowledged = asyncio.run(publish_all(env["REGISTRY_URL"], list(range(first, first + publishes)), kill_after,
                                           server))  # fmt: skip
    server.wait(timeout=30)
    server, restarted = start(env, log)
    try:
        url = env["REGISTRY_URL"]
        ready = time.monotonic() - restarted
        missing = set(acknowledged)
        while missing and time.monotonic() - restarted < SEARCH_DEADLINE:
            missing -= searchable(url)
            time.sleep(0.05)
        found_at = time.monotonic() - restarted
        lost = [s for s in acknowledged if httpx.get(f"{url}/api/v1/assets/{s}", timeout=10).status_code != 200]
        print(
            f"round {number}: {len(acknowledged)} acknowledged, then SIGKILL; restarted and ready in {ready:.1f} s; "
            f"lost in catalog: {len(lost)}; "
            + (f"all in search {found_at:.1f} s after the restart" if not missing else
               f"{len(missing)} NOT in search {found_at:.1f} s after the restart"),
            flush=True,
        )  # fmt: skip
        return not lost and not missing
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    publishes = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    database_url = os.environ.get("REGISTRY_DATABASE_URL")
    print(f"{'PostgreSQL' if database_url else 'SQLite'} + embedded search; {publishes} publishes from {CLIENTS} "
          f"clients per round; SIGKILL partway; search must have every acknowledged asset {SEARCH_DEADLINE:.0f} s "
          "after the restart")  # fmt: skip
    ok = all([drill_round(n, publishes, database_url) for n in range(1, rounds + 1)])
    print("every acknowledged publish survived" if ok else "SOMETHING ACKNOWLEDGED WAS LOST")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
