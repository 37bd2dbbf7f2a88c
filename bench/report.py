"""Reuse report speed on a large catalog.

    scripts/test-postgres.sh start            # prints REGISTRY_TEST_POSTGRES_URL=...
    .venv/bin/python -m bench.report postgresql://registry:registry@127.0.0.1:54329/registry_test
    .venv/bin/python -m bench.report sqlite 10      # SQLite at a tenth of the size

Generates 100k assets, 20k pilots, 1M adoptions and 1M search-log rows (divided by the second argument)
with set-based bulk inserts, then times the full report over the last 12 months. Prints figures only.
The PostgreSQL database named in the URL is emptied first.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from piccolo.engine.postgres import PostgresEngine

from catalog.db import make_engine, migrate
from catalog.piccolo_migrations import catalog_2026_11_25t02_24_00_000000 as report_state
from catalog.services.reports import reuse_report
from catalog.tables import Adoption

RUNS = 20
WARMUP = 5  # the first reports after a bulk load run while PostgreSQL settles (checkpoint, autovacuum)
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)

# One SQL per table; {n} sizes, {series} is the row generator of the dialect, {ts} turns seconds into a time.
STATEMENTS = [
    """INSERT INTO pilot (slug, name, team, budget_owner, problem, stage, status, created_at, updated_at)
    SELECT 'pilot-' || i, 'Pilot ' || i, 'team-' || (i % 200), 'Owner', 'Generated problem.',
      CASE WHEN i <= {origins} THEN 5 ELSE 2 END, CASE WHEN i <= {origins} THEN 'graduated' ELSE 'active' END,
      {ts_created}, {ts_created}
    FROM {series_pilots}""",
    """INSERT INTO asset (slug, kind, title, summary, description, tags, owner, origin_pilot, lifecycle, successor,
      deprecated_at, latest_version, created_at, updated_at)
    SELECT 'asset-' || i,
      CASE i % 4 WHEN 0 THEN 'prompt' WHEN 1 THEN 'eval_harness' WHEN 2 THEN 'retrieval_pipeline' ELSE 'monitor' END,
      'Asset ' || i, 'Generated.', '', {empty_tags}, 'team-' || ((i % {origins} + 1) % 200), i % {origins} + 1,
      CASE WHEN i % 29 = 0 THEN 'deprecated' ELSE 'active' END, NULL,
      CASE WHEN i % 29 = 0 THEN {ts_deprecated} ELSE NULL END, '1.0.0', {ts_published}, {ts_published}
    FROM {series_assets}""",
    """INSERT INTO asset_version (asset, coordinate, version, major, minor, patch, prerelease, manifest, spec,
      content_digest, depends_on, changelog, published_by, published_at, yanked, yanked_at)
    SELECT i, 'asset-' || i || '@1.0.0', '1.0.0', 1, 0, 0, '', '{{}}', '{{}}', 'sha256:bench', '[]', '', 'bench',
      {ts_published}, {false_}, CASE WHEN i % 97 = 0 THEN {ts_yanked} ELSE NULL END
    FROM {series_assets}""",
    # Record j is pilot p adopting asset a; one record in ten (i % 10 = 3) is the same pilot taking a newer
    # version of the asset it adopted in the record before, ten days later. Each row is written once, in time
    # order, with the flags record_adoption sets: first record of the pilot and asset, of the pilot and origin.
    """INSERT INTO adoption (asset, version, pilot, mode, hours_saved, note, adopted_by, adopted_at, retired_at,
      origin_pilot, first_for_pilot, first_for_origin)
    SELECT asset, asset, pilot, 'as_is', hours, '', 'bench', adopted_at, retired_at, origin,
      ROW_NUMBER() OVER (PARTITION BY asset, pilot ORDER BY adopted_at, i) = 1,
      ROW_NUMBER() OVER (PARTITION BY origin, pilot ORDER BY adopted_at, i) = 1
    FROM (
      SELECT i, (j * 7919) % {assets} + 1 AS asset, ((j * 7919) % {assets} + 1) % {origins} + 1 AS origin,
        {origins} + 1 + (j * 104729 + (j / {assets}) * 1511) % ({pilots} - {origins}) AS pilot, (i % 40) AS hours,
        {ts_adopted} AS adopted_at, CASE WHEN i % 10 = 0 THEN {ts_retired} ELSE NULL END AS retired_at
      FROM (SELECT i, i - CASE WHEN i % 10 = 3 THEN 1 ELSE 0 END AS j FROM {series_adoptions}) r
    ) records
    ORDER BY adopted_at, i""",
    """INSERT INTO search_log (at, query, normalized, filters, hits, took_ms, source)
    SELECT {ts_searched}, 'query ' || (i % 5000), 'query ' || (i % 5000), '{{}}', CASE WHEN i % 5 = 0 THEN 0 ELSE 3 END,
      1.0, 'api'
    FROM {series_searches}""",
]


def dialect(postgres: bool, sizes: dict[str, int]) -> dict[str, str]:
    def series(n: int) -> str:
        if postgres:
            return f"generate_series(1::bigint, {n}) AS g(i)"
        return f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s)"

    def ts(seconds_expr: str) -> str:
        base = "timestamptz '2023-11-01 00:00:00+00'" if postgres else None
        if postgres:
            return f"({base} + ({seconds_expr}) * interval '1 second')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', 1698796800 + ({seconds_expr}), 'unixepoch') || '+00:00')"

    three_years = 3 * 365 * 86400
    return {
        **{k: str(v) for k, v in sizes.items()},
        "series_pilots": series(sizes["pilots"]),
        "series_assets": series(sizes["assets"]),
        "series_adoptions": series(sizes["adoptions"]),
        "series_searches": series(sizes["searches"]),
        "ts_created": ts(f"(i * 4729) % {three_years}"),
        "ts_published": ts(f"(i * 6007) % {three_years}"),
        "ts_deprecated": ts(f"{three_years} - (i % 1000) * 3600"),
        "ts_yanked": ts(f"{three_years} - (i % 500) * 7200"),
        "ts_adopted": ts(f"{three_years // 3} + (j * 8191) % {2 * three_years // 3} + (i - j) * 864000"),
        # Retired 30 to 330 days after adoption (some of them later than the report's period).
        "ts_retired": ts(f"{three_years // 3} + (j * 8191) % {2 * three_years // 3} + (30 + i % 300) * 86400"),
        "ts_searched": ts(f"{three_years // 3} + (i * 7127) % {2 * three_years // 3}"),
        "empty_tags": "'{}'" if postgres else "'[]'",
        "false_": "false" if postgres else "0",
        "true": "true" if postgres else "1",
    }


TABLES = ("pilot", "asset", "asset_version", "adoption", "asset_use", "origin_reach", "search_log")


async def _settle(engine: PostgresEngine) -> None:
    """What autovacuum does after a bulk load: statistics, and the visibility map index-only scans need.

    A VACUUM marks a page all-visible only once no snapshot can still need its rows; right after the load,
    autovacuum's own ANALYZE snapshots hold that horizon back, so one pass can leave any share of the pages
    unmarked (index-only scans then visit the table). Vacuum until every page is marked, as time would.
    """
    await engine.run_ddl(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    for _ in range(30):
        pages = await engine.run_ddl(
            "SELECT SUM(relpages) - SUM(relallvisible) AS unmarked FROM pg_class WHERE relkind = 'r' "
            f"AND relname IN ({', '.join(repr(t) for t in TABLES)})"
        )
        if not pages[0]["unmarked"]:
            return
        await asyncio.sleep(1)
        await engine.run_ddl(f"VACUUM {', '.join(TABLES)}")
    print("warning: some pages are still not all-visible; index-only scans will visit the table", file=sys.stderr)


async def main(target: str, divisor: int) -> int:
    sizes = {
        "pilots": 20_000 // divisor, "origins": 5_000 // divisor, "assets": 100_000 // divisor,
        "adoptions": 1_000_000 // divisor, "searches": 1_000_000 // divisor,
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(None if target == "sqlite" else target, Path(tmp))
        postgres = isinstance(engine, PostgresEngine)
        if postgres:
            await engine.run_ddl("DROP SCHEMA public CASCADE")
            await engine.run_ddl("CREATE SCHEMA public")
        await migrate(engine)
        started = time.perf_counter()
        values = dialect(postgres, sizes)
        for sql in STATEMENTS:
            await engine.run_ddl(sql.format(**values))
        await engine.run_ddl(report_state.FIRST_ADOPTED)  # the rest of the state, as the migration backfills it
        for table, keys in report_state.USES:
            far = report_state.FAR["postgres" if postgres else "sqlite"]
            await engine.run_ddl(report_state.STRETCHES.format(table=table, keys=keys, far=far))
        if isinstance(engine, PostgresEngine):
            await _settle(engine)
            await engine.start_connection_pool(min_size=1, max_size=10)  # as `registry serve` does
        load_s = time.perf_counter() - started
        since = UNTIL - timedelta(days=365)
        timings = []
        for _ in range(RUNS + WARMUP):
            t = time.perf_counter()
            report = await reuse_report(since, UNTIL)
            timings.append((time.perf_counter() - t) * 1000)
        timings = sorted(timings[WARMUP:])
        name = "PostgreSQL" if postgres else "SQLite"
        print(f"{name}: {sizes['assets']:,} assets, {sizes['pilots']:,} pilots, {await Adoption.count():,} adoptions, "
              f"{sizes['searches']:,} searches; loaded in {load_s:.1f} s")  # fmt: skip
        print(f"full reuse report over 12 months, {RUNS} runs: p50 {statistics.median(timings):.0f} ms, "
              f"p95 {timings[int(RUNS * 0.95) - 1]:.0f} ms, max {timings[-1]:.0f} ms")  # fmt: skip
        s = report.summary
        lists = f"{report.stale_total:,} stale, {report.at_risk_total:,} at risk, {len(report.demand)} demand rows"
        print(
            f"(report: {s.adoptions:,} adoptions, {s.assets_reused:,} of {s.assets_available:,} assets reused, {lists})"
        )
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
    return 0


if __name__ == "__main__":
    sys.exit(
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite", int(sys.argv[2]) if len(sys.argv) > 2 else 1))
    )
