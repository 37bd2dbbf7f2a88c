"""The `registry` CLI against a live server (a real `registry serve` process), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import click
import httpx
import pytest
import yaml

from registry.settings import SEED_DIR
from tests.conftest import PG_URL, Database
from tests.factories import manifest
from tests.helpers import ADMIN, free_port, run, serving

GRADUATED = ["claims-triage-assistant", "kyc-document-review", "clinical-coding-assistant", "it-support-copilot"]


def test_several_workers_start_on_a_fresh_data_dir(tmp_path: Path) -> None:
    """Every worker migrates on start; the migration lock lets exactly one do it (SQLite here, an advisory
    lock on PostgreSQL)."""
    port = free_port()
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path / "fresh"), "REGISTRY_PORT": str(port),
           "REGISTRY_URL": f"http://127.0.0.1:{port}", "REGISTRY_ADMIN_TOKEN": ADMIN}  # fmt: skip
    env.pop("REGISTRY_DATABASE_URL", None)
    with serving(env, tmp_path / "server.log", "--workers", "2"):
        assert httpx.get(f"{env['REGISTRY_URL']}/api/v1/assets").json()["total"] >= 24
    assert "Traceback" not in (tmp_path / "server.log").read_text()


@pytest.mark.skipif(not PG_URL, reason="REGISTRY_TEST_POSTGRES_URL is not set (make test sets it)")
def test_several_workers_start_on_a_fresh_postgres_database(tmp_path: Path) -> None:
    """On PostgreSQL the migration lock is an advisory lock: two workers on an empty database, one migrates."""
    base, _, name = str(PG_URL).rpartition("/")

    async def fresh() -> None:
        connection = await asyncpg.connect(str(PG_URL))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}_two_workers"')
            await connection.execute(f'CREATE DATABASE "{name}_two_workers"')
        finally:
            await connection.close()

    asyncio.run(fresh())
    port = free_port()
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path / "fresh"), "REGISTRY_PORT": str(port),
           "REGISTRY_URL": f"http://127.0.0.1:{port}", "REGISTRY_ADMIN_TOKEN": ADMIN,
           "REGISTRY_DATABASE_URL": f"{base}/{name}_two_workers"}  # fmt: skip
    with serving(env, tmp_path / "server.log", "--workers", "2"):
        assert httpx.get(f"{env['REGISTRY_URL']}/api/v1/assets").json()["total"] >= 24
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_a_weak_admin_token_stops_the_start_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_ADMIN_TOKEN": "a"}
    result = run(env, "serve", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "REGISTRY_ADMIN_TOKEN must have at least 32 characters" in result.stderr


def graduate_with_cli(env: dict[str, str], slug: str, tmp_path: Path) -> None:
    data = yaml.safe_load((SEED_DIR / "pilots" / f"{slug}.yaml").read_text())
    run(env, "pilot", "create", str(SEED_DIR / "pilots" / f"{slug}.yaml"))
    for i, gate in enumerate(data["gates"]):
        evidence = tmp_path / f"{slug}-{i}.yaml"
        evidence.write_text(yaml.safe_dump(gate.get("evidence", {})))
        args = ["pilot", "gate", slug, "--stage", str(gate["stage"]), "--decision", gate["decision"]]
        args += ["--decided-by", gate["decided_by"], "--notes", gate.get("notes", ""), "--evidence-file", str(evidence)]
        run(env, *args)


def graduate_over_http(env: dict[str, str], slug: str) -> None:
    data = yaml.safe_load((SEED_DIR / "pilots" / f"{slug}.yaml").read_text())
    gates = data.pop("gates")
    data.pop("created_at")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=env["REGISTRY_URL"], headers=headers) as client:
        assert client.post("/api/v1/pilots", json=data).status_code == 201
        for gate in gates:
            gate.pop("decided_at")
            assert client.post(f"/api/v1/pilots/{slug}/gates", json=gate).status_code == 201


def test_publish_every_seed_asset_over_http(live: dict[str, str], tmp_path: Path) -> None:
    for slug in GRADUATED:
        graduate_over_http(live, slug)
    manifests = sorted((SEED_DIR / "assets").rglob("asset.yaml"))
    assert len(manifests) >= 24
    result = run(live, "publish", str(SEED_DIR / "assets"))
    lines = result.stdout.strip().splitlines()
    created = [line for line in lines if line.startswith("created")]
    assert len(created) == len(manifests), result.stdout
    assert any("claims-triage-prompt@1.0.0" in line for line in created)
    listed = httpx.get(f"{live['REGISTRY_URL']}/api/v1/assets", params={"limit": 100}).json()
    kinds = {a["kind"] for a in listed["items"]}
    assert kinds == {"prompt", "eval_harness", "retrieval_pipeline", "monitor"}
    version = httpx.get(f"{live['REGISTRY_URL']}/api/v1/assets/claims-faithfulness-eval/versions/1.0.0").json()
    native = (SEED_DIR / "assets" / "claims-faithfulness-eval" / "promptfooconfig.yaml").read_text()
    assert version["files"][0]["content"] == native

    again = run(live, "publish", str(SEED_DIR / "assets" / "claims-triage-prompt"))
    assert again.stdout.startswith("unchanged  claims-triage-prompt@1.1.0")

    deadline = time.monotonic() + 20
    while "pii-leak-monitor" not in (found := run(live, "search", "personal", "data")).stdout:
        assert time.monotonic() < deadline, found.stdout
        time.sleep(0.2)
    as_json = json.loads(run(live, "search", "--kind", "monitor", "--json", "latncy").stdout)
    assert as_json["hits"][0]["slug"] == "llm-latency-slo-monitor"
    status = json.loads(run(live, "search", "status", "--json").stdout)
    assert status["healthy"] and status["documents"] == len([p for p in (SEED_DIR / "assets").iterdir() if p.is_dir()])


def test_publish_reports_each_failure_and_exits_non_zero(live: dict[str, str], tmp_path: Path) -> None:
    graduate_over_http(live, "claims-triage-assistant")
    good = SEED_DIR / "assets" / "pii-leak-monitor"
    bad = tmp_path / "bad"
    bad.mkdir()
    manifest = yaml.safe_load((good / "asset.yaml").read_text())
    manifest.update(slug="broken-monitor", files=[])
    manifest["spec"]["condition"]["window"] = "soon"
    (bad / "asset.yaml").write_text(yaml.safe_dump(manifest))
    result = run(live, "publish", str(good), str(bad), check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("created    pii-leak-monitor@1.0.0")
    assert lines[1].startswith("failed     broken-monitor@1.0.0")
    assert "/spec/condition" in result.stdout and "'5m'" in result.stdout
    assert "1 of 2 failed" in result.stderr


def test_tokens_scopes_and_adoption_from_the_cli(live: dict[str, str], tmp_path: Path) -> None:
    graduate_with_cli(live, "claims-triage-assistant", tmp_path)
    graduate_over_http(live, "it-support-copilot")
    created = run(live, "token", "create", "--team", "claims-ai", "--scope", "publish", "--name", "ci-claims")
    token = created.stdout.strip()
    assert token.startswith("reg_") and "\n" not in token
    claims = {**live, "REGISTRY_TOKEN": token}
    run(claims, "publish", str(SEED_DIR / "assets" / "pii-leak-monitor"))
    denied = run(claims, "publish", str(SEED_DIR / "assets" / "kb-article-retrieval"), check=False)
    assert denied.returncode == 1 and "owned by team 'itops-ai'" in denied.stdout

    no_scope = run(claims, "adopt", "pii-leak-monitor@1.0.0", "--pilot", "it-support-copilot", check=False)
    assert no_scope.returncode == 1 and "`adopt` scope" in no_scope.stderr
    adopted = run(
        live, "adopt", "pii-leak-monitor", "--pilot", "it-support-copilot", "--mode", "adapted", "--hours-saved", "16"
    )
    assert "it-support-copilot adopted pii-leak-monitor@1.0.0 (adapted)" in adopted.stdout

    listing = run(live, "token", "list", "--json")
    token_id = next(t["id"] for t in yaml.safe_load(listing.stdout) if t["name"] == "ci-claims")
    assert token not in listing.stdout
    run(live, "token", "revoke", str(token_id))
    revoked = run(claims, "publish", str(SEED_DIR / "assets" / "pii-leak-monitor"), check=False)
    assert revoked.returncode == 1 and "unknown or revoked" in revoked.stdout + revoked.stderr


def test_client_commands_explain_an_unreachable_server(tmp_path: Path) -> None:
    env = {**os.environ, "REGISTRY_URL": f"http://127.0.0.1:{free_port()}", "REGISTRY_TOKEN": "x"}
    result = run(env, "adopt", "a@1.0.0", "--pilot", "p", check=False)
    assert result.returncode == 1 and "cannot reach the registry" in result.stderr


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from registry.cli.main import cli

    def walk(group: click.Group, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from walk(command, [*path, name])
            else:
                yield [*path, name]

    commands = list(walk(cli, []))
    assert ["publish"] in commands and ["token", "revoke"] in commands and ["db", "migrate"] in commands
    for args in commands:
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, args
        assert len(result.output.splitlines()) > 3, args


def test_report_formats_agree(live: dict[str, str]) -> None:
    run(live, "seed")  # an admin command on the server's database
    period = ["--since", "2025-11-25", "--until", "2026-11-25"]
    as_json = json.loads(run(live, "report", "reuse", *period, "--format", "json").stdout)
    csv_text = run(live, "report", "reuse", *period, "--format", "csv").stdout
    table = run(live, "report", "reuse", *period).stdout
    from registry.reporting import parse_csv

    figures = {r["figure"]: r["value"] for r in parse_csv(csv_text)["summary"]}
    assert int(figures["adoptions"]) == as_json["summary"]["adoptions"] > 0
    assert f"│ adoptions                  │ {as_json['summary']['adoptions']}" in table
    for title in ("by kind", "by origin pilot", "stale", "at risk", "demand"):
        assert title in table
    assert "contract clause extraction" in table


def test_backup_export_then_restore_into_an_empty_database(db: Database, tmp_path: Path) -> None:
    """A SQLite catalog exported and restored (into SQLite, or into PostgreSQL): the same rows, and searchable.

    A NUL that an older registry let into SQLite is replaced (PostgreSQL cannot store it); a file cut short
    at a line boundary, or altered, is refused with one line saying what is wrong."""
    source = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path / "source")}
    source.pop("REGISTRY_DATABASE_URL", None)
    run(source, "db", "migrate")  # seed acts on an existing catalog only
    run(source, "seed")
    with sqlite3.connect(tmp_path / "source" / "registry.sqlite") as raw:
        raw.execute("UPDATE pilot SET problem = problem || char(0) || ' (legacy)' WHERE id = 1")
    backup = tmp_path / "catalog.jsonl"
    run(source, "backup", "export", str(backup))
    lines = backup.read_text().splitlines()

    target = {**os.environ, "REGISTRY_DATA_DIR": str(tmp_path / "target")}
    if db.name == "postgres":
        target["REGISTRY_DATABASE_URL"] = db.url
    else:
        target.pop("REGISTRY_DATABASE_URL", None)
    broken = {
        "cut short": lines[:-40],
        "cut before the end line": lines[:-1],
        "a row removed": lines[:30] + lines[31:],
        "altered": [line.replace("Claims", "Clams") for line in lines],
        "damaged row": [*lines[:5], lines[5].replace('"id": ', '"id": "x', 1), *lines[6:]],
    }
    for name, content in broken.items():
        damaged = tmp_path / "damaged.jsonl"
        damaged.write_text("\n".join(content) + "\n")
        refused = run(target, "backup", "restore", str(damaged), check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, (name, refused.stderr)
        assert "cannot be restored: line" in refused.stderr, (name, refused.stderr)
    assert "cut short" in refused.stderr or "cannot be stored" in refused.stderr or "not JSON" in refused.stderr

    restored = run(target, "backup", "restore", str(backup))
    assert "24 assets indexed for search" in restored.stdout
    assert "replaced 1 NUL characters" in restored.stderr
    again = [json.loads(line) for line in run(target, "backup", "export").stdout.splitlines()[1:-1]]
    original = [json.loads(line.replace("\\u0000", "\\ufffd")) for line in lines[1:-1]]
    for before, after in zip(original, again, strict=True):
        assert before == after, (before, after)
    refused = run(target, "backup", "restore", str(backup), check=False)
    assert refused.returncode != 0 and "empty catalog" in refused.stderr


def batch_requests(env: dict[str, str]) -> tuple[float, float]:
    """Publish requests the server has answered: (batches, one-version publishes)."""
    text = httpx.get(f"{env['REGISTRY_URL']}/metrics").text
    count = {"batch": 0.0, "single": 0.0}
    for line in text.splitlines():
        if line.startswith("registry_requests_total") and 'method="POST"' in line:
            if 'path="/api/v1/assets/batch"' in line:
                count["batch"] += float(line.split()[-1])
            elif 'path="/api/v1/assets"' in line:
                count["single"] += float(line.split()[-1])
    return count["batch"], count["single"]


def test_publishing_a_thousand_assets_goes_in_batches_with_a_line_each(live: dict[str, str], tmp_path: Path) -> None:
    graduate_over_http(live, "claims-triage-assistant")
    for n in range(1001):
        folder = tmp_path / "many" / f"prompt-{n}"
        folder.mkdir(parents=True)
        body = manifest(slug=f"many-prompt-{n}", files=[{"path": "prompt.txt", "content": f"Prompt {n}\n"}])
        (folder / "asset.yaml").write_text(yaml.safe_dump(body))
    before = batch_requests(live)
    result = run(live, "publish", str(tmp_path / "many"))
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1001 and all(line.startswith("created    many-prompt-") for line in lines)
    after = batch_requests(live)
    assert (after[0] - before[0], after[1] - before[1]) == (2, 0)  # 1,000 then 1: no request per asset
