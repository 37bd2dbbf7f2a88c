"""Every real-world native file in ../shared/corpora is stored with a version byte for byte and read back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from catalog.schemas import SYSTEM, parse_manifest
from catalog.services import assets, publishing
from tests.factories import graduated_pilot, manifest

pytestmark = pytest.mark.anyio
CORPORA = Path(__file__).resolve().parents[1] / "corpora"  # copies of ../shared/corpora, with SOURCES.md
RUNNERS = {"promptfoo": "promptfoo", "lm-eval": "lm-eval"}
KIND_OF = {
    "promptfoo": "eval_harness",
    "lm-eval": "eval_harness",
    "haystack": "retrieval_pipeline",
    "prompty": "prompt",
    "prompt-other": "prompt",
    "prometheus-rules": "monitor",
}


async def test_corpus_files_round_trip_as_attached_files(db: object) -> None:
    await graduated_pilot()
    folders = sorted(p for p in CORPORA.iterdir() if p.is_dir() and p.name != "folders")  # real layouts: elsewhere
    assert {f.name for f in folders} == set(KIND_OF)
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.is_file())
        attached = [{"path": f.name, "content": f.read_text(encoding="utf-8")} for f in files]
        slug = f"corpus-{folder.name}"
        body = manifest(KIND_OF[folder.name], slug, files=attached)
        if folder.name in RUNNERS:  # the entry must be an attached file, in the runner's format
            body["spec"]["runner"] = {"type": RUNNERS[folder.name], "entry": files[0].name}
        await publishing.publish_version(parse_manifest(body), SYSTEM)
        version = await assets.get_version(slug, "1.0.0")
        assert [f.path for f in version.files] == sorted(f.name for f in files)
        for stored, original in zip(version.files, files, strict=True):
            raw = original.read_bytes()
            assert stored.content.encode("utf-8") == raw, original.name
            assert stored.sha256 == hashlib.sha256(raw).hexdigest()
            assert stored.size == len(raw)
