"""Publishing while the catalog is read: publishes per second and their latency under 32 concurrent readers.

    .venv/bin/python -m bench.publish_load [seconds]     # default: 20

Serves the seeded embedded default (SQLite + tantivy) with `registry serve`, then, for `seconds` each:
one publisher alone, and the same publisher while 32 readers (in another process) search, list and open
assets as fast as the server answers them. Every publish is a new asset with its files. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.serving import free_port

ADMIN = "reg_bench-admin-token-0123456789abcdefghij"
READERS = 32
PILOT, TEAM = "claims-triage-assistant", "claims-ai"  # a graduated pilot of the seed catalog
QUERIES = ["claims", "triage eval", "pii monitor", "retreival", "hallucination", "kyc", "prompt", "faithfulness"]


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """`registry serve` with this environment, ready (its /readyz answered 200); and when it was started."""
    began = time.monotonic()
    with log.open("a") as sink:
        server = subprocess.Popen([sys.executable, "-m", "registry.cli.main", "serve"], env=env, stdout=sink,
                                  stderr=sink)  # fmt: skip
    url = env["REGISTRY_URL"]
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return server, began
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() - began > 60:
            raise SystemExit("the server did not start: " + log.read_text()[-2000:])
        time.sleep(0.05)


def manifest(n: int) -> dict[str, Any]:
    return {
        "kind": "prompt",
        "slug": f"bench-prompt-{n}",
        "version": "1.0.0",
        "title": f"Bench prompt {n} for claims triage",
        "summary": "A prompt published by the load benchmark.",
        "description": "Routes incoming claims to the right queue. " * 5,
        "tags": ["bench", "claims"],
        "owner": TEAM,
        "origin_pilot": PILOT,
        "spec": {"template": "Classify {{claim}} into {{queues}}.", "variables": ["claim", "queues"]},
        "files": [{"path": "prompt.txt", "content": f"Classify the claim ({n}).\n" * 20}],
    }


async def _read(url: str, seconds: float, counter: Any) -> None:
    slugs = ["pii-leak-monitor", "claims-triage-prompt", "kyc-document-classifier"]
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=READERS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def reader() -> None:
            rng = random.Random()
            while time.monotonic() < deadline:
                choice = rng.random()
                if choice < 0.5:
                    await client.get("/api/v1/search", params={"q": f"{rng.choice(QUERIES)} {rng.randint(0, 999)}"})
                elif choice < 0.8:
                    await client.get(f"/api/v1/assets/{rng.choice(slugs)}")
                else:
                    await client.get("/api/v1/assets", params={"limit": 50})
                with counter.get_lock():
                    counter.value += 1

        await asyncio.gather(*(reader() for _ in range(READERS)))


def readers(url: str, seconds: float, counter: Any) -> None:
    """Runs in its own process, so the readers' CPU does not slow the publisher's clock."""
    asyncio.run(_read(url, seconds, counter))


def publish_for(url: str, seconds: float, start: int) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        deadline = time.monotonic() + seconds
        n = start
        while time.monotonic() < deadline:
            began = time.perf_counter()
            r = client.post("/api/v1/assets", json=manifest(n))
            latencies.append(time.perf_counter() - began)
            if r.status_code != 201:
                raise SystemExit(f"publish failed: {r.status_code} {r.text}")
            n += 1
    return latencies


def report(name: str, latencies: list[float], seconds: float, reads: int | None = None) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    line = (
        f"{name:<28} {len(latencies) / seconds:8.1f} publishes/s   p50 {statistics.median(ordered) * 1000:7.1f} ms"
        f"   p99 {p99 * 1000:7.1f} ms   max {ordered[-1] * 1000:7.1f} ms"
    )
    if reads is not None:
        line += f"   reads {reads / seconds:7.1f}/s"
    print(line, flush=True)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    data = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REGISTRY_DATA_DIR": str(data), "REGISTRY_PORT": str(port), "REGISTRY_ADMIN_TOKEN": ADMIN}
    env.pop("REGISTRY_DATABASE_URL", None)
    env["REGISTRY_URL"] = url
    server, _ = start(env, data / "server.log")
    try:
        print(f"SQLite + embedded search, one `registry serve` process; {seconds:.0f} s per run; {READERS} readers")
        report("publisher alone", publish_for(url, seconds, 0), seconds)
        counter = multiprocessing.Value("l", 0)
        reading = multiprocessing.Process(target=readers, args=(url, seconds + 1, counter))
        reading.start()
        time.sleep(1)  # the readers are at full speed before publishing starts
        latencies = publish_for(url, seconds, 100_000)
        reads = counter.value
        reading.join()
        report(f"publisher + {READERS} readers", latencies, seconds, reads)
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
