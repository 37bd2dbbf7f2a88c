"""`registry import --publish` and `registry export` against a live server: the notes' assets in, originals out."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers import run

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
RULES = CORPORA / "prometheus-rules" / "samber__awesome-prometheus-alerts__dist__rules__python__python-exporter.yml"
CONFIG = CORPORA / "promptfoo" / "promptfoo__promptfoo__examples__getting-started__promptfooconfig.yaml"


def test_import_publish_then_export_gives_the_original_back(live: dict[str, str], tmp_path: Path) -> None:
    run(live, "seed")
    owner, pilot = ["--owner", "claims-ai"], ["--pilot", "claims-triage-assistant"]  # a graduated seed pilot
    dry = run(live, "import", "--format", "auto", *owner, *pilot, "--dry-run", "--json", str(RULES), str(CONFIG))
    manifests = json.loads(dry.stdout)
    assert [m["kind"] for m in manifests] == ["monitor"] * 5 + ["eval_harness"]
    assert manifests[0]["files"][0] == {"path": RULES.name, "content": RULES.read_text(encoding="utf-8")}
    published = run(live, "import", *owner, *pilot, "--publish", str(RULES), str(CONFIG))
    lines = published.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("created") for line in lines), published.stdout
    again = run(live, "import", *owner, *pilot, "--publish", str(RULES))
    assert all(line.startswith("unchanged") for line in again.stdout.splitlines())
    for slug, original in (("python-virtual-memory-high", RULES), ("getting-started", CONFIG)):
        target = tmp_path / f"{slug}.out"
        run(live, "export", f"{slug}@1.0.0", "-o", str(target))
        assert target.read_bytes() == original.read_bytes()
    generated = run(live, "export", "python-gc-collections-high", "--regenerate", "-o", "-")
    assert generated.stdout.startswith("groups:\n- name: PythonExporter\n")
    out = run(live, "import", *owner, *pilot, "--out", str(tmp_path / "folders"), str(RULES))
    assert "wrote" in out.stdout
    republished = run(live, "publish", str(tmp_path / "folders"))
    assert all(line.startswith("unchanged") for line in republished.stdout.splitlines()), republished.stdout
    refused = run(live, "import", *owner, "--pilot", "no-such-pilot", "--publish", str(CONFIG), check=False)
    assert refused.returncode == 1 and "1 of 1 asset(s) refused" in refused.stderr
    asset = httpx.get(f"{live['REGISTRY_URL']}/api/v1/assets/python-virtual-memory-high").json()
    assert asset["origin_pilot"]["slug"] == "claims-triage-assistant"


def test_a_folder_of_real_layouts_imports_and_publishes_every_asset(live: dict[str, str], tmp_path: Path) -> None:
    """lm-eval includes, promptfoo file:// tests and prompts.txt, Dotprompt helpers and partials, Grafana recording
    rules: what the dry run proposes is what publishes, and every original comes back byte for byte. A bad file
    fails only itself."""
    run(live, "seed")
    owner, pilot = ["--owner", "claims-ai"], ["--pilot", "claims-triage-assistant"]
    folder = CORPORA / "folders"
    dry = json.loads(run(live, "import", *owner, *pilot, "--dry-run", "--json", str(folder)).stdout)
    published = run(live, "import", *owner, *pilot, "--publish", str(folder))
    lines = published.stdout.splitlines()
    assert len(lines) == len(dry) >= 20 and all(line.startswith("created") for line in lines), published.stdout
    assert "skipped    " in published.stderr and "with-target-datasource.yml: nothing to import" in published.stderr
    assert "attached   " in published.stderr and "tests.csv: to a-translator-built-with-llm" in published.stderr
    with httpx.Client(base_url=live["REGISTRY_URL"]) as client:  # the export the CLI calls, without a process each
        for manifest in dry:
            original = next(f for f in manifest["files"] if f["path"] == manifest["spec"]["native"]["path"])
            exported = client.get(f"/api/v1/assets/{manifest['slug']}/versions/1.0.0/export")
            assert exported.headers["X-Registry-Export"] == "original", manifest["slug"]
            assert exported.content == original["content"].encode("utf-8"), manifest["slug"]

    # One bad file fails only itself (exit 1 at the end), unless --all-or-nothing.
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "rules.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n"
    )
    (tmp_path / "bad" / "promptfooconfig.yaml").write_bytes(CONFIG.read_bytes())
    strict = run(live, "import", *owner, *pilot, "--all-or-nothing", "--publish", str(tmp_path / "bad"), check=False)
    assert strict.returncode == 1 and strict.stdout == "" and "nothing imported (--all-or-nothing)" in strict.stderr
    result = run(live, "import", *owner, *pilot, "--publish", str(tmp_path / "bad"), check=False)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("created    getting-started@1.0.0")
    assert "failed     " in result.stderr and "rules.yml" in result.stderr
