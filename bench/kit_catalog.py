"""The catalog the starter kit is judged on: the seed plus every file of `../shared/corpora` imported and published.

The public files come from open-source projects, not from a pilot of ours; they are published as the work of one
graduated pilot, `open-source-examples`, owned by the team `oss`, the way a platform team would bring them in.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from catalog.db import make_engine, migrate
from catalog.native.importing import ImportOptions, import_paths
from catalog.schemas import SYSTEM, AssetDocument, GateRequest, PilotRequest
from catalog.seeding import seed_catalog
from catalog.services import batch, pilots
from catalog.services.indexing import all_asset_documents
from registry.settings import SEED_DIR

__all__ = ["CORPORA", "PUBLIC_PILOT", "kit_catalog", "load_kit_catalog"]

CORPORA = Path(__file__).resolve().parents[1] / "tests" / "corpora"  # copies of ../shared/corpora
PUBLIC_PILOT = "open-source-examples"
_EVIDENCE: dict[int, dict[str, object]] = {
    1: {},
    2: {
        "metric": "examples reviewed",
        "before": 0,
        "after": 120,
        "workflow": "Platform team review of public examples",
    },
    3: {
        "slo": "Reviewed examples are published within a week of their upstream release",
        "data_lineage": "Files are copied from public repositories at a recorded commit",
        "incident_response": "The platform team yanks an example that upstream withdraws",
        "cost_controls": "No model calls: the examples are files, reviewed by people",
        "rollback_plan": "A yanked example stays readable; adopters are told by webhook",
    },
    4: {"active_users": 12, "usage_frequency": "weekly", "metric_value": 120},
}


async def _public_pilot() -> None:
    request = {
        "slug": PUBLIC_PILOT,
        "name": "Open-source examples",
        "team": "oss",
        "budget_owner": "Head of AI Platform",
        "problem": "New pilots rebuild eval, prompt and monitoring examples that open-source projects already publish.",
        "baseline": {"metric": "examples reviewed", "value": 0, "unit": "examples"},
        "target": {"metric": "examples reviewed", "value": 100, "unit": "examples"},
        "value_per_month": {"amount": 40, "unit": "hours"},
    }
    await pilots.create_pilot(PilotRequest.model_validate(request), SYSTEM)
    for stage in range(1, 5):
        gate = {"stage": stage, "decision": "commit", "decided_by": "AI platform board", "evidence": _EVIDENCE[stage]}
        await pilots.decide_gate(PUBLIC_PILOT, GateRequest.model_validate(gate), SYSTEM)


def _folders(corpora: Path) -> list[Path]:
    """The flat corpus folders the judgements were made on (`folders/` holds real layouts added later)."""
    return sorted(p for p in corpora.iterdir() if p.is_dir() and p.name != "folders")


async def kit_catalog(workdir: Path, corpora: Path = CORPORA) -> tuple[list[AssetDocument], list[str]]:
    """Build the catalog on a scratch SQLite file; its documents, and the corpus files that could not be published."""
    await migrate(make_engine(None, workdir))
    refused = await load_kit_catalog(corpora)
    return [d async for page in all_asset_documents() for d in page], refused


async def load_kit_catalog(corpora: Path = CORPORA) -> list[str]:
    """Seed and publish the corpora into the catalog in use (an empty one); the files that could not be published."""
    await seed_catalog(SEED_DIR)
    await _public_pilot()
    options = ImportOptions(owner="oss", pilot=PUBLIC_PILOT, allow_missing_includes=True)
    refused: list[str] = []
    for folder in await anyio.to_thread.run_sync(_folders, corpora):  # one import per folder, as a team runs it
        try:
            imported = import_paths([folder], options).imported
        except Exception as err:  # a folder the importer refuses is reported, not fatal to the benchmark
            refused.append(f"{folder.name}: {err}")
            continue
        result = await batch.publish_batch([i.manifest for i in imported], SYSTEM)
        refused += [f"{imported[r.index].origin}: {r.problem}" for r in result.results if r.status == "failed"]
    return refused
