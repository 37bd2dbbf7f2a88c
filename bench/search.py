"""Search performance of the embedded backend at 1k, 10k and 100k assets.

    .venv/bin/python -m bench.search [sizes...]      # default: 1000 10000 100000

For each size: bulk-load the catalog into a scratch SQLite database, time a full `reindex` (database
read, documents, fresh index, swap), query latency in-process, then serve it with `registry serve` and
measure latency over HTTP (one client) and throughput with 32 concurrent clients. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.corpus import generated_documents
from bench.relevance import load_queries
from bench.serving import free_port, process_tree, wrk
from catalog.db import make_engine, migrate
from catalog.schemas import AssetDocument
from catalog.tables import Asset, AssetVersion, Pilot
from registry.workers.indexing import reindex
from search.embedded import EmbeddedBackend
from search.interfaces import SearchQuery

CLIENTS = 32
WORKERS = 2
WORDS = [
    "invoice",
    "shipment",
    "contract",
    "meter",
    "booking",
    "essay",
    "campaign",
    "supplier",
    "monitor",
    "summary",
    "extraction",
    "classification",
    "translation",
    "quality",
    "regression",
    "index",
    "error",
    "queue",
    "token",
    "returns",
    "customs",
    "tender",
    "outage",
    "tariff",
    "roaming",
    "inspection",
    "itinerary",
    "visa",
    "permit",
]


async def load_catalog(documents: list[AssetDocument]) -> None:
    """Bulk insert pilots, assets and their versions (bypassing publish rules: this is a benchmark)."""
    pilots: dict[str, int] = {}
    for d in documents:
        if d.origin_pilot not in pilots:
            row = Pilot(
                slug=d.origin_pilot,
                name=d.origin_pilot_name,
                team=d.owner,
                problem="Generated.",
                stage=5,
                status="graduated",
            )
            pilots[d.origin_pilot] = (await Pilot.insert(row))[0]["id"]
    for start in range(0, len(documents), 500):
        chunk = documents[start : start + 500]
        rows = [
            Asset(slug=d.slug, kind=d.kind, title=d.title, summary=d.summary, description=d.description,
                  tags=d.tags, owner=d.owner, origin_pilot=pilots[d.origin_pilot], lifecycle=d.lifecycle,
                  latest_version=d.latest_version)
            for d in chunk
        ]  # fmt: skip
        ids = [r["id"] for r in await Asset.insert(*rows)]
        versions = [
            AssetVersion(asset=i, coordinate=f"{d.slug}@{d.latest_version}", version=d.latest_version, major=1,
                         minor=int(d.latest_version.split(".")[1]), patch=0, manifest={}, spec=d.spec,
                         content_digest="sha256:bench", published_by="bench", published_at=d.published_at)
            for i, d in zip(ids, chunk, strict=True)
        ]  # fmt: skip
        await AssetVersion.insert(*versions)


def query_mix(n: int, seed: int = 3) -> list[SearchQuery]:
    """Judged queries plus typo, prefix and filtered variants: what people type."""
    rng = random.Random(seed)
    base = [j.query(limit=20) for j in load_queries()]
    words = WORDS[:10]
    out = []
    for i in range(n):
        roll = i % 4
        if roll == 0:
            out.append(rng.choice(base))
        elif roll == 1:
            w = rng.choice(words)
            j = rng.randrange(1, len(w) - 1)
            out.append(SearchQuery(q=w[:j] + w[j + 1 :] + " " + rng.choice(words)))  # a typo
        elif roll == 2:
            out.append(SearchQuery(q=rng.choice(words) + " " + rng.choice(words)[:3]))  # typing
        else:
            out.append(SearchQuery(q=rng.choice(words), kind=rng.choice(["prompt", "monitor", None]), tags=[]))
    return out


def distinct_queries(n: int, seed: int = 11) -> list[SearchQuery]:
    """Queries that (almost) never repeat: every search does the full work, no result cache helps."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        cut = rng.randrange(3, len(b) + 1)
        out.append(SearchQuery(q=f"{a} {b[:cut]}", kind=rng.choice([None, None, "prompt", "monitor"]), offset=i % 3))
    return out


