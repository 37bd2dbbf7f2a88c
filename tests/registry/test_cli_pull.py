"""`registry pull` and `registry publish` against a live server: files out byte for byte, and back unchanged."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from tests.helpers import ok, run


def seeded(env: dict[str, str]) -> list[str]:
    run(env, "seed")
    assets = httpx.get(f"{env['REGISTRY_URL']}/api/v1/assets", params={"limit": 500}).json()["items"]
    return [a["slug"] for a in assets if a["latest_version"]]


def test_pull_of_every_seed_asset_is_byte_identical_and_publishes_back_unchanged(
    live: dict[str, str],
    tmp_path: Path,
) -> None:
    slugs = seeded(live)
    assert len(slugs) >= 20
    for slug in slugs:  # in-process (the same command, without a Python start per asset)
        ok(live, "pull", slug, str(tmp_path / slug))
        asset = httpx.get(f"{live['REGISTRY_URL']}/api/v1/assets/{slug}").json()
        version = httpx.get(f"{live['REGISTRY_URL']}/api/v1/assets/{slug}/versions/{asset['latest_version']}").json()
        for f in version["files"]:
            expected = base64.b64decode(f["content"]) if f["encoding"] == "base64" else f["content"].encode()
            assert (tmp_path / slug / f["path"]).read_bytes() == expected, (slug, f["path"])
    published = run(live, "publish", str(tmp_path))
    lines = [line for line in published.stdout.splitlines() if line.strip()]
    assert len(lines) == len(slugs) and all(line.startswith("unchanged") for line in lines), published.stdout


def test_pull_with_a_pilot_records_the_adoption(live: dict[str, str], tmp_path: Path) -> None:
    seeded(live)
    url = live["REGISTRY_URL"]
    before = httpx.get(f"{url}/api/v1/assets/claims-triage-prompt").json()
    assert "hr-policy-assistant" not in before["adopting_pilots"]
    result = run(live, "pull", "claims-triage-prompt@production", str(tmp_path / "x"), "--pilot", "hr-policy-assistant",
                 "--mode", "adapted", "--hours-saved", "12")  # fmt: skip
    assert "adopted    claims-triage-prompt@1.1.0 by hr-policy-assistant" in result.stdout
    assert (tmp_path / "x" / "asset.yaml").is_file()
    adoptions = httpx.get(f"{url}/api/v1/adoptions", params={"pilot": "hr-policy-assistant"}).json()["items"]
    assert any(a["asset"] == "claims-triage-prompt" and a["mode"] == "adapted" and a["hours_saved"] == 12
               for a in adoptions)  # fmt: skip
    after = httpx.get(f"{url}/api/v1/assets/claims-triage-prompt").json()
    assert "hr-policy-assistant" in after["adopting_pilots"] and after["reuse_count"] == before["reuse_count"] + 1


def test_pull_refuses_to_overwrite_and_names_what_exists(live: dict[str, str], tmp_path: Path) -> None:
    seeded(live)
    target = tmp_path / "x"
    target.mkdir()
    (target / "asset.yaml").write_text("my own notes\n")
    refused = run(live, "pull", "claims-triage-prompt", str(target), check=False)
    assert refused.returncode == 1 and "already holds other content in asset.yaml" in refused.stderr
    assert (target / "asset.yaml").read_text() == "my own notes\n"
    missing = run(live, "pull", "claims-triage-prompt@staging", str(target), check=False)
    assert missing.returncode == 1 and "no version or label 'staging'" in missing.stderr
    assert "labels: production" in missing.stderr
    run(live, "pull", "claims-triage-prompt", str(target), "--force")
    assert (target / "asset.yaml").read_text().startswith("kind: prompt\n")


def test_publish_says_when_there_is_nothing_to_publish(live: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(live, "publish", str(tmp_path / "empty"), check=False)
    assert result.returncode == 1 and "no asset.yaml in it or its subfolders" in result.stdout
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: x\n    rules: []\n")
    result = run(live, "publish", str(rules), check=False)
    assert result.returncode == 1 and "not an asset manifest" in result.stdout
    assert "is a prometheus file, not an asset manifest" in result.stdout and "discriminator" not in result.stdout
    assert f"registry import --format prometheus {rules} --owner TEAM --pilot PILOT --publish" in result.stdout
