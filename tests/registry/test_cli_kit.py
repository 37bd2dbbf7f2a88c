"""`registry kit` against a live server: the kit in the terminal, then the start in one step (pull and adopt)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers import invoke, run, wait_until

PROBLEM = "Answer employee questions about travel policy from the staff handbook"


def kit(env: dict[str, str], *args: str, code: int = 0) -> str:
    """`registry kit` in-process; its stdout (stderr may hold log lines of other tests' logging setups)."""
    result = invoke(env, "kit", *args)
    assert result.exit_code == code, (args, result.output)
    return result.stdout if code == 0 else result.output


def seeded(env: dict[str, str]) -> str:
    run(env, "seed")
    url = env["REGISTRY_URL"]
    assert wait_until(lambda: httpx.get(f"{url}/api/v1/search").json()["total"] == 24)
    return url


def test_kit_prints_the_reading_the_picks_and_why(live: dict[str, str]) -> None:
    seeded(live)
    printed = kit(live, PROBLEM)
    assert printed.startswith("read as: answer questions over a corpus; risks: hallucination, personal data")
    assert "kb-article-retrieval@1.0.0" in printed
    assert (
        "- a question answering pipeline (langchain) from it-support-copilot: your pilot answers questions" in printed
    )
    assert "rag-groundedness-eval" not in printed  # deprecated
    answer = json.loads(kit(live, "Translate manuals into Japanese", "--json"))
    assert all(not s["assets"] and s["note"].startswith("nothing fits translate") for s in answer["sections"])
    corrected = kit(live, PROBLEM, "--pattern", "redact", "--risk", "pii")
    assert corrected.startswith("read as: redact personal data; risks: personal data")
    assert "phi-redaction-prompt" in corrected and "kb-article-retrieval" not in corrected
    assert "did you mean 'redact'" in kit(live, PROBLEM, "--pattern", "redcat", code=1)


def test_kit_with_a_pilot_pulls_the_chosen_picks_and_records_their_adoptions(
    live: dict[str, str], tmp_path: Path
) -> None:
    url = seeded(live)
    folder = tmp_path / "starter"
    took = ["kb-article-retrieval", "rag-answer-quality-eval"]
    result = kit(live, PROBLEM, "--pilot", "motor-fnol-intake", "--pull", str(folder),
                "--take", took[0], "--take", took[1])  # fmt: skip
    for slug in took:
        assert f"adopted    {slug}@1.0.0 by motor-fnol-intake" in result
        assert (folder / slug / "asset.yaml").is_file()
    assert sorted(p.name for p in folder.iterdir()) == sorted(took)
    adoptions = httpx.get(f"{url}/api/v1/adoptions", params={"pilot": "motor-fnol-intake"}).json()["items"]
    from_kit = [a for a in adoptions if a["note"].startswith("starter kit: Answer employee questions")]
    assert sorted(a["asset"] for a in from_kit) == sorted(took)
    # Usage errors say what to do, and change nothing.
    assert "add --pull DIR" in kit(live, PROBLEM, "--pilot", "hr-policy-assistant", code=2)
    unknown = kit(live, PROBLEM, "--pilot", "no-such-pilot", "--pull", str(tmp_path / "other"), code=1)
    assert "no-such-pilot" in unknown
    not_offered = kit(live, PROBLEM, "--pull", str(tmp_path / "other"), "--take", "redis-down", code=2)
    assert "not among the picks" in not_offered
    assert not (tmp_path / "other").exists()
