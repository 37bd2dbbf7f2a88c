"""Portfolio report speed: 20,000 pilots with 80,000 gate decisions.

    scripts/test-postgres.sh start            # prints REGISTRY_TEST_POSTGRES_URL=...
    .venv/bin/python -m bench.portfolio postgresql://registry:registry@127.0.0.1:54329/registry_test
    .venv/bin/python -m bench.portfolio sqlite

Ten gate-flow shapes in turn (six graduate, two iterate at gate 2 then commit, one circles, one is killed),
pilots created over three years up to mid-2026, set-based bulk inserts and the gate-flow state backfilled
as the migration does; then the full report over 12 months as of now (read from that state) and as of a
past date (replayed from the decisions), as the server runs it (PostgreSQL through the connection pool).
Prints figures only. The PostgreSQL database named in the URL is emptied first.
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

from bench.report import dialect
from catalog.db import make_engine, migrate
from catalog.piccolo_migrations import catalog_2026_12_02t10_26_38_000000 as pilot_state
from catalog.services.portfolio import portfolio_report
from catalog.tables import GateDecision, Pilot

RUNS = 20
WARMUP = 5
PAST = datetime(2026, 6, 1, tzinfo=UTC)  # decisions were taken after it: the report replays up to then
PILOTS = 20_000

# Per shape (i % 10) and decision j (0-3): (stage, decision, days after the pilot was created).
SHAPES = {
    **{s: [(1, "commit", 20), (2, "commit", 80), (3, "commit", 140), (4, "commit", 200)] for s in range(6)},
    6: [(1, "commit", 25), (2, "iterate", 70), (2, "iterate", 110), (2, "commit", 150)],
    7: [(1, "commit", 30), (2, "iterate", 60), (2, "iterate", 90), (2, "commit", 120)],
    8: [(1, "commit", 15), (2, "iterate", 50), (2, "iterate", 90), (2, "iterate", 130)],
    9: [(1, "commit", 20), (2, "commit", 90), (3, "iterate", 130), (3, "kill", 170)],
}


STAGES = """
UPDATE pilot SET
  stage = 1 + (SELECT COUNT(*) FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision = 'commit'),
  status = CASE
    WHEN EXISTS (SELECT 1 FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision = 'kill') THEN 'killed'
    WHEN EXISTS (SELECT 1 FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision = 'commit' AND g.stage = 4)
      THEN 'graduated'
    ELSE 'active' END,
  graduated_at = (SELECT g.decided_at FROM gate_decision g WHERE g.pilot = pilot.id AND g.decision = 'commit'
                  AND g.stage = 4)
