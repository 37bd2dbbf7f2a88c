"""What the benchmarks need around a running server: start it, load it with wrk, read its memory, CPU and
collector pauses. `wrk` (C, from Debian: `apt-get install wrk`) generates load so the load generator does not
take the server's CPU the way a Python client would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["Server", "Wrk", "free_port", "latencies", "process_tree", "serve", "wrk"]

ADMIN = "reg_bench-admin-token-0000000000"
THREADS = 2  # wrk threads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """A process and its children, recursively (a server and its workers)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [pid, *[p for c in children for p in process_tree(c)]]


@dataclass
class Server:
    url: str
    pid: int
    started_in: float  # seconds from spawning `registry serve` to /readyz answering 200

    def workers(self) -> list[int]:
        """The processes that answer requests (the server itself when it has no worker processes)."""
        tree = process_tree(self.pid)
        return tree[1:] or tree

    def rss_mib(self) -> float:
        """The largest peak RSS (VmHWM) of one worker."""
        return max(_status(pid, "VmHWM:") / 1024 for pid in self.workers())

    def cpu_seconds(self) -> float:
        """User and system CPU of the server and its workers so far."""
        total = 0.0
        for pid in process_tree(self.pid):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def longest_pause_ms(self) -> float:
        """The longest collector pause any worker reported on /metrics (scraped until each answered)."""
        seen: dict[str, float] = {}
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for _ in range(20 * len(self.workers())):
                text = client.get("/metrics").text
                pause = next(float(x.split()[-1]) for x in text.splitlines() if x.startswith("registry_gc_pause_max"))
                worker = next(x for x in text.splitlines() if x.startswith("process_start_time_seconds"))
                seen[worker] = pause
                if len(seen) >= len(self.workers()):
                    break
        return max(seen.values()) * 1000


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


@contextmanager
def serve(data: Path, *, workers: int = 1, seed: bool = False, database_url: str | None = None) -> Iterator[Server]:
    """`registry serve` on a data dir, ready; stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REGISTRY_DATA_DIR": str(data), "REGISTRY_PORT": str(port), "REGISTRY_URL": url,
           "REGISTRY_ADMIN_TOKEN": ADMIN, "REGISTRY_SEED": "true" if seed else "false"}  # fmt: skip
    env.pop("REGISTRY_DATABASE_URL", None)
    if database_url:
        env["REGISTRY_DATABASE_URL"] = database_url
    log = (data / "server.log").open("a")
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "registry.cli.main", "serve", "--workers", str(workers)],
                               env=env, stdout=log, stderr=log)  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() - began > 300:
                raise SystemExit("the server did not start: " + (data / "server.log").read_text()[-2000:])
            time.sleep(0.02)
        yield Server(url, process.pid, time.monotonic() - began)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def latencies(url: str, paths: list[str], *, warm: int = 20) -> tuple[float, float]:
    """p50 and p95 in ms of GETs from one client, one after another (the paths' first `warm` are not timed)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for path in paths[:warm]:
            client.get(path)
        timings = []
        for path in paths[warm:]:
            began = time.perf_counter()
            client.get(path).raise_for_status()
            timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float


def _ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def wrk(url: str, paths: list[str], *, clients: int = 32, seconds: int = 10) -> Wrk:
    """Throughput and latency with `clients` connections cycling through the paths once between them (each
    path is sent by one thread only, so distinct paths stay distinct)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    # Each wrk thread runs its own copy of the script: without an offset every thread sends the same sequence,
    # and all but the first would be answered from the result cache.
    lua = "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
    lua += f"threads = {THREADS}\nstarted = 0\n"
    lua += "function setup(thread)\n  thread:set('first', started)\n  started = started + 1\nend\n"
    lua += "function init(args)\n  i = first\nend\n"
    lua += "request = function()\n  local path = paths[(i % #paths) + 1]\n  i = i + threads\n"
    lua += "  return wrk.format(nil, path)\nend\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        command = ["wrk", f"-t{THREADS}", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", script.name, url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    lines = [line.split() for line in out.splitlines()]
    rps = next(float(f[1]) for f in lines if f[:1] == ["Requests/sec:"])
    p50 = next(_ms(f[1]) for f in lines if f[:1] == ["50%"])
    p99 = next(_ms(f[1]) for f in lines if f[:1] == ["99%"])
    return Wrk(rps, p50, p99)
