"""A version's file paths are canonical, so `pull` and archives work for every consumer; a pull that fails
leaves nothing behind and says why in one line."""

from __future__ import annotations

import asyncio
import io
import tarfile
import zipfile
from pathlib import Path

import httpx

from catalog.tables import AssetFile
from tests.conftest import Api
from tests.factories import graduated_pilot, manifest
from tests.helpers import assert_problem, graduate, row_counts, run

BAD_PATHS = {
    ".": "`.` segment",
    "x/": "ends with /",
    "asset.yaml": "writes from the manifest",
    "Asset.Yaml": "writes from the manifest",
    "a/../b": "climbs out",
    "a//b": "empty",
    "/etc/passwd": "absolute",
    "a\\b": "backslash",
    "n" * 256: "256 bytes",
    "next\u0085line": "U+0085",
    "evil\u202etxt.exe": "U+202E",
    "zero\u200bwidth": "U+200B",
    "line\u2028sep": "U+2028",
}
BAD_SETS = {
    ("x", "x/y"): "needs it to be a folder",
    ("Prompt.txt", "prompt.txt"): "case or Unicode form",
    ("caf\u00e9.txt", "cafe\u0301.txt"): "case or Unicode form",
}
ODD_BUT_FINE = ["naïve café/é.txt", "with space.md", ".hidden", "deep/a/b/c/d.txt", "-dash.txt", "é" * 127, "UPPER.TXT"]


def test_every_bad_path_is_a_422_naming_the_path_and_the_rule_and_nothing_is_stored(api: Api) -> None:
    graduate(api)
    before = row_counts()
    for path, rule in BAD_PATHS.items():
        body = manifest(files=[{"path": path, "content": "x"}])
        problem = assert_problem(api.client.post("/api/v1/assets", json=body, headers=api.auth("claims")), 422)
        error = problem["errors"][0]
        assert error["pointer"] == "/files/0/path" and rule in error["detail"], (path, error)
    for paths, rule in BAD_SETS.items():
        body = manifest(files=[{"path": p, "content": "x"} for p in paths])
        problem = assert_problem(api.client.post("/api/v1/assets", json=body, headers=api.auth("claims")), 422)
        assert rule in problem["errors"][0]["detail"] and paths[0] in problem["errors"][0]["detail"]
    assert row_counts() == before


def _publish(env: dict[str, str], files: list[dict[str, str]], version: str = "1.0.0") -> None:
    body = manifest(version=version, files=files)
    headers = {"Authorization": f"Bearer {env['REGISTRY_TOKEN']}"}
    r = httpx.post(f"{env['REGISTRY_URL']}/api/v1/assets", json=body, headers=headers)
    assert r.status_code == 201, r.text


def test_odd_but_valid_paths_pull_byte_for_byte(live: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(graduated_pilot())
    _publish(live, [{"path": p, "content": f"content of {p}\n"} for p in ODD_BUT_FINE])
    run(live, "pull", "claims-triage-prompt", str(tmp_path / "out"))
    for path in ODD_BUT_FINE:
        assert (tmp_path / "out" / path).read_text() == f"content of {path}\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.pull-")]


def test_a_pull_that_cannot_finish_leaves_nothing_and_no_traceback(live: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(graduated_pilot())
    _publish(live, [{"path": "prompts/a.txt", "content": "a"}, {"path": "legacy.txt", "content": "b"}])
    work = tmp_path / "work"
    work.mkdir()
    blocker = work / "file"
    blocker.write_text("not a folder")
    failed = run(live, "pull", "claims-triage-prompt", str(blocker / "out"), check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr and "could not write" in failed.stderr
    assert [p.name for p in work.iterdir()] == ["file"]

    async def legacy() -> None:  # what a version published before the path rules could hold
        await AssetFile.update({AssetFile.path: "asset.yaml"}).where(AssetFile.path == "legacy.txt")

    asyncio.run(legacy())
    refused = run(live, "pull", "claims-triage-prompt", str(work / "out"), check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "'asset.yaml' is asset.yaml" in refused.stderr and "nothing was written" in refused.stderr
    assert [p.name for p in work.iterdir()] == ["file"]
    base = f"{live['REGISTRY_URL']}/api/v1/assets/claims-triage-prompt/versions/1.0.0/archive"
    names = zipfile.ZipFile(io.BytesIO(httpx.get(base, params={"format": "zip"}).content)).namelist()
    assert len(names) == len(set(names)) == 2
    with tarfile.open(fileobj=io.BytesIO(httpx.get(base, params={"format": "tar.gz"}).content)) as archive:
        members = archive.getnames()
    assert len(members) == len(set(members)) == 2
