"""Every performance figure in one command: prints a table and writes it into docs/benchmarks.md.

    .venv/bin/python -m bench.all                       # sizes 1k, 10k, 100k
    .venv/bin/python -m bench.all 1000 10000            # other sizes
    BENCH_POSTGRES_URL=postgresql://... .venv/bin/python -m bench.all   # publishing on PostgreSQL too

Publishing (one client one at a time, batches of 1,000, under 32 readers), reads, cold start, and per catalog
size: search by query type uncached and cached over HTTP, throughput and tail latency with 16 and 32 clients
(wrk), and at 10k the memory and collector pauses of one worker after 10,000 distinct queries at limit=100.
Prints figures and asserts nothing; the targets are in the table beside them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.corpus import generated_documents
from bench.publish_load import manifest, readers
from bench.search import WORDS, load_catalog
from bench.serving import ADMIN, Server, latencies, serve, wrk
from catalog.db import make_engine, migrate, use_engine
from registry.workers.indexing import reindex
from search.embedded import EmbeddedBackend

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.all: begin -->", "<!-- bench.all: end -->"
Row = tuple[str, str, str]  # what, figure, target
TARGET_SIZE = 10_000  # the performance issue sets its search targets at 10k assets (and p99 under 16 clients)


def _search(q: str, limit: int = 20, **more: object) -> str:
    return "/api/v1/search?" + urlencode({"q": q, "limit": limit, **more})


def query_types(titles: list[str], seed: int = 1) -> dict[str, list[str]]:
    """About 300 distinct queries of each type people type (none repeats, so none is answered from cache)."""
    rng = random.Random(seed)
    pairs = [(a, b) for a in WORDS for b in WORDS if a != b]
    rng.shuffle(pairs)
    kinds = ["prompt", "monitor", "eval_harness", "retrieval_pipeline"]
    filtered = [(w, k, offset) for w in WORDS for k in kinds for offset in range(3)]
    rng.shuffle(filtered)
    return {
        "two words, limit 20": [_search(f"{a} {b}") for a, b in pairs[:300]],
        "exact name, limit 100": [_search(t, 100) for t in titles[:300]],
        "typo, limit 20": [_search(f"{a[:2]}{a[3:]} {b}") for a, b in pairs[300:600]],
        "as you type, limit 20": [_search(f"{a} {b[:3]}") for a, b in pairs[600:800]],
        "filtered, limit 20": [_search(w, kind=k, offset=offset) for w, k, offset in filtered[:300]],
    }


@contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database beside the one `url` names (dropped afterwards); None stays SQLite."""
    if url is None:
        yield None
        return
    base, _, _ = url.rpartition("/")
    name = f"bench_{int(time.time())}"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(run(f"DROP DATABASE {name} WITH (FORCE)"))


def distinct_paths(count: int, *, limit: int = 20, seed: int = 2) -> list[str]:
    """`count` different searches of two or three words, the last one typed partly (as you type)."""
    rng = random.Random(seed)
    queries: set[str] = set()
    while len(queries) < count:
        a, b, c = rng.sample(WORDS, 3)
        typed = rng.randrange(3, 6)
        queries.add(f"{a} {b[: rng.randrange(3, len(b) + 1)]}" if rng.random() < 0.2 else f"{a} {b} {c[:typed]}")
    paths = [_search(q, limit) for q in sorted(queries)]
    rng.shuffle(paths)  # in sorted order the first seconds of a run would all start with the same word
    return paths


def publishing(rows: list[Row], postgres: str | None) -> None:
    where = "PostgreSQL" if postgres else "SQLite"
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(postgres) as database_url,
        serve(Path(tmp), seed=True, database_url=database_url) as server,
    ):
        headers = {"Authorization": f"Bearer {ADMIN}"}
        offset = 0
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
            cpu, began, timings = server.cpu_seconds(), time.perf_counter(), []
            for n in range(500):
                sent = time.perf_counter()
                assert client.post("/api/v1/assets", json=manifest(offset + n)).status_code == 201
                timings.append((time.perf_counter() - sent) * 1000)
            rate, cpu = 500 / (time.perf_counter() - began), (server.cpu_seconds() - cpu) / 500 * 1000
            timings.sort()
            rows.append((f"publish, one client ({where})", f"{rate:.0f}/s, p50 {timings[250]:.1f} ms, "
                         f"server CPU {cpu:.1f} ms each", ">= 150/s, CPU <= 7 ms"))  # fmt: skip
            began = time.perf_counter()
            for start in range(0, 5000, 1000):
                items = [manifest(offset + 1000 + n) for n in range(start, start + 1000)]
                answer = client.post("/api/v1/assets/batch", json={"manifests": items}).json()
                assert answer["created"] == 1000, answer
            rate = 5000 / (time.perf_counter() - began)
            rows.append((f"publish, batches of 1,000 ({where})", f"{rate:,.0f} versions/s", ">= 1,000/s"))
            if database_url is None:
                counter = multiprocessing.Value("l", 0)
                reading = multiprocessing.Process(target=readers, args=(server.url, 11, counter))
                reading.start()
                time.sleep(1)
                began, timings = time.perf_counter(), []
                while time.perf_counter() - began < 10:
                    sent = time.perf_counter()
                    assert client.post("/api/v1/assets", json=manifest(offset + 10_000 + len(timings))).is_success
                    timings.append((time.perf_counter() - sent) * 1000)
                reading.join()
                timings.sort()
                p99 = timings[int(len(timings) * 0.99)]
                figure = f"{len(timings) / 10:.0f}/s, p99 {p99:.0f} ms; {counter.value / 10:.0f} reads/s"
                rows.append(("publish under 32 readers (SQLite)", figure, ""))