def zipf_mix(queries: list[SearchQuery], n: int, seed: int = 5) -> list[SearchQuery]:
    """What a search log looks like: a few queries very often, a long tail rarely (Zipf, s=1.1)."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(queries))]
    return rng.choices(queries, weights=weights, k=n)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def params(q: SearchQuery) -> dict[str, Any]:
    out: dict[str, Any] = {"q": q.q, "limit": q.limit}
    if q.kind:
        out["kind"] = q.kind
    if q.tags:
        out["tag"] = q.tags
    if q.owner:
        out["owner"] = q.owner
    return out


async def over_http(url: str, queries: list[SearchQuery]) -> tuple[float, float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for q in queries[:50]:
            await client.get("/api/v1/search", params=params(q))  # warm up
        latencies = []
        for q in queries[:500]:
            t = time.perf_counter()
            r = await client.get("/api/v1/search", params=params(q))
            latencies.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return percentiles(latencies)


def _path(q: SearchQuery) -> str:
    return "/api/v1/search?" + urlencode(params(q), doseq=True)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_size(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        await migrate(make_engine(None, data))
        documents = list(generated_documents(size))
        t = time.perf_counter()
        await load_catalog(documents)
        load_s = time.perf_counter() - t
        backend = EmbeddedBackend(data / "search")
        t = time.perf_counter()
        count = await reindex(backend)
        reindex_s = time.perf_counter() - t
        assert count == size
        queries = query_mix(2000)
        for q in queries[:100]:
            await backend.search(q)
        latencies = []
        for q in distinct_queries(1000, seed=size):  # every one new: no result cache
            t = time.perf_counter()
            await backend.search(q)
            latencies.append((time.perf_counter() - t) * 1000)
        in_p50, in_p95 = percentiles(latencies)
        await backend.close()
        index_mb = sum(f.stat().st_size for f in (data / "search").rglob("*") if f.is_file()) / 1e6

        port = free_port()
        env = {**os.environ, "REGISTRY_DATA_DIR": str(data), "REGISTRY_PORT": str(port), "REGISTRY_SEED": "false",
               "REGISTRY_ADMIN_TOKEN": "reg_bench-admin-token-0000000000"}  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "registry.cli.main", "serve", "--workers", str(WORKERS)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            http_p50, http_p95 = await over_http(url, distinct_queries(600, seed=size + 1))
            distinct_rps = wrk(url, [_path(q) for q in distinct_queries(30_000)], clients=CLIENTS).rps
            mix_rps = wrk(url, [_path(q) for q in zipf_mix(queries, 30_000)], clients=CLIENTS).rps
            server_mb = sum(peak_rss_mb(pid) for pid in process_tree(server.pid))
        finally:
            server.terminate()
            server.wait(timeout=20)
    return {
        "size": size, "load_s": load_s, "reindex_s": reindex_s, "index_mb": index_mb, "in_p50": in_p50,
        "in_p95": in_p95, "http_p50": http_p50, "http_p95": http_p95, "distinct_rps": distinct_rps, "mix_rps": mix_rps,
        "server_mb": server_mb,
    }  # fmt: skip


COLUMNS = [
    ("assets", "size", "{:>8}"), ("reindex s", "reindex_s", "{:>10.2f}"), ("index MB", "index_mb", "{:>9.1f}"),
    ("p50 ms", "in_p50", "{:>7.2f}"), ("p95 ms", "in_p95", "{:>7.2f}"), ("HTTP p50", "http_p50", "{:>9.2f}"),
    ("HTTP p95", "http_p95", "{:>9.2f}"), ("req/s distinct", "distinct_rps", "{:>15.0f}"),
    ("req/s mix", "mix_rps", "{:>10.0f}"), ("server MB", "server_mb", "{:>10.0f}"),
]  # fmt: skip


async def main(sizes: list[int]) -> int:
    print(
        f"embedded search, {os.cpu_count()} cores, `registry serve --workers {WORKERS}`, {CLIENTS} HTTP connections\n"
    )
    widths = [len(fmt.format(0)) for _, _, fmt in COLUMNS]
    print(" ".join(f"{name:>{w}}" for (name, _, _), w in zip(COLUMNS, widths, strict=True)))
    for size in sizes:
        r = await run_size(size)
        print(" ".join(fmt.format(r[key]) for _, key, fmt in COLUMNS), flush=True)
    print(f"\nbenchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main([int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000])))
