"""The reuse report's exact figures on a hand-made scenario, on SQLite and PostgreSQL (see docs/metrics.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from piccolo.engine.postgres import PostgresEngine

from catalog.errors import InvalidInput
from catalog.schemas import (
    SYSTEM,
    AdoptionRequest,
    DeprecateRequest,
    GateRequest,
    PilotRequest,
    RetireRequest,
    ReuseReport,
    YankRequest,
    parse_manifest,
)
from catalog.services import adoption, curation, pilots, publishing
from catalog.services.reports import reuse_report
from catalog.services.searchlog import record_searches
from registry.reporting import parse_csv, to_csv
from tests.conftest import BACKENDS, Database
from tests.factories import gate, manifest, pilot_request

pytestmark = pytest.mark.anyio
SINCE, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(hour=12, tzinfo=UTC)


async def origin(slug: str, team: str) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request(slug, team)), SYSTEM, at=day("2025-01-01"))
    for stage in range(1, 5):
        await pilots.decide_gate(slug, GateRequest.model_validate(gate(stage)), SYSTEM, at=day(f"2025-0{stage + 1}-01"))


async def adopter(slug: str, team: str, created: str) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request(slug, team)), SYSTEM, at=day(created))


async def publish(kind: str, slug: str, origin_pilot: str, owner: str, when: str, version: str = "1.0.0") -> None:
    data = manifest(kind, slug, version, owner=owner, origin_pilot=origin_pilot, title=f"Asset {slug}")
    await publishing.publish_version(parse_manifest(data), SYSTEM, at=day(when))


async def adopt(asset: str, version: str, pilot: str, hours: float, when: str) -> int:
    request = AdoptionRequest(asset=asset, version=version, pilot=pilot, hours_saved=hours)
    return (await adoption.record_adoption(request, SYSTEM, at=day(when))).id


async def scenario() -> None:
    await origin("pilot-a", "team-a")
    await origin("pilot-b", "team-b")
    await adopter("pilot-f", "team-d", "2025-12-15")
    await adopter("pilot-c", "team-c", "2026-02-01")
    await adopter("pilot-d", "team-d", "2026-03-10")
    await adopter("pilot-e", "team-c", "2026-04-01")
    await publish("prompt", "a1", "pilot-a", "team-a", "2025-07-01")
    await publish("eval_harness", "a3", "pilot-a", "team-a", "2025-08-01")
    await publish("prompt", "b3", "pilot-b", "team-b", "2025-09-01")
    await publish("monitor", "a2", "pilot-a", "team-a", "2026-01-15")
    await publish("prompt", "a1", "pilot-a", "team-a", "2026-02-01", version="1.1.0")
    await publish("retrieval_pipeline", "b1", "pilot-b", "team-b", "2026-03-01")
    await publish("retrieval_pipeline", "b2", "pilot-b", "team-b", "2026-04-15")
    await publish("prompt", "a4", "pilot-a", "team-a", "2026-08-01")  # after the period

    await adopt("b3", "1.0.0", "pilot-f", 3, "2025-12-20")  # before the period, still in use
    f_a2 = await adopt("a2", "1.0.0", "pilot-f", 5, "2026-01-20")
    await adopt("a1", "1.0.0", "pilot-c", 10, "2026-02-05")
    await adopt("a1", "1.1.0", "pilot-c", 4, "2026-03-05")  # same pilot, same asset: not a new adoption
    await adopt("a1", "1.1.0", "pilot-d", 8, "2026-03-15")
    await adopt("b1", "1.0.0", "pilot-d", 20, "2026-04-10")
    await adopt("b1", "1.0.0", "pilot-c", 7, "2026-07-15")  # after the period
    await adoption.retire_adoption(f_a2, RetireRequest(reason="replaced"), SYSTEM, at=day("2026-04-01"))
    await curation.yank_version("b3", "1.0.0", YankRequest(reason="broken"), SYSTEM, at=day("2026-02-15"))
    await curation.deprecate_asset(
        "b1", DeprecateRequest(reason="use b2", successor="b2"), SYSTEM, at=day("2026-05-01")
    )
    await curation.yank_version("a1", "1.1.0", YankRequest(reason="later"), SYSTEM, at=day("2026-08-01"))
    await record_searches(
        [
            {"at": day(d), "query": q, "hits": h, "took_ms": 1.0}
            for q, h, d in [
                ("quantum widgets", 0, "2026-02-01"),
                ("quantum widgets", 0, "2026-03-01"),
                ("Quantum  Widgets", 0, "2026-05-01"),
                ("pii monitor", 2, "2026-05-02"),
                ("tax forms", 0, "2026-06-30"),
                ("before the period", 0, "2025-12-01"),
                ("after the period", 0, "2026-07-02"),
                ("", 0, "2026-03-03"),
            ]
        ]
    )


async def test_every_figure_has_its_exact_value(db: object) -> None:
    await scenario()
    report = await reuse_report(SINCE, UNTIL, top=10)
    assert report.summary.model_dump() == {
        "assets_available": 5,
        "assets_published": 3,
        "assets_reused": 3,
        "reuse_rate": 0.6,
        "adoptions": 4,
        "adopting_pilots": 3,
        "hours_saved": 43.0,
        "pilots_created": 3,
        "started_with_catalog": 2,
        "started_with_catalog_share": 0.6667,
    }
    assert [(m.month, m.adoptions, m.hours_saved) for m in report.adoptions_per_month] == [
        ("2026-01", 1, 5.0), ("2026-02", 1, 10.0), ("2026-03", 1, 8.0),
        ("2026-04", 1, 20.0), ("2026-05", 0, 0.0), ("2026-06", 0, 0.0),
    ]  # fmt: skip
    assert [tuple(k.model_dump().values()) for k in report.by_kind] == [
        ("eval_harness", 1, 0, 0, 0.0, 0, 0.0),
        ("monitor", 1, 1, 1, 1.0, 1, 5.0),
        ("prompt", 1, 0, 1, 1.0, 2, 18.0),
        ("retrieval_pipeline", 2, 2, 1, 0.5, 1, 20.0),
    ]
    assert [(a.slug, a.adoptions, a.active_pilots, a.hours_saved) for a in report.by_asset] == [
        ("a1", 2, 2, 18.0), ("b1", 1, 1, 20.0), ("a2", 1, 1, 5.0), ("b3", 0, 1, 0.0),
    ]  # fmt: skip
    origins = [(o.pilot, o.assets_available, o.assets_reused, o.downstream_pilots, o.adoptions, o.hours_saved)
               for o in report.by_origin_pilot]  # fmt: skip
    assert origins == [("pilot-a", 3, 2, 3, 3, 23.0), ("pilot-b", 2, 1, 2, 1, 20.0)]
    assert [tuple(t.model_dump().values()) for t in report.by_team] == [
        ("team-a", 3, 2, 3, 23.0, 0),
        ("team-b", 2, 1, 1, 20.0, 0),
        ("team-c", 0, 0, 0, 0.0, 1),
        ("team-d", 0, 0, 0, 0.0, 3),
    ]
    assert [(s.slug, s.days_since_published) for s in report.stale] == [("a3", 333)]
    assert report.stale_total == 1
    assert [(r.pilot, r.asset, r.version, r.reason, r.move_to) for r in report.at_risk] == [
        ("pilot-f", "b3", "1.0.0", "yanked", None),
        ("pilot-d", "b1", "1.0.0", "deprecated", "b2"),
    ]
    assert report.at_risk_total == 2
    assert [(d.query, d.searches, d.last_searched_at.date().isoformat()) for d in report.demand] == [
        ("quantum widgets", 3, "2026-05-01"),
        ("tax forms", 1, "2026-06-30"),
    ]


async def test_csv_reads_back_to_the_same_figures(db: object) -> None:
    await scenario()
    report = await reuse_report(SINCE, UNTIL)
    sections = parse_csv(to_csv(report))
    assert list(sections) == ["summary", "adoptions_per_month", "by_kind", "by_asset", "by_origin_pilot", "by_team",
                              "stale", "at_risk", "demand", "unhelpful_picks"]  # fmt: skip
    summary = {row["figure"]: row["value"] for row in sections["summary"]}
    for key, value in report.summary.model_dump().items():
        assert float(summary[key]) == pytest.approx(value), key
    assert [(r["kind"], int(r["adoptions"]), float(r["reuse_rate"])) for r in sections["by_kind"]] == [
        (k.kind, k.adoptions, k.reuse_rate) for k in report.by_kind
    ]
    assert [r["asset"] for r in sections["at_risk"]] == ["b3", "b1"]
    rebuilt = ReuseReport.model_validate(report.model_dump(mode="json"))
    assert rebuilt == report
    single = to_csv(report, "demand").splitlines()
    assert single[0] == "query,searches,last_searched_at" and single[1].startswith("quantum widgets,3,")


async def test_defaults_and_empty_catalog(db: object) -> None:
    report = await reuse_report()
    assert (report.period.until - report.period.since).days == 365
    assert report.summary.reuse_rate == 0.0 and report.summary.started_with_catalog_share == 0.0
    assert report.by_kind == [] and report.demand == [] and len(report.adoptions_per_month) in (12, 13)
    with pytest.raises(InvalidInput):
        await reuse_report(UNTIL, SINCE)


async def test_moving_to_a_new_version_is_not_stopping(db: object) -> None:
    await origin("pilot-a", "team-a")
    await adopter("pilot-c", "team-c", "2026-02-01")
    await publish("prompt", "a1", "pilot-a", "team-a", "2025-07-01")
    await publish("prompt", "a1", "pilot-a", "team-a", "2026-02-01", version="1.1.0")
    first = await adopt("a1", "1.0.0", "pilot-c", 10, "2026-02-05")
    second = await adopt("a1", "1.1.0", "pilot-c", 2, "2026-03-01")
    await adoption.retire_adoption(first, RetireRequest(reason="moved to 1.1.0"), SYSTEM, at=day("2026-03-02"))
    later = datetime(2026, 9, 1, tzinfo=UTC)
    assert (await reuse_report(datetime(2026, 6, 1, tzinfo=UTC), later)).summary.assets_reused == 1
    await adoption.retire_adoption(second, RetireRequest(reason="dropped"), SYSTEM, at=day("2026-04-01"))
    assert (await reuse_report(datetime(2026, 6, 1, tzinfo=UTC), later)).summary.assets_reused == 0
    assert (await reuse_report(datetime(2026, 3, 15, tzinfo=UTC), later)).summary.assets_reused == 1


async def test_a_past_period_counts_use_as_it_was_then(db: object) -> None:
    """Stopping before a period and starting again after it: the period saw no use (stretches of use)."""
    await origin("pilot-a", "team-a")
    await adopter("pilot-c", "team-c", "2025-06-01")
    await adopter("pilot-d", "team-d", "2025-06-01")
    await publish("prompt", "a1", "pilot-a", "team-a", "2025-07-01")
    await publish("monitor", "a2", "pilot-a", "team-a", "2025-07-01")
    by_c = await adopt("a1", "1.0.0", "pilot-c", 1, "2025-08-01")
    by_d = await adopt("a1", "1.0.0", "pilot-d", 1, "2025-08-01")
    await adopt("a2", "1.0.0", "pilot-d", 1, "2025-09-15")  # d keeps using pilot-a's work through a2
    for adoption_id in (by_c, by_d):
        await adoption.retire_adoption(adoption_id, RetireRequest(reason="paused"), SYSTEM, at=day("2025-10-01"))
    await adopt("a1", "1.0.0", "pilot-c", 1, "2026-05-01")  # c is back, after the quiet period

    async def figures(since: str, until: str) -> tuple[int, int, list[tuple[str, int, int]]]:
        report = await reuse_report(day(since), day(until))
        reach = {o.pilot: o.downstream_pilots for o in report.by_origin_pilot}
        top = [(a.slug, a.adoptions, a.active_pilots) for a in report.by_asset]
        return report.summary.assets_reused, reach["pilot-a"], top

    assert await figures("2026-01-01", "2026-04-01") == (1, 1, [("a2", 0, 1)])
    assert await figures("2025-09-01", "2026-01-01") == (2, 2, [("a2", 1, 1), ("a1", 0, 2)])
    assert await figures("2026-03-01", "2026-06-01") == (2, 2, [("a1", 0, 1), ("a2", 0, 1)])


@pytest.mark.parametrize("db", [BACKENDS[1]], indirect=True)  # connection pools are PostgreSQL's
async def test_a_server_with_a_connection_pool_gets_the_same_report(db: Database) -> None:
    """On PostgreSQL the server reads the report through its pool (asyncpg records, not Piccolo dicts)."""
    engine = db.engine
    assert isinstance(engine, PostgresEngine)
    await scenario()
    direct = await reuse_report(SINCE, UNTIL)
    await engine.start_connection_pool(min_size=1, max_size=4)
    try:
        pooled = await reuse_report(SINCE, UNTIL)
    finally:
        await engine.close_connection_pool()
    assert pooled == direct


async def test_the_migration_backfill_rebuilds_the_state_adoptions_keep(db: object) -> None:
    """An existing catalog upgraded by the migration gets the same report state as one built adoption by adoption."""

    from catalog.piccolo_migrations import catalog_2026_11_25t02_24_00_000000 as migration
    from catalog.tables import Adoption, Asset, AssetUse, OriginReach

    await scenario()
    await adopt("a2", "1.0.0", "pilot-f", 1, "2026-09-01")  # pilot-f is back: a second stretch of use

    async def state() -> list[object]:
        return [
            await Adoption.select(Adoption.id, Adoption.origin_pilot, Adoption.first_for_origin).order_by(Adoption.id),
            await Asset.select(Asset.id, Asset.first_adopted_at).order_by(Asset.id),
            await AssetUse.select(AssetUse.asset, AssetUse.started_at, AssetUse.stopped_at).order_by(
                AssetUse.asset, AssetUse.started_at
            ),
            await OriginReach.select(
                OriginReach.origin_pilot, OriginReach.pilot, OriginReach.started_at, OriginReach.stopped_at
            ).order_by(OriginReach.origin_pilot, OriginReach.pilot, OriginReach.started_at),
        ]

    kept = await state()
    engine = Adoption._meta.db
    await AssetUse.delete(force=True)
    await OriginReach.delete(force=True)
    await Adoption.update({Adoption.origin_pilot: None, Adoption.first_for_origin: False}, force=True)
    await Asset.update({Asset.first_adopted_at: None}, force=True)
    await engine.run_ddl(migration.ORIGINS)
    await engine.run_ddl(migration.FIRST_FOR_ORIGIN)
    await engine.run_ddl(migration.FIRST_ADOPTED)
    far = migration.FAR["postgres" if isinstance(engine, PostgresEngine) else "sqlite"]
    for table, keys in migration.USES:
        await engine.run_ddl(migration.STRETCHES.format(table=table, keys=keys, far=far))
    uses = kept[2]
    assert isinstance(uses, list) and len({u["asset"] for u in uses}) < len(uses)  # a2 has two stretches
    assert await state() == kept


async def test_stretches_of_use_stay_true_under_concurrent_adoptions_and_retirements(db: object) -> None:
    """Whatever order concurrent writes take: open stretch <=> an active record, never two open at once."""
    import asyncio
    import itertools

    from catalog.tables import Adoption, AssetUse, OriginReach

    await origin("pilot-a", "team-a")
    for slug in ("pilot-c", "pilot-d", "pilot-e"):
        await adopter(slug, "team-c", "2025-06-01")
    await publish("prompt", "a1", "pilot-a", "team-a", "2025-07-01")
    await publish("monitor", "a2", "pilot-a", "team-a", "2025-07-01")
    pairs = [
        (("a1", "pilot-c"), ("a2", "pilot-d"), ("a1", "pilot-e")),
        (("a2", "pilot-c"), ("a1", "pilot-d"), ("a2", "pilot-e")),
    ]
    held = [
        (await adoption.record_adoption(AdoptionRequest(asset=a, version="1.0.0", pilot=p), SYSTEM)).id
        for a, p in pairs[0]
    ]
    for round_ in range(1, 5):  # each round: retire what is held, adopt the other set, all at once
        writes = [adoption.retire_adoption(i, RetireRequest(reason="swap"), SYSTEM) for i in held]
        writes += [
            adoption.record_adoption(AdoptionRequest(asset=a, version="1.0.0", pilot=p), SYSTEM)
            for a, p in pairs[round_ % 2]
        ]
        results = await asyncio.gather(*writes)
        held = [r.id for r in results[len(held) :]]

    active = await Adoption.select(Adoption.asset, Adoption.pilot, Adoption.origin_pilot).where(
        Adoption.retired_at.is_null()
    )
    uses = await AssetUse.select().where(AssetUse.stopped_at.is_null())
    reach = await OriginReach.select().where(OriginReach.stopped_at.is_null())
    assert sorted(u["asset"] for u in uses) == sorted({r["asset"] for r in active})
    assert sorted((r["origin_pilot"], r["pilot"]) for r in reach) == sorted(
        {(r["origin_pilot"], r["pilot"]) for r in active}
    )
    stretches = await AssetUse.select().order_by(AssetUse.asset, AssetUse.started_at)
    for earlier, later in itertools.pairwise(stretches):
        if earlier["asset"] == later["asset"]:  # one at a time: the earlier one ended before the next began
            assert earlier["stopped_at"] is not None and earlier["stopped_at"] <= later["started_at"]
