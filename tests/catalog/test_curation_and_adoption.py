"""Yank, deprecate, labels and adoptions on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.schemas import (
    AdoptionRequest,
    DeprecateRequest,
    LabelRequest,
    RetireRequest,
    YankRequest,
    parse_manifest,
)
from catalog.services import adoption, assets, curation, pilots, publishing
from catalog.tables import Adoption, JournalEntry, SearchOutbox
from tests.factories import CLAIMS, FRAUD, catalog_with_two_versions, manifest

pytestmark = pytest.mark.anyio


async def test_yank_keeps_version_readable_moves_latest_and_blocks_adoption(db: object) -> None:
    await catalog_with_two_versions()
    version = await curation.yank_version("claims-triage-prompt", "1.1.0", YankRequest(reason="leaks PII"), CLAIMS)
    assert version.yanked and version.yanked_reason == "leaks PII"
    assert (await assets.get_asset("claims-triage-prompt")).latest_version == "1.0.0"
    with pytest.raises(Conflict) as err:
        await curation.yank_version("claims-triage-prompt", "1.1.0", YankRequest(reason="again"), CLAIMS)
    assert err.value.code == "already-yanked"
    request = AdoptionRequest(asset="claims-triage-prompt", version="1.1.0", pilot="fraud-screening")
    with pytest.raises(Conflict) as err:
        await adoption.record_adoption(request, FRAUD)
    assert err.value.code == "version-yanked"
    assert await Adoption.count() == 0
    assert await SearchOutbox.count().where(SearchOutbox.reason == "yank") == 1


async def test_curation_is_for_the_owning_team(db: object) -> None:
    await catalog_with_two_versions()
    with pytest.raises(PermissionDenied):
        await curation.yank_version("claims-triage-prompt", "1.0.0", YankRequest(reason="not mine"), FRAUD)
    with pytest.raises(PermissionDenied):
        await curation.deprecate_asset("claims-triage-prompt", DeprecateRequest(reason="not mine"), FRAUD)
    with pytest.raises(NotFound):
        await curation.yank_version("claims-triage-prompt", "9.9.9", YankRequest(reason="nope"), CLAIMS)


async def test_deprecated_asset_can_be_adopted_with_a_warning_naming_the_successor(db: object) -> None:
    await catalog_with_two_versions()
    await publishing.publish_version(parse_manifest(manifest(slug="claims-triage-prompt-v2")), CLAIMS)
    with pytest.raises(InvalidInput):
        await curation.deprecate_asset(
            "claims-triage-prompt", DeprecateRequest(reason="old", successor="ghost"), CLAIMS
        )
    asset = await curation.deprecate_asset(
        "claims-triage-prompt", DeprecateRequest(reason="Superseded", successor="claims-triage-prompt-v2"), CLAIMS
    )
    assert (asset.lifecycle, asset.successor) == ("deprecated", "claims-triage-prompt-v2")
    adopted = await adoption.record_adoption(
        AdoptionRequest(asset="claims-triage-prompt", pilot="fraud-screening", hours_saved=12), FRAUD
    )
    assert adopted.version == "1.1.0"
    assert "claims-triage-prompt-v2" in adopted.warnings[0]


async def test_labels_move_and_are_journaled(db: object) -> None:
    await catalog_with_two_versions()
    await curation.move_label("claims-triage-prompt", "production", LabelRequest(version="1.0.0"), CLAIMS)
    asset = await curation.move_label("claims-triage-prompt", "production", LabelRequest(version="1.1.0"), CLAIMS)
    assert [(lb.name, lb.version) for lb in asset.labels] == [("production", "1.1.0")]
    moves = (
        await JournalEntry.select(JournalEntry.payload)
        .where(JournalEntry.action == "label.move")
        .output(load_json=True)
    )
    assert [(m["payload"]["from"], m["payload"]["to"]) for m in moves] == [(None, "1.0.0"), ("1.0.0", "1.1.0")]
    adopted = await adoption.record_adoption(
        AdoptionRequest(asset="claims-triage-prompt", version="production", pilot="fraud-screening"), FRAUD
    )
    assert adopted.version == "1.1.0"
    with pytest.raises(InvalidInput):
        await curation.move_label("claims-triage-prompt", "Bad Label", LabelRequest(version="1.0.0"), CLAIMS)
    asset = await curation.remove_label("claims-triage-prompt", "production", CLAIMS)
    assert asset.labels == []


async def test_adoption_rules(db: object) -> None:
    await catalog_with_two_versions()
    with pytest.raises(InvalidInput) as err:
        await adoption.record_adoption(
            AdoptionRequest(asset="claims-triage-prompt", pilot="claims-triage-assistant"), CLAIMS
        )
    assert err.value.code == "self-adoption"
    with pytest.raises(PermissionDenied):
        await adoption.record_adoption(AdoptionRequest(asset="claims-triage-prompt", pilot="fraud-screening"), CLAIMS)
    with pytest.raises(InvalidInput) as err:
        await adoption.record_adoption(
            AdoptionRequest(asset="claims-triage-prompt", version="7.0.0", pilot="fraud-screening"), FRAUD
        )
    assert err.value.problems[0].pointer == "/version"
    first = await adoption.record_adoption(
        AdoptionRequest(
            asset="claims-triage-prompt", version="1.0.0", pilot="fraud-screening", mode="adapted", hours_saved=30
        ),
        FRAUD,
    )
    again = await adoption.record_adoption(
        AdoptionRequest(asset="claims-triage-prompt", version="1.0.0", pilot="fraud-screening"), FRAUD
    )
    assert again.id == first.id
    asset = await assets.get_asset("claims-triage-prompt")
    assert (asset.reuse_count, asset.adoptions, asset.adopting_pilots) == (1, 1, ["fraud-screening"])
    retired = await adoption.retire_adoption(first.id, RetireRequest(reason="moved to v2"), FRAUD)
    assert not retired.active
    with pytest.raises(Conflict):
        await adoption.retire_adoption(first.id, RetireRequest(), FRAUD)
    assert (await assets.get_asset("claims-triage-prompt")).reuse_count == 0
    page = await adoption.list_adoptions(pilot="fraud-screening")
    assert [(a.version, a.active) for a in page.items] == [("1.0.0", False)]
    pilot = await pilots.get_pilot("fraud-screening")
    assert [(a.asset, a.active) for a in pilot.adopted_assets] == [("claims-triage-prompt", False)]


async def test_concurrent_identical_adoptions_record_one(db: object) -> None:
    import asyncio

    await catalog_with_two_versions()
    request = AdoptionRequest(asset="claims-triage-prompt", version="1.0.0", pilot="fraud-screening")
    results = await asyncio.gather(*[adoption.record_adoption(request, FRAUD) for _ in range(4)])
    assert len({r.id for r in results}) == 1
    assert await Adoption.count() == 1
