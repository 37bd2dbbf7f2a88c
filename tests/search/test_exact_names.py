"""An exact name leads the embedded backend's results; related assets follow it, those matching every word first."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.interfaces import SearchQuery
from tests.search.conftest import doc

pytestmark = pytest.mark.anyio

PILOT = {"origin_pilot": "intake", "origin_pilot_name": "Intake"}  # a pilot name sharing no word with the queries
CATALOG = [
    doc("claims-intake-router", **PILOT, kind="prompt", title="Claims intake router",
        summary="Claims triage prompt for claims routing: triage every claim by its prompt.", reuse_count=9),
    doc("claims-triage-prompt", **PILOT, kind="prompt", title="Claims triage prompt", summary="Routes claims."),
    doc("triage-queue-monitor", **PILOT, title="Triage queue monitor", summary="Claims waiting for triage."),
    doc("claims-summary-prompt", **PILOT, kind="prompt", title="Claims summary prompt", summary="Summarizes a claim."),
    doc("fraud-score-prompt", **PILOT, kind="prompt", title="Fraud score prompt", summary="Scores fraud risk."),
]  # fmt: skip


async def names(backend: EmbeddedBackend, q: str, **more: object) -> list[str]:
    found = await backend.search(SearchQuery.model_validate({"q": q, "limit": 100, **more}))
    return [hit.slug for hit in found.hits]


async def test_a_slug_or_a_title_typed_exactly_comes_first_then_related_assets(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    await backend.upsert(CATALOG)
    for typed in ("claims-triage-prompt", "Claims triage prompt", "claims triage prompt"):
        found = await names(backend, typed)
        assert found[0] == "claims-triage-prompt", (typed, found)
        assert found[1] == "claims-intake-router", (typed, found)  # it holds every word too
        # then the page fills as Meilisearch's "last" strategy does: the first words without the last
        assert {"claims-summary-prompt", "triage-queue-monitor"} <= set(found[2:]), (typed, found)
    assert (await names(backend, "Triage queue monitor"))[0] == "triage-queue-monitor"  # by title
    # Not an exact name: the assets matching every word, then the first words (the last dropped first), fill the page.
    assert set(await names(backend, "claims triage scores")) >= {"claims-triage-prompt", "fraud-score-prompt"}
    # Filters still apply to the exact asset.
    assert "claims-triage-prompt" not in await names(backend, "claims-triage-prompt", kind="monitor")
    assert (await names(backend, "claims triage prompt", offset=1))[:1] == ["claims-intake-router"]
    await backend.close()
