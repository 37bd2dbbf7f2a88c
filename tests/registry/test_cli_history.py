"""`registry log`, `diff`, `label` and `webhook` against a live server on the seed catalog."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from registry.cli.main import cli


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(env: dict[str, str], *args: str, check: bool = True) -> Any:
    """The command in this process (Click's runner) against the live server: fast, and still over HTTP."""
    result = CliRunner().invoke(cli, list(args), env=env)
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    assert not check or ran.returncode == 0, (args, result.output, result.exception)
    return ran


def test_history_from_the_cli(live: dict[str, str]) -> None:
    run(live, "seed")
    entries = json.loads(run(live, "log", "--asset", "claims-triage-prompt", "--limit", "500", "--json").stdout)
    assert entries and {e["asset"] for e in entries} == {"claims-triage-prompt"}
    table = run(live, "log", "--pilot", "motor-fnol-intake", "--action", "pilot.gate", "--limit", "3").stdout
    assert "pilot.gate" in table and "pilot:motor-fnol-intake" in table  # whole subjects, even piped
    wrong = run(live, "log", "--since", "yesterday", check=False)
    assert wrong.returncode == 1 and "/query/since" in wrong.stderr and "Traceback" not in wrong.stderr

    diff = run(live, "diff", "claims-triage-prompt", "1.0.0", "1.1.0").stdout
    assert "BREAKING the variable set changed; added: policy_notes" in diff
    assert "+ {{policy_notes}} [policy_notes]" in diff and "- Read the claim below and classify it." in diff
    missing = run(live, "diff", "claims-triage-prompt", "1.0.0", "7.0.0", check=False)
    assert missing.returncode == 1 and "no version '7.0.0'" in missing.stderr

    run(live, "label", "set", "claims-triage-prompt", "production", "1.0.0", "--reason", "roll back")
    middle = json.loads(run(live, "label", "show", "claims-triage-prompt", "production", "--json").stdout)
    run(live, "label", "set", "claims-triage-prompt", "production", "1.1.0", "--reason", "fixed")
    then = run(live, "label", "show", "claims-triage-prompt", "production", "--at", middle["moved_at"]).stdout
    assert "production -> 1.0.0" in then and "roll back" in then
    history = run(live, "label", "history", "claims-triage-prompt", "production").stdout
    assert "roll back" in history and "fixed" in history
    run(live, "label", "rm", "claims-triage-prompt", "production", "--reason", "sunset")
    gone = run(live, "label", "show", "claims-triage-prompt", "production", check=False)
    assert gone.returncode == 1 and "has no label 'production'" in gone.stderr

    refused = run(live, "webhook", "create", "--url", "http://127.0.0.1:9/x", "--event", "version.yanked", check=False)
    assert refused.returncode == 1 and "private" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads(run(live, "webhook", "list", "--json").stdout) == []
