"""Distinct-search throughput of this checkout against another, served in turns on the same catalog; or, with
`writes`, publishing and reads on the seed catalog, the same steps as `bench.all`'s, in turns.

    git worktree add /tmp/before <commit>
    .venv/bin/python -m bench.compare /tmp/before            # 10,000 assets, 3 rounds
    .venv/bin/python -m bench.compare /tmp/before 1000 5     # other size, rounds
    .venv/bin/python -m bench.compare /tmp/before writes 2   # publishing and reads, 2 rounds

This machine's speed drifts by a third from one hour to the next (the same code measured 931 and 575 searches/s
on two days), so a figure from another run says little about a change. Here both checkouts serve the same
generated catalog, one after the other, round after round, with the same distinct searches (wrk, 16 and 32
clients); the ratio of the two is what a change did. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.all import _build

HERE = Path(__file__).resolve().parents[1]
SERVE = """
import sys
from pathlib import Path
from bench.all import distinct_paths
from bench.serving import serve, wrk
with serve(Path(sys.argv[1]), workers=2) as server:
    distinct = distinct_paths(40_000, seed=int(sys.argv[2]))
    wrk(server.url, distinct[-3000:], clients=16, seconds=3)  # warm: caches of words and shown assets
    for clients in (16, 32):
        cpu = server.cpu_seconds()
        load = wrk(server.url, distinct[:-3000], clients=clients)
        print(clients, load.rps, load.p99_ms, (server.cpu_seconds() - cpu) / (load.rps * 10) * 1000)
"""

WRITES = """
from bench.all import publishing, seeded
rows = []
publishing(rows, None)
seeded(rows)
for what, figure, _ in rows:
    if what.startswith(("publish, one", "publish, batches", "GET", "asset page")):
        print(f"{what}: {figure}")
"""


def measure(checkout: Path, data: Path, seed: int) -> dict[int, tuple[float, float, float]]:
    """Searches/s, p99 ms and server CPU ms per search at 16 and 32 clients, served by `checkout`'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", SERVE, str(data), str(seed)], env=env, cwd=checkout,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    figures = {}
    for line in out.splitlines():
        clients, rps, p99, cpu = line.split()
        figures[int(clients)] = (float(rps), float(p99), float(cpu))
    return figures


def _line(figures: dict[int, tuple[float, float, float]]) -> str:
    parts = [f"{c} clients {rps:,.0f}/s p99 {p99:.0f} ms CPU {cpu:.2f} ms" for c, (rps, p99, cpu) in figures.items()]
    return "  ".join(parts)


def main(other: Path, size: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        asyncio.run(_build(data, size))
        results: dict[str, list[dict[int, tuple[float, float, float]]]] = {"this": [], "other": []}
        for round_ in range(rounds):
            turns = [("this", HERE), ("other", other)]
            for label, checkout in turns[:: 1 if round_ % 2 == 0 else -1]:  # who goes first alternates
                figures = measure(checkout, data, seed=100 + round_)
                results[label].append(figures)
                print(f"round {round_ + 1} {label:5} {_line(figures)}", flush=True)
        for clients in (16, 32):
            this = statistics.median(r[clients][0] for r in results["this"])
            that = statistics.median(r[clients][0] for r in results["other"])
            label = f"{clients} clients, {size:,} assets"
            print(f"{label}: this {this:,.0f}/s, other {that:,.0f}/s, ratio {this / that:.2f}", flush=True)


def writes(other: Path, rounds: int) -> None:
    """Publishing (one client, batches) and reads of the seed catalog, each checkout's own server in turn."""
    for round_ in range(rounds):
        turns = [("this", HERE), ("other", other)]
        for label, checkout in turns[:: 1 if round_ % 2 == 0 else -1]:
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            out = subprocess.run([sys.executable, "-c", WRITES], env=env, cwd=checkout, capture_output=True,
                                 text=True, check=True).stdout  # fmt: skip
            for line in out.splitlines():
                print(f"round {round_ + 1} {label:5} {line}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    if args[1:2] == ["writes"]:
        writes(Path(args[0]).resolve(), int(args[2]) if len(args) > 2 else 2)
    else:
        main(Path(args[0]).resolve(), int(args[1]) if len(args) > 1 else 10_000, int(args[2]) if len(args) > 2 else 3)
