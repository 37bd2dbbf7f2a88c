"""Every task from the CLI alone, and every command fed bad input: one line saying what is wrong, exit 1 or 2,
never a traceback. Commands run in-process (Click's runner) against a live `registry serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

from registry.cli.main import cli
from tests.helpers import invoke, ok, refused


def commands(group: click.Group, path: list[str]) -> Iterator[list[str]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, [*path, name])
        else:
            yield [*path, name]


def test_every_command_refuses_an_unknown_option_with_usage(tmp_path: Path) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_URL": "http://127.0.0.1:9"}
    for args in commands(cli, []):
        output = refused(env, *args, "--no-such-option", code=2)
        assert "No such option" in output, args
        assert "Exit codes: 0 ok" in ok(env, *args, "--help"), args


def test_input_files_are_one_line_errors(tmp_path: Path) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_URL": "http://127.0.0.1:9", "REGISTRY_TOKEN": "x"}
    broken = tmp_path / "broken.yaml"
    broken.write_text("slug: x\n  name: [\n")
    listed = tmp_path / "listed.yaml"
    listed.write_text("- slug: x\n- slug: y\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for bad, says in [(broken, "broken.yaml:2:7"), (listed, "must be a mapping"), (binary, "not UTF-8")]:
        assert says in refused(env, "pilot", "create", str(bad)), bad
        gate = ["pilot", "gate", "p", "--stage", "3", "--decision", "commit", "--decided-by", "x"]
        assert says in refused(env, *gate, "--evidence-file", str(bad)), bad
        assert says in refused(env, "pilot", "update", "p", "--file", str(bad)), bad
    assert "broken.yaml:2:7" in refused(env, "publish", str(broken))
    as_json = invoke(env, "publish", "--json", str(broken), str(tmp_path))
    assert as_json.exit_code == 1
    assert [r["status"] for r in json.loads(as_json.stdout)] == ["failed", "failed"]  # the file, the empty folder
    assert "is not KEY=VALUE" in refused(env, *gate, "--evidence", "novalue", code=2)
    assert "SLUG@VERSION" in refused(env, "yank", "no-version", "--reason", "x", code=2)
    assert "nothing to update" in refused(env, "pilot", "update", "p", code=2)
    assert "cannot reach the registry" in refused(env, "asset", "list")
    assert "not a backup" in refused(env, "backup", "restore", str(binary))


def test_a_new_user_does_every_task_from_the_cli(live: dict[str, str]) -> None:
    ok(live, "seed")
    assets = json.loads(ok(live, "asset", "list", "--kind", "prompt", "--json"))
    assert assets["total"] >= 4 and {a["kind"] for a in assets["items"]} == {"prompt"}
    table = ok(live, "asset", "list", "--owner", "claims-ai")
    assert "claims-faithfulness-eval" in table  # a slug is never cut, even piped at 80 columns
    shown = ok(live, "asset", "show", "claims-triage-prompt")
    assert "production -> 1.1.0" in shown and "motor-fnol-intake" in shown
    version = ok(live, "version", "show", "claims-triage-prompt@1.1.0")
    assert "depends on claims-faithfulness-eval" in version and "source: repo=" in version
    pilots = ok(live, "pilot", "list", "--status", "active")
    assert "aml-alert-triage" in pilots and "stalled" in pilots
    assert "gate 1 commit" in ok(live, "pilot", "show", "aml-alert-triage")

    pilot_file = Path(live["REGISTRY_DATA_DIR"]) / "new-pilot.yaml"
    pilot_file.write_text(
        "slug: doc-summaries\nname: Document summaries\nteam: claims-ai\nproblem: Adjusters read 40-page reports.\n"
    )
    ok(live, "pilot", "create", str(pilot_file))
    refused(live, "pilot", "gate", "doc-summaries", "--stage", "1", "--decision", "commit", "--decided-by", "board")
    ok(live, "pilot", "update", "doc-summaries", "--budget-owner", "Head of Claims",
       "--baseline", "reading minutes", "45", "min", "--target", "reading minutes", "15", "min")  # fmt: skip
    ok(live, "pilot", "gate", "doc-summaries", "--stage", "1", "--decision", "commit", "--decided-by", "board")
    gate2 = ["pilot", "gate", "doc-summaries", "--stage", "2", "--decision", "commit", "--decided-by", "board",
             "--evidence", "metric=reading minutes", "--evidence", "before=45", "--evidence", "after=20",
             "--evidence", "workflow=Motor claims over 10k, shadow run for two weeks."]  # fmt: skip
    ok(live, *gate2)
    gate3 = ["pilot", "gate", "doc-summaries", "--stage", "3", "--decision", "commit", "--decided-by", "PRR",
             "--evidence", "data_lineage=yes"]  # fmt: skip
    wrong = refused(live, *gate3)
    assert "valid string" not in wrong and "/evidence/data_lineage" in wrong  # read as text, judged as a sentence

    adopted = ok(live, "adopt", "claims-triage-prompt@1.0.0", "--pilot", "doc-summaries")
    assert "1.1.0 is available" in adopted
    listing = json.loads(ok(live, "adoption", "list", "--pilot", "doc-summaries", "--json"))
    adoption_id = str(listing["items"][0]["id"])
    yanked = json.loads(ok(live, "yank", "claims-triage-prompt@1.0.0", "--reason", "wrong urgency rules", "--json"))
    assert yanked["yanked"] is True and yanked["yanked_reason"] == "wrong urgency rules"
    assert "was yanked" in ok(live, "adoption", "list", "--pilot", "doc-summaries")
    ok(live, "adoption", "retire", adoption_id, "--reason", "moved to 1.1.0")
    assert "already retired" in refused(live, "adoption", "retire", adoption_id)
    ok(live, "deprecate", "rag-groundedness-eval", "--reason", "superseded again", "--successor",
       "rag-answer-quality-eval")  # fmt: skip
    assert "deprecated" in ok(live, "asset", "show", "rag-groundedness-eval")
    mistyped = refused(live, "asset", "show", "claims-triage-promt")  # not found: suggested like the web 404
    assert "did you mean claims-triage-prompt" in mistyped
    assert "its versions: 1.1.0, 1.0.0" in refused(live, "version", "show", "claims-triage-prompt@1.2.0")
    assert "did you mean doc-summaries" in refused(live, "pilot", "show", "doc-sumaries")


def test_client_commands_refuse_what_the_registry_refuses(live: dict[str, str]) -> None:
    for args, says in [
        (["asset", "show", "no-such-asset"], "no asset is named"),
        (["version", "show", "claims-triage-prompt@9.9.9"], "no asset is named"),
        (["yank", "no-such-asset@1.0.0", "--reason", "gone"], "no asset is named"),
        (["deprecate", "no-such-asset", "--reason", "gone"], "no asset is named"),
        (["adoption", "retire", "999999"], "no adoption has id 999999"),
        (["pilot", "show", "no-such-pilot"], "no-such-pilot"),
        (["pilot", "update", "no-such-pilot", "--name", "X"], "no-such-pilot"),
        (["pilot", "update", "p1", "--value-per-month", "3", "euros"], "/value_per_month/unit"),
        (["adopt", "no-such-asset", "--pilot", "p1"], "no asset is named"),
        (["label", "show", "no-such-asset", "production"], "no asset is named"),
        (["diff", "no-such-asset", "1.0.0", "1.1.0"], "no asset is named"),
        (["log", "--action", "DROP"], "/query/action"),
        (["webhook", "deliveries", "999"], "no webhook has id 999"),
        (["asset", "list", "--tag", "%"], "0 assets"),
    ]:
        result = invoke(live, *args)
        assert "Traceback" not in result.output, args
        assert says in result.output, (args, result.output)