"""


def _case(column: int) -> str:
    whens = " ".join(
        f"WHEN {shape} THEN CASE j {' '.join(f'WHEN {j} THEN {step[column]!r}' for j, step in enumerate(steps))} END"
        for shape, steps in SHAPES.items()
    )
    return f"CASE p % 10 {whens} END"


def statements(postgres: bool) -> list[str]:
    values = dialect(postgres, {"pilots": PILOTS, "assets": 1, "adoptions": 4 * PILOTS, "searches": 1})
    created = "timestamptz '2023-04-01 00:00:00+00' + ((p * 4729) % 94608000) * interval '1 second'"
    if not postgres:
        created = "strftime('%Y-%m-%d %H:%M:%S', 1680307200 + ((p * 4729) % 94608000), 'unixepoch') || '+00:00'"
    days = _case(2)
    decided = (
        f"({created} + ({days}) * interval '1 day')"
        if postgres
        else f"(strftime('%Y-%m-%d %H:%M:%S', 1680307200 + ((p * 4729) % 94608000) + ({days}) * 86400, 'unixepoch')"
        " || '+00:00')"
    )
    json_cast = "::jsonb" if postgres else ""
    return [
        f"""INSERT INTO pilot (slug, name, team, budget_owner, problem, baseline, target, value_per_month, stage,
          status, created_at, updated_at, deadlines)
        SELECT 'pilot-' || p, 'Pilot ' || p, 'team-' || (p % 200), 'Owner ' || (p % 50), 'Generated problem.',
          '{{"metric": "minutes", "value": 20, "unit": "minutes"}}'{json_cast},
          '{{"metric": "minutes", "value": 8, "unit": "minutes"}}'{json_cast},
          '{{"amount": 500, "unit": "hours"}}'{json_cast}, 1, 'active', {created}, {created}, '{{}}'{json_cast}
        FROM (SELECT i AS p FROM {values["series_pilots"]}) s""",
        f"""INSERT INTO gate_decision (pilot, stage, decision, decided_by, notes, evidence, decided_at)
        SELECT p, {_case(0)}, {_case(1)}, 'Board', '',
          CASE WHEN {_case(0)} = 2 AND {_case(1)} = 'commit' THEN '{{"after": 11}}'{json_cast}
               WHEN {_case(0)} = 4 THEN '{{"metric_value": 9}}'{json_cast} ELSE '{{}}'{json_cast} END,
          {decided}
        FROM (SELECT (i - 1) / 4 + 1 AS p, (i - 1) % 4 AS j FROM {values["series_adoptions"]}) s
        ORDER BY 7""",
    ]


async def _settle(engine: PostgresEngine) -> None:
    """What autovacuum does after a bulk load (see bench.report): statistics and an all-visible map, so the
    runs do not meet a vacuum halfway."""
    await engine.run_ddl("VACUUM (ANALYZE) pilot, gate_decision")
    for _ in range(30):
        pages = await engine.run_ddl(
            "SELECT SUM(relpages) - SUM(relallvisible) AS unmarked FROM pg_class "
            "WHERE relkind = 'r' AND relname IN ('pilot', 'gate_decision')"
        )
        if not pages[0]["unmarked"]:
            return
        await asyncio.sleep(1)
        await engine.run_ddl("VACUUM pilot, gate_decision")


async def main(target: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(None if target == "sqlite" else target, Path(tmp))
        postgres = isinstance(engine, PostgresEngine)
        if postgres:
            await engine.run_ddl("DROP SCHEMA public CASCADE")
            await engine.run_ddl("CREATE SCHEMA public")
        await migrate(engine)
        started = time.perf_counter()
        for sql in statements(postgres):
            await engine.run_ddl(sql)
        await engine.run_ddl(STAGES)  # stage and status as decide_gate leaves them
        for statement in pilot_state.backfill_statements(postgres):  # the state kept on writes, as migrated
            await engine.run_ddl(statement)
        if isinstance(engine, PostgresEngine):
            await _settle(engine)
            await engine.start_connection_pool(min_size=1, max_size=10)  # as `registry serve` does
        load_s = time.perf_counter() - started
        name = "PostgreSQL" if postgres else "SQLite"
        print(f"{name}: {await Pilot.count():,} pilots, {await GateDecision.count():,} gate decisions; "
              f"loaded in {load_s:.1f} s")  # fmt: skip
        for label, until in (("as of now (the page's default)", None), ("as of 2026-06-01 (replayed)", PAST)):
            timings = []
            for _ in range(RUNS + WARMUP):
                t = time.perf_counter()
                report = await portfolio_report(None if until is None else until - timedelta(days=365), until)
                timings.append((time.perf_counter() - t) * 1000)
            timings = sorted(timings[WARMUP:])
            print(f"portfolio report over 12 months {label}, {RUNS} runs: p50 {statistics.median(timings):.0f} ms, "
                  f"p95 {timings[int(RUNS * 0.95) - 1]:.0f} ms, max {timings[-1]:.0f} ms")  # fmt: skip
        s = report.summary
        print(f"(report: {s.active:,} active, {s.stalled:,} stalled, {s.circling:,} circling, {s.graduations:,} "
              f"graduations, {len(report.waiting):,} waiting, backlog {s.extraction_backlog:,})")  # fmt: skip
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")))
