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
