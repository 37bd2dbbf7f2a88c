"""History on SQLite and PostgreSQL: label moves replay to the label, time travel, the journal's backfill,
diffs of the seed, live adoption warnings."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from piccolo.engine.postgres import PostgresEngine

from catalog.errors import NotFound
from catalog.piccolo_migrations.catalog_2026_12_02t12_39_12_000000 import backfill_statements
from catalog.schemas import SYSTEM, AdoptionRequest, DeprecateRequest, LabelRequest, YankRequest, parse_manifest
from catalog.seeding import seed_catalog
from catalog.services import adoption, curation, diffs, history, publishing
from catalog.tables import JournalEntry, Label
from registry.settings import SEED_DIR
from tests.factories import CLAIMS, FRAUD, catalog_with_two_versions, graduated_pilot, manifest

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_concurrent_label_moves_leave_a_history_that_replays_to_the_label(db: object) -> None:
    await catalog_with_two_versions()
    for version in ("1.2.0", "1.3.0"):
        await publishing.publish_version(parse_manifest(manifest(version=version)), CLAIMS)
    versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"] * 3
    moves = [
        curation.move_label("claims-triage-prompt", "production", LabelRequest(version=v, reason=f"move {i}"), CLAIMS)
        for i, v in enumerate(versions)
    ]
    await asyncio.gather(*moves)
    replayed = await history.label_history("claims-triage-prompt", "production")
    assert replayed[0].from_version is None
    for before, after in itertools.pairwise(replayed):
        assert after.from_version == before.to_version  # each move starts where the one before ended
        assert after.moved_at >= before.moved_at
    current = await Label.select(Label.version.version.as_alias("v")).where(Label.name == "production").first()
    assert current is not None and replayed[-1].to_version == current["v"]
    now = await history.label_at("claims-triage-prompt", "production", None)
    assert now.version == current["v"] and now.reason == replayed[-1].reason


async def test_label_at_answers_around_each_move(db: object) -> None:
    await catalog_with_two_versions()
    slug, moves = "claims-triage-prompt", [("1.0.0", 0), ("1.1.0", 10), ("1.0.0", 20)]
    for version, day in moves:
        request = LabelRequest(version=version, reason=f"day {day}")
        await curation.move_label(slug, "production", request, CLAIMS, at=T0 + timedelta(days=day))
    with pytest.raises(NotFound) as before:
        await history.label_at(slug, "production", T0 - timedelta(seconds=1))
    assert before.value.code == "label-not-set" and "first set at 2026-03-01" in str(before.value)
    for version, day in moves:
        assert (await history.label_at(slug, "production", T0 + timedelta(days=day))).version == version
        later = await history.label_at(slug, "production", T0 + timedelta(days=day, hours=23))
        assert (later.version, later.reason) == (version, f"day {day}")
    await curation.remove_label(slug, "production", CLAIMS, reason="retired", at=T0 + timedelta(days=30))
    with pytest.raises(NotFound) as removed:
        await history.label_at(slug, "production", T0 + timedelta(days=31))
    assert "removed at" in str(removed.value)
    assert (await history.label_at(slug, "production", T0 + timedelta(days=29))).version == "1.0.0"
    moved = await history.label_history(slug, "production")
    assert [(m.action, m.from_version, m.to_version) for m in moved] == [
        ("move", None, "1.0.0"),
        ("move", "1.0.0", "1.1.0"),
        ("move", "1.1.0", "1.0.0"),
        ("remove", "1.0.0", None),
    ]
    with pytest.raises(NotFound) as missing:
        await history.label_at("no-such-asset", "production", None)
    assert missing.value.code == "asset-not-found"


async def test_the_journal_says_what_each_change_concerns_and_the_backfill_agrees(db: object) -> None:
    await seed_catalog(SEED_DIR)
    await _diffs_of_every_seed_asset_with_two_versions()  # on the same seeded catalog (seeding is what costs)
    await curation.yank_version("claims-triage-prompt", "1.0.0", YankRequest(reason="superseded"), SYSTEM)
    kept = {r["id"]: (r["asset"], r["pilot"], r["team"]) for r in await JournalEntry.select()}
    adoptions = await JournalEntry.select().where(JournalEntry.action == "adoption.record")
    assert adoptions and all(r["pilot"] and r["asset"] and r["team"] for r in adoptions)
    publishes = await JournalEntry.select().where(JournalEntry.action == "asset.publish")
    assert all(r["pilot"] and r["team"] for r in publishes)
    await JournalEntry.update({JournalEntry.asset: None, JournalEntry.pilot: None, JournalEntry.team: None}, force=True)
    for statement in backfill_statements(isinstance(JournalEntry._meta.db, PostgresEngine)):
        await JournalEntry._meta.db.run_ddl(statement)
    assert {r["id"]: (r["asset"], r["pilot"], r["team"]) for r in await JournalEntry.select()} == kept


async def _diffs_of_every_seed_asset_with_two_versions() -> None:
    found = await diffs.diff_versions("claims-triage-prompt", "1.0.0", "1.1.0")
    assert not found.identical and found.template is not None
    added = [line for line in found.template if line.op == "+"]
    assert any("policy_notes" in line.variables for line in added)
    assert found.variables_added == ["policy_notes"] and found.variables_removed == []
    assert any("variable set changed" in b for b in found.breaking)
    assert any(c.pointer == "/spec/template" and c.change == "changed" for c in found.changes)
    same = await diffs.diff_versions("claims-triage-prompt", "1.1.0", "1.1.0")
    assert same.identical and same.changes == [] and same.breaking == []
    assert all(f.change == "unchanged" for f in same.files)
    rows = await JournalEntry.select(JournalEntry.subject).where(JournalEntry.action == "asset.publish")
    by_asset: dict[str, list[str]] = {}
    for row in rows:
        slug, _, version = row["subject"].removeprefix("asset:").partition("@")
        by_asset.setdefault(slug, []).append(version)
    pairs = [(slug, versions[0], versions[-1]) for slug, versions in by_asset.items() if len(versions) > 1]
    assert len(pairs) >= 2
    for slug, first, last in pairs:
        diff = await diffs.diff_versions(slug, first, last)
        assert not diff.identical and (diff.changes or any(f.change != "unchanged" for f in diff.files)), slug
        for file in diff.files:
            if file.change in ("changed", "added") and not file.binary:
                assert file.unified.startswith(f"--- {first}/") or file.change == "added", slug


async def test_file_diffs_are_unified_text_and_binary_by_digest(db: object) -> None:
    await catalog_with_two_versions()
    files = [
        {"path": "prompt.txt", "content": "line one\nline two\n"},
        {"path": "logo.png", "content": "iVBORw0KGgo=", "encoding": "base64"},
    ]
    await publishing.publish_version(parse_manifest(manifest(version="2.0.0", files=files)), CLAIMS)
    files[0]["content"] = "line one\nline 2\n"
    files[1]["content"] = "iVBORw0KGgoA"
    changed = manifest(version="2.1.0", files=files)
    changed["spec"]["output_schema"] = {"type": "object"}
    await publishing.publish_version(parse_manifest(changed), CLAIMS)
    diff = await diffs.diff_versions("claims-triage-prompt", "2.0.0", "2.1.0")
    text, binary = diff.files[1], diff.files[0]
    assert (text.path, text.change) == ("prompt.txt", "changed")
    assert "-line two\n+line 2\n" in text.unified
    assert (binary.path, binary.binary, binary.unified) == ("logo.png", True, "")
    assert binary.before_sha256 != binary.after_sha256
    assert diff.breaking == ["the output schema changed"]


async def test_adoption_warnings_are_computed_when_read(db: object) -> None:
    await catalog_with_two_versions()
    request = AdoptionRequest(asset="claims-triage-prompt", version="1.0.0", pilot="fraud-screening")
    recorded = await adoption.record_adoption(request, FRAUD)
    assert recorded.warnings == ["claims-triage-prompt 1.1.0 is available (same major version: no breaking change)"]
    await curation.yank_version("claims-triage-prompt", "1.0.0", YankRequest(reason="leaks PII"), CLAIMS)
    await publishing.publish_version(parse_manifest(manifest(slug="claims-triage-prompt-v2")), CLAIMS)
    await curation.deprecate_asset(
        "claims-triage-prompt", DeprecateRequest(reason="old", successor="claims-triage-prompt-v2"), CLAIMS
    )
    read = await adoption.get_adoption(recorded.id)
    assert "claims-triage-prompt@1.0.0 was yanked on" in read.warnings[0] and "leaks PII" in read.warnings[0]
    assert read.warnings[0].endswith("move to claims-triage-prompt@1.1.0")  # the version to move to, named
    assert "successor claims-triage-prompt-v2" in read.warnings[1]
    listed = (await adoption.list_adoptions(pilot="fraud-screening")).items
    assert listed[0].warnings == read.warnings
    await curation.yank_version("claims-triage-prompt", "1.1.0", YankRequest(reason="also bad"), CLAIMS)
    assert not any("is available" in w for w in (await adoption.get_adoption(recorded.id)).warnings)


@pytest.mark.parametrize(
    ("kind", "change", "says"),
    [
        ("prompt", {"template": "Route {{claim_text}} to a queue.", "variables": ["claim_text"]},
         "the variable set changed; removed: categories"),
        ("prompt", {"output_schema": {"type": "object", "required": ["category"]}}, "the output schema changed"),
        ("prompt", {"template": "Classify into {categories}:\n{claim_text}", "template_format": "f-string"},
         "the template format changed (mustache -> f-string)"),
        ("eval_harness", {"metrics": [{"name": "faithfulness", "threshold": 0.85}]},
         "metrics removed: hallucination_rate"),
        ("retrieval_pipeline", {"embedder": {"model": "BAAI/bge-base-en-v1.5", "dimensions": 768}},
         "the embedding dimensions changed (indexes must be rebuilt)"),
        ("monitor", {"signal": "llm_groundedness_rate"}, "the monitored signal changed"),
    ],
)  # fmt: skip
async def test_every_breaking_rule_is_reported(db: object, kind: str, change: dict[str, Any], says: str) -> None:
    await graduated_pilot()
    slug = f"breaking-{kind.replace('_', '-')}"
    await publishing.publish_version(parse_manifest(manifest(kind, slug)), CLAIMS)
    later = manifest(kind, slug, "2.0.0")
    later["spec"] = {**later["spec"], **change}
    await publishing.publish_version(parse_manifest(later), CLAIMS)
    diff = await diffs.diff_versions(slug, "1.0.0", "2.0.0")
    assert diff.breaking == [says]
    harmless = manifest(kind, slug, "2.0.1", summary="Only the summary changed in this version.")
    harmless["spec"] = later["spec"]
    await publishing.publish_version(parse_manifest(harmless), CLAIMS)
    assert (await diffs.diff_versions(slug, "2.0.0", "2.0.1")).breaking == []
