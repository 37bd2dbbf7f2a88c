"""The seed on SQLite and PostgreSQL: loads realistic history, and seeding twice changes nothing."""

from __future__ import annotations

import pytest

from catalog.seeding import seed_catalog
from catalog.services import adoption, assets, pilots
from catalog.services.portfolio import portfolio_report
from catalog.tables import ALL_TABLES, SearchOutbox
from registry.settings import SEED_DIR

pytestmark = pytest.mark.anyio


async def counts() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in ALL_TABLES if t is not SearchOutbox}


async def test_seed_loads_pilots_assets_and_reuse_once(db: object) -> None:
    report = await seed_catalog(SEED_DIR)
    assert report.loaded
    graduated = await pilots.list_pilots(status="graduated")
    assert len(graduated.items) >= 4
    assert len({p.team for p in graduated.items}) >= 4
    assert all(len(p.gates) >= 4 for p in graduated.items)
    catalog = await assets.list_assets(limit=500)
    assert catalog.total >= 24
    assert {a.kind for a in catalog.items} == {"prompt", "eval_harness", "retrieval_pipeline", "monitor"}
    for kind in ("prompt", "eval_harness", "retrieval_pipeline", "monitor"):
        assert sum(a.kind == kind for a in catalog.items) >= 4, kind
    deprecated = [a for a in catalog.items if a.lifecycle == "deprecated"]
    assert deprecated and deprecated[0].successor and deprecated[0].reuse_count >= 1
    kyc = await assets.get_version("kyc-entity-extraction-prompt", "1.1.0")
    assert kyc.yanked
    in_use = await adoption.list_adoptions(asset="kyc-entity-extraction-prompt", active=True)
    assert [a.version for a in in_use.items] == ["1.1.0"]
    assert (await adoption.list_adoptions()).total >= 20
    assert sum(a.reuse_count > 0 for a in catalog.items) >= 12
    portfolio = await portfolio_report()  # the seed's dates tell a portfolio story
    states = {w.pilot: w.state for w in portfolio.waiting}
    assert states["motor-fnol-intake"] == "circling" and states["aml-alert-triage"] == "stalled"
    assert all(w.budget_owner and w.value_at_stake for w in portfolio.waiting)
    assert portfolio.summary.killed == 1
    assert [b.pilot for b in portfolio.extraction_backlog] == ["invoice-matching-assistant"]

    before = await counts()
    again = await seed_catalog(SEED_DIR, only_if_empty=False)
    assert not again.loaded
    assert await counts() == before
    assert not (await seed_catalog(SEED_DIR)).loaded


async def test_seed_can_be_switched_off(db: object, tmp_path: object) -> None:
    from pathlib import Path

    assert not (await seed_catalog(SEED_DIR, enabled=False)).loaded
    assert not (await seed_catalog(Path(str(tmp_path)) / "no-seed-here")).loaded
    assert (await pilots.list_pilots()).total == 0
