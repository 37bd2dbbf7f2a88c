"""Batch publishing: versions per second through `POST /api/v1/assets/batch`, next to one request per version.

    .venv/bin/python -m bench.publish_batch [assets]     # default: 5000
    REGISTRY_DATABASE_URL=postgresql://... .venv/bin/python -m bench.publish_batch   # on PostgreSQL

Serves the seeded catalog with `registry serve` (SQLite and the embedded index unless REGISTRY_DATABASE_URL
is set), publishes `assets` new prompt versions with their files in batches of 1,000 (the CLI's size), then
500 more one request at a time for comparison. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.publish_load import ADMIN, manifest, start
from bench.serving import free_port

BATCH = 1000


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    data = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REGISTRY_DATA_DIR": str(data), "REGISTRY_PORT": str(port), "REGISTRY_ADMIN_TOKEN": ADMIN,
           "REGISTRY_URL": url, "REGISTRY_SEED": "true"}  # fmt: skip
    database = "PostgreSQL" if env.get("REGISTRY_DATABASE_URL") else "SQLite"
    server, _ = start(env, data / "server.log")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    offset = int(time.time())  # a rerun on the same PostgreSQL database publishes new slugs
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            began, latencies = time.perf_counter(), []
            for start_at in range(0, total, BATCH):
                items = [manifest(offset * 10 + n) for n in range(start_at, min(start_at + BATCH, total))]
                sent = time.perf_counter()
                answer = client.post("/api/v1/assets/batch", json={"manifests": items})
                latencies.append(time.perf_counter() - sent)
                if answer.status_code != 200 or answer.json()["created"] != len(items):
                    raise SystemExit(f"batch failed: {answer.status_code} {answer.text[:500]}")
            batch_seconds = time.perf_counter() - began
            began = time.perf_counter()
            for n in range(500):
                if client.post("/api/v1/assets", json=manifest(offset * 10 + total + n)).status_code != 201:
                    raise SystemExit("single publish failed")
            single_seconds = time.perf_counter() - began
        print(f"{database} + the embedded search index, one `registry serve` process")
        spread = f"a batch takes {min(latencies):.2f}-{max(latencies):.2f} s"
        rate = total / batch_seconds
        print(f"batch of {BATCH:,}: {rate:8.0f} versions/s  ({total:,} in {batch_seconds:.1f} s; {spread})")
        print(f"one per request: {500 / single_seconds:8.0f} versions/s  (500 versions in {single_seconds:.1f} s)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
