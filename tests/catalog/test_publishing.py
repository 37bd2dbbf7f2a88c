"""Publishing rules on SQLite and PostgreSQL: graduation, idempotence, immutability, dependencies, no partial rows."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from catalog.errors import Conflict, InvalidInput, PermissionDenied
from catalog.manifests import load_manifest
from catalog.schemas import SYSTEM, Actor, PilotRequest, parse_manifest
from catalog.services import assets, pilots, publishing
from catalog.tables import ALL_TABLES, Asset, AssetFile, AssetVersion, JournalEntry, SearchOutbox
from tests.factories import graduated_pilot, manifest, pilot_request

pytestmark = pytest.mark.anyio
CLAIMS = Actor(name="ci", team="claims-ai", scopes=frozenset({"publish"}))


async def counts() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in ALL_TABLES}


async def test_publish_creates_asset_version_journal_and_outbox(db: object) -> None:
    await graduated_pilot()
    result = await publishing.publish_version(parse_manifest(manifest()), CLAIMS)
    assert result.status == "created"
    assert result.content_digest.startswith("sha256:")
    asset = await assets.get_asset("claims-triage-prompt")
    assert asset.latest_version == "1.0.0"
    assert asset.origin_pilot.slug == "claims-triage-assistant"
    assert [v.version for v in asset.versions] == ["1.0.0"]
    assert await JournalEntry.count().where(JournalEntry.action == "asset.publish") == 1
    assert await SearchOutbox.count().where(SearchOutbox.asset_slug == "claims-triage-prompt") == 1


@pytest.mark.parametrize("kind", ["prompt", "eval_harness", "retrieval_pipeline", "monitor"])
async def test_every_kind_publishes_and_reads_back(db: object, kind: str) -> None:
    await graduated_pilot()
    data = manifest(kind, slug=f"claims-{kind.replace('_', '-')}")
    await publishing.publish_version(parse_manifest(data), CLAIMS)
    version = await assets.get_version(data["slug"], "1.0.0")
    assert version.kind == kind
    for key, value in data["spec"].items():
        if key not in ("metrics", "components", "condition"):
            continue
        assert len(version.spec[key]) == len(value)


async def test_publish_before_graduation_is_409_and_writes_nothing(db: object) -> None:
    await pilots.create_pilot(PilotRequest.model_validate(pilot_request()), SYSTEM)
    before = await counts()
    with pytest.raises(Conflict) as err:
        await publishing.publish_version(parse_manifest(manifest()), CLAIMS)
    assert err.value.code == "pilot-not-graduated"
    assert "stage 1" in err.value.detail
    assert await counts() == before


async def test_identical_republish_is_noop_and_changed_content_is_conflict(db: object) -> None:
    await graduated_pilot()
    first = await publishing.publish_version(parse_manifest(manifest()), CLAIMS)
    before = await counts()
    again = await publishing.publish_version(parse_manifest(manifest()), CLAIMS)
    assert again.status == "unchanged"
    assert again.content_digest == first.content_digest
    assert await counts() == before
    changed = manifest(summary="A different summary for the same version.")
    with pytest.raises(Conflict) as err:
        await publishing.publish_version(parse_manifest(changed), CLAIMS)
    assert err.value.code == "version-exists"
    assert await counts() == before


async def test_digest_ignores_key_order_and_covers_files(db: object) -> None:
    a = manifest(files=[{"path": "a.txt", "content": "one"}])
    b = dict(reversed(list(a.items())))
    assert publishing.content_digest(parse_manifest(a)) == publishing.content_digest(parse_manifest(b))
    c = manifest(files=[{"path": "a.txt", "content": "two"}])
    assert publishing.content_digest(parse_manifest(a)) != publishing.content_digest(parse_manifest(c))


def test_manifests_without_patterns_and_risks_keep_the_digest_they_had() -> None:
    """`patterns` and `risks` came later: a manifest that sets neither keeps its digest, so re-publishing a
    version published before them is still a no-op; one that sets them is other content."""
    body = manifest()
    before = "sha256:" + hashlib.sha256(
        json.dumps(
            {**parse_manifest(body).model_dump(mode="json", exclude={"files", "patterns", "risks"}), "files": []},
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        ).encode()
    ).hexdigest()  # fmt: skip
    assert publishing.content_digest(parse_manifest(body)) == before
    assert publishing.content_digest(parse_manifest({**body, "patterns": None, "risks": None})) == before
    assert publishing.content_digest(parse_manifest({**body, "patterns": ["classify"]})) != before
    assert publishing.content_digest(parse_manifest({**body, "risks": []})) != before  # "covers none" is a statement


async def test_other_team_cannot_publish(db: object) -> None:
    await graduated_pilot()
    fraud = Actor(name="ci", team="fraud-ai", scopes=frozenset({"publish"}))
    with pytest.raises(PermissionDenied):
        await publishing.publish_version(parse_manifest(manifest()), fraud)
    assert await Asset.count() == 0


async def test_latest_version_follows_semver_and_prefers_releases(db: object) -> None:
    await graduated_pilot()
    for version in ["1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1"]:
        await publishing.publish_version(parse_manifest(manifest(version=version, title=f"Title {version}")), CLAIMS)
    asset = await assets.get_asset("claims-triage-prompt")
    assert asset.latest_version == "1.10.0"
    assert asset.title == "Title 1.10.0"
    assert [v.version for v in asset.versions] == ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]


async def test_identity_of_an_asset_never_changes(db: object) -> None:
    await graduated_pilot()
    await publishing.publish_version(parse_manifest(manifest()), CLAIMS)
    with pytest.raises(Conflict) as err:
        await publishing.publish_version(parse_manifest(manifest("monitor", version="1.1.0")), CLAIMS)
    assert err.value.code == "asset-identity-mismatch"
    assert err.value.extra["fields"] == ["kind"]


async def test_depends_on_resolves_highest_matching_non_yanked(db: object) -> None:
    from catalog.schemas import YankRequest
    from catalog.services import curation

    await graduated_pilot()
    for version in ["1.0.0", "1.4.0", "2.0.0"]:
        await publishing.publish_version(parse_manifest(manifest("eval_harness", "claims-eval", version)), CLAIMS)
    await curation.yank_version("claims-eval", "1.4.0", YankRequest(reason="wrong golden set"), SYSTEM)
    dependant = manifest(depends_on=[{"slug": "claims-eval", "version": ">=1.0,<2"}])
    await publishing.publish_version(parse_manifest(dependant), CLAIMS)
    version = await assets.get_version("claims-triage-prompt", "1.0.0")
    assert [(d.slug, d.resolved) for d in version.depends_on] == [("claims-eval", "1.0.0")]


async def test_unresolvable_dependencies_are_422_naming_each(db: object) -> None:
    await graduated_pilot()
    await publishing.publish_version(parse_manifest(manifest("eval_harness", "claims-eval")), CLAIMS)
    before = await counts()
    bad = manifest(depends_on=[{"slug": "claims-eval", "version": "^2"}, {"slug": "no-such-asset"}])
    with pytest.raises(InvalidInput) as err:
        await publishing.publish_version(parse_manifest(bad), CLAIMS)
    assert [p.pointer for p in err.value.problems] == ["/depends_on/0/version", "/depends_on/1/slug"]
    assert await counts() == before


async def test_files_are_stored_with_their_hashes(db: object) -> None:
    await graduated_pilot()
    files = [
        {"path": "promptfooconfig.yaml", "content": "prompts: [prompt.txt]\n"},
        {"path": "bin.dat", "content": "AAEC", "encoding": "base64"},
    ]
    await publishing.publish_version(parse_manifest(manifest(files=files)), CLAIMS)
    version = await assets.get_version("claims-triage-prompt", "1.0.0")
    assert [(f.path, f.size, f.encoding) for f in version.files] == [
        ("bin.dat", 3, "base64"),
        ("promptfooconfig.yaml", 22, "utf-8"),
    ]
    assert version.manifest["files"] == ["promptfooconfig.yaml", "bin.dat"]
    assert await AssetFile.count() == 2
    assert await AssetVersion.count() == 1


async def test_bad_base64_file_is_422(db: object) -> None:
    await graduated_pilot()
    bad = manifest(files=[{"path": "x.bin", "content": "not base64!!", "encoding": "base64"}])
    with pytest.raises(InvalidInput) as err:
        await publishing.publish_version(parse_manifest(bad), CLAIMS)
    assert err.value.problems[0].pointer == "/files/0/content"
    assert await Asset.count() == 0


async def test_unknown_origin_pilot_is_422(db: object) -> None:
    with pytest.raises(InvalidInput) as err:
        await publishing.publish_version(parse_manifest(manifest(origin_pilot="ghost-pilot")), CLAIMS)
    assert err.value.problems[0].pointer == "/origin_pilot"


async def test_concurrent_publishes_of_one_asset_all_succeed_once(db: object) -> None:
    import asyncio

    await graduated_pilot()
    same = [publishing.publish_version(parse_manifest(manifest()), CLAIMS) for _ in range(4)]
    others = [publishing.publish_version(parse_manifest(manifest(version=f"1.{i}.0")), CLAIMS) for i in range(1, 4)]
    results = await asyncio.gather(*same, *others)
    assert sorted(r.status for r in results[:4]) == ["created", "unchanged", "unchanged", "unchanged"]
    assert all(r.status == "created" for r in results[4:])
    assert await AssetVersion.count() == 4
    assert await Asset.count() == 1
    assert (await assets.get_asset("claims-triage-prompt")).latest_version == "1.3.0"


def test_files_with_control_characters_are_sent_as_bytes(tmp_path: Path) -> None:
    """A text file holding a form feed or escape codes cannot be stored as text; the CLI sends it base64."""
    (tmp_path / "asset.yaml").write_text(yaml.safe_dump({**manifest(), "files": ["plain.txt", "ansi.txt"]}))
    (tmp_path / "plain.txt").write_text("Classify the claim.\n\tIndented line.\r\n")
    (tmp_path / "ansi.txt").write_bytes(b"\x1b[31mred\x1b[0m\x0cpage two\n")
    files = {f["path"]: f for f in load_manifest(tmp_path / "asset.yaml")["files"]}
    assert files["plain.txt"] == {"path": "plain.txt", "content": "Classify the claim.\n\tIndented line.\r\n"}
    assert files["ansi.txt"]["encoding"] == "base64"
    assert base64.b64decode(files["ansi.txt"]["content"]) == b"\x1b[31mred\x1b[0m\x0cpage two\n"
    parse_manifest(load_manifest(tmp_path / "asset.yaml"))  # and the result is a valid manifest
