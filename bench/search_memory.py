"""Memory of the embedded backend under many distinct searches: does the result cache stay bounded?

    .venv/bin/python -m bench.search_memory [assets] [queries]     # default: 10000 assets, 10000 queries

Loads a generated catalog, then runs distinct queries at limit=100 (every one a cache miss that gets cached)
and prints the process RSS before and after, and the cache's size. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench.corpus import generated_documents
from bench.search import distinct_queries, load_catalog
from catalog.db import make_engine, migrate
from registry.workers.indexing import reindex
from search.embedded import CACHE_BYTES, EmbeddedBackend


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main(size: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        await migrate(make_engine(None, data))
        await load_catalog(list(generated_documents(size)))
        backend = EmbeddedBackend(data / "search")
        await reindex(backend)
        for q in distinct_queries(50, seed=1):
            await backend.search(q.model_copy(update={"limit": 100}))
        before = rss_mib()
        for q in distinct_queries(count, seed=2):
            await backend.search(q.model_copy(update={"limit": 100}))
        after = rss_mib()
        print(f"{size:,} assets, {count:,} distinct queries at limit=100, cache cap {CACHE_BYTES / 2**20:.0f} MiB")
        print(f"RSS before {before:.0f} MiB, after {after:.0f} MiB; cache holds {len(backend.cache):,} results, "
              f"{backend.cache.size / 2**20:.1f} MiB")  # fmt: skip
        await backend.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [10_000, 10_000][len(args) :])))
