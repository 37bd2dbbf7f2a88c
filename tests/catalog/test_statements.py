"""Statements compiled once answer what the queries they were built from answer, and inserts store what Piccolo's
insert stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from piccolo.query.methods.count import Count
from piccolo.query.methods.exists import Exists
from piccolo.query.methods.select import Select

from catalog.seeding import seed_catalog
from catalog.statements import LONGEST_LIST, MOST_SHAPES, Statement, insert_rows, statement
from catalog.tables import Adoption, Asset, AssetVersion, JournalEntry
from registry.settings import SEED_DIR

pytestmark = pytest.mark.anyio


def _versions(slugs: list[str], yanked: bool | None, *, limit: int) -> Select[Any]:
    slug = AssetVersion.asset.slug.as_alias("slug")
    query = AssetVersion.select(AssetVersion.coordinate, AssetVersion.manifest, slug).output(load_json=True)
    query = query.where(AssetVersion.asset.slug.is_in(slugs))
    if yanked is not None:
        query = query.where(AssetVersion.yanked == yanked)
    return query.order_by(AssetVersion.coordinate).limit(limit)


async def test_a_statement_answers_what_its_query_answers_whatever_the_values(db: object) -> None:
    await seed_catalog(SEED_DIR)
    compiled = statement(_versions)
    slugs = [r["slug"] for r in await Asset.select(Asset.slug).order_by(Asset.slug)]
    cases = [([slugs[0]], None, 5), (slugs[:3], False, 5), (slugs[2:5], None, 2), (slugs[:2], True, 10)]
    cases.append((slugs, None, 50))
    for values in cases * 2:  # the second round runs what the first compiled
        wanted, yanked, limit = values
        assert await compiled.run(wanted, yanked, limit=limit) == await _versions(wanted, yanked, limit=limit)
    first = await compiled.first([slugs[1]], None, limit=1)
    assert first is not None and first["slug"] == slugs[1] and isinstance(first["manifest"], dict)  # JSON loaded
    assert await compiled.first(["no-such-asset"], None, limit=1) is None


async def test_counts_and_exists_answer_a_number_and_a_truth(db: object) -> None:
    await seed_catalog(SEED_DIR)

    @statement
    def active(slug: str) -> Count:
        return Adoption.count().where((Adoption.asset.slug == slug) & Adoption.retired_at.is_null())

    @statement
    def named(slug: str) -> Exists[Any]:
        return Asset.exists().where(Asset.slug == slug)

    for slug in ("claims-triage-prompt", "pii-leak-monitor", "nothing-here"):
        expected = await Adoption.count().where((Adoption.asset.slug == slug) & Adoption.retired_at.is_null())
        assert await active.run(slug) == expected
        assert await named.run(slug) is await Asset.exists().where(Asset.slug == slug)


async def test_a_value_used_twice_is_bound_in_both_places(db: object) -> None:
    await seed_catalog(SEED_DIR)
    twice = statement(lambda slug: Asset.select(Asset.slug).where((Asset.slug == slug) | (Asset.successor == slug)))
    assert [r["slug"] for r in await twice.run("claims-triage-prompt")] == ["claims-triage-prompt"]


async def test_long_lists_and_too_many_shapes_build_the_query_each_time_and_answer_alike(db: object) -> None:
    await seed_catalog(SEED_DIR)
    compiled = Statement(_versions)
    slugs = [r["slug"] for r in await Asset.select(Asset.slug)]
    many = (slugs * 3)[: LONGEST_LIST + 1]
    assert await compiled.run(many, None, limit=100) == await _versions(many, None, limit=100)
    for limit in range(1, MOST_SHAPES + 5):
        assert await compiled.run(slugs[:2], None, limit=limit) == await _versions(slugs[:2], None, limit=limit)
    assert len(compiled._compiled) == MOST_SHAPES  # the compiled forms stay bounded


async def test_a_value_that_does_not_reach_the_sql_as_bound_is_refused_at_once(db: object) -> None:
    hidden = statement(lambda slug: Asset.select().where(Asset.slug == slug.upper()))
    with pytest.raises(TypeError, match="does not reach the SQL"):
        await hidden.run("claims-triage-prompt")
    with pytest.raises(TypeError, match="binds str, int, float"):
        await statement(lambda when: Asset.select().where(Asset.created_at > when)).run(object())


async def test_insert_rows_stores_what_piccolos_insert_stores_and_gives_each_row_its_id(db: object) -> None:
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)

    def entries(prefix: str, count: int) -> list[JournalEntry]:
        return [JournalEntry(at=at, actor="system", action="asset.publish", subject=f"asset:{prefix}-{n}@1.0.0",
                             asset=f"{prefix}-{n}", payload={"n": n, "files": [f"f{n}.txt"], "note": "é\x01"})
                for n in range(count)]  # fmt: skip

    ours, piccolos = entries("ours", 3), entries("piccolo", 3)
    await insert_rows(JournalEntry, ours)
    await JournalEntry.insert(*piccolos)
    assert all(isinstance(row.id, int) and row._exists_in_db for row in ours)
    stored = {r["id"]: r for r in await JournalEntry.select().output(load_json=True)}
    for mine, theirs in zip(ours, piccolos, strict=True):
        a, b = dict(stored[mine.id]), dict(stored[theirs.id])
        assert (a.pop("id"), a.pop("subject"), a.pop("asset")) == (mine.id, mine.subject, mine.asset)
        assert (b.pop("id"), b.pop("subject"), b.pop("asset")) == (theirs.id, theirs.subject, theirs.asset)
        assert a == b  # every other column alike: time, JSON payload, defaults

    many = entries("many", 4_000)  # 8 values a row: more than one statement's 30,000 parameters
    await insert_rows(JournalEntry, many)
    assert len({row.id for row in many}) == len(many)
    assert await JournalEntry.count().where(JournalEntry.asset.like("many-%")) == len(many)