def reads(rows: list[Row], server: Server, slugs: list[str], label: str) -> None:
    api = latencies(server.url, [f"/api/v1/assets/{s}" for s in slugs])
    page = latencies(server.url, [f"/assets/{s}" for s in slugs])
    rows.append((f"GET /api/v1/assets/{{slug}} ({label})", f"p50 {api[0]:.2f} ms, p95 {api[1]:.2f} ms", "p50 <= 3 ms"))
    rows.append((f"asset page ({label})", f"p50 {page[0]:.2f} ms, p95 {page[1]:.2f} ms", "p50 <= 8 ms"))


def seeded(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        with serve(data, seed=True) as server:
            rows.append(("cold start, fresh data dir (migrate, seed, index)", f"{server.started_in:.2f} s", ""))
        with serve(data) as server:
            rows.append(("cold start, existing catalog", f"{server.started_in:.2f} s", ""))
            slugs = [s["slug"] for s in httpx.get(f"{server.url}/api/v1/assets?limit=50").json()["items"]]
            reads(rows, server, slugs * 12, "seed")


async def _build(data: Path, size: int) -> tuple[list[str], list[str]]:
    """A generated catalog of `size` assets in SQLite and its search index; returns its titles."""
    engine = make_engine(None, data)
    use_engine(engine)
    await migrate(engine)
    documents = list(generated_documents(size))
    await load_catalog(documents)
    await reindex(EmbeddedBackend(data / "search"))
    return [d.title for d in documents], [d.slug for d in documents]


def searching(rows: list[Row], size: int) -> None:
    label = f"{size:,} assets"
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        titles, slugs = asyncio.run(_build(data, size))
        rng = random.Random(size)
        rng.shuffle(titles)
        types = query_types(titles, seed=size)
        with serve(data, workers=2) as server:
            for name, paths in types.items():
                p50, p95 = latencies(server.url, paths)
                cached, _ = latencies(server.url, [paths[0]] * 200)
                targets = {"two words, limit 20": "p50 <= 5 ms", "exact name, limit 100": "p50 <= 8 ms"}
                target = targets.get(name, "") if size == TARGET_SIZE else ""
                rows.append((f"search {name} ({label})", f"p50 {p50:.2f} ms, p95 {p95:.2f} ms; cached p50 "
                             f"{cached:.2f} ms", target))  # fmt: skip
            distinct = distinct_paths(40_000, seed=size)  # more than wrk sends in 10 s: none answered from cache
            for clients in (16, 32):
                load = wrk(server.url, distinct, clients=clients)
                figure = f"{load.rps:,.0f}/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms"
                target = {16: ">= 1,000/s, p99 <= 50 ms", 32: ">= 1,000/s"}[clients] if size == TARGET_SIZE else ""
                rows.append((f"search, {clients} clients, distinct ({label})", figure, target))
            mix = [rng.choice(distinct[:50]) if rng.random() < 0.8 else rng.choice(distinct) for _ in range(40_000)]
            load = wrk(server.url, mix, clients=32)
            rows.append((f"search, 32 clients, 80% repeats ({label})", f"{load.rps:,.0f}/s, p99 {load.p99_ms:.1f} ms",
                         ""))  # fmt: skip
            if size == 10_000:
                reads(rows, server, [rng.choice(slugs) for _ in range(320)], label)
        if size == 10_000:
            memory(rows, data, size)


def memory(rows: list[Row], data: Path, size: int) -> None:
    """One worker, 10,000 distinct queries at limit=100: its peak RSS and longest collector pause."""
    paths = distinct_paths(10_000, limit=100)
    with serve(data, workers=1) as server:
        load = wrk(server.url, paths, clients=16, seconds=20)
        figure = (f"peak RSS {server.rss_mib():.0f} MiB; longest collector pause "
                  f"{server.longest_pause_ms():.1f} ms; {load.rps:,.0f}/s")  # fmt: skip
        rows.append((f"one worker, 10,000 distinct queries at limit=100 ({size:,} assets)", figure,
                     "< 300 MiB, pauses <= 50 ms"))  # fmt: skip


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    memory_kb = int(re.findall(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[0])
    versions = ", ".join(f"{p} {version(p)}" for p in ("tantivy", "litestar", "uvicorn", "piccolo"))
    return (f"{datetime.now(UTC):%Y-%m-%d}, {platform.platform()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} cores ({cpu}), {memory_kb / 2**20:.0f} GiB; {versions}. The load generator (wrk) "
            "runs on the same cores.")  # fmt: skip


def table(rows: list[Row]) -> str:
    lines = ["| measured | figure | target |", "|---|---|---|"]
    lines += [f"| {what} | {figure} | {target} |" for what, figure, target in rows]
    return "\n".join(lines)


def write(section: str) -> None:
    text = DOC.read_text()
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.replace("\n## ", f"\n## All figures (`python -m bench.all`)\n\n{block}\n\n## ", 1)
    DOC.write_text(text)


def main(sizes: list[int]) -> None:
    rows: list[Row] = []
    steps: list[tuple[Callable[..., None], tuple[object, ...]]] = [(publishing, (None,)), (seeded, ())]
    if url := os.environ.get("BENCH_POSTGRES_URL"):
        steps.insert(1, (publishing, (url,)))
    steps += [(searching, (size,)) for size in sizes]
    for step, args in steps:
        done = len(rows)
        step(rows, *args)
        for what, figure, target in rows[done:]:
            print(f"{what:<62} {figure:<58} {target}", flush=True)
    section = f"Measured {machine()}\n\nCommand: `python -m bench.all {' '.join(map(str, sizes))}`\n\n{table(rows)}"
    print("\n" + section)
    write(section)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000])
