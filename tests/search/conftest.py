"""Search backends under test: the embedded one always, Meilisearch when MEILISEARCH_URL points at a server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.schemas import AssetDocument
from search.embedded import EmbeddedBackend
from search.interfaces import SearchBackend
from search.meili import MeilisearchBackend

MEILI_URL = os.environ.get("MEILISEARCH_URL")
BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param(
        "meilisearch",
        id="meilisearch",
        marks=pytest.mark.skipif(
            not MEILI_URL, reason="MEILISEARCH_URL is not set: no Meilisearch server to test against"
        ),
    ),
]


def doc(slug: str, **overrides: Any) -> AssetDocument:
    values: dict[str, Any] = {
        "slug": slug,
        "kind": "monitor",
        "title": slug.replace("-", " ").title(),
        "summary": "A reusable asset.",
        "description": "",
        "tags": [],
        "owner": "claims-ai",
        "origin_pilot": "claims-triage-assistant",
        "origin_pilot_name": "Claims triage assistant",
        "lifecycle": "active",
        "successor": None,
        "latest_version": "1.0.0",
        "spec": {},
        "reuse_count": 0,
        "published_at": datetime(2026, 6, 1, tzinfo=UTC),
    }
    values.update(overrides)
    return AssetDocument.model_validate(values)


def days_ago(n: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchBackend]:
    if request.param == "embedded":
        embedded = EmbeddedBackend(tmp_path / "search")
        yield embedded
        await embedded.close()
        return
    meili = MeilisearchBackend(
        str(MEILI_URL), os.environ.get("MEILISEARCH_API_KEY"), index_uid=f"test_{uuid.uuid4().hex[:10]}"
    )
    yield meili
    await meili._wait(await meili._call(meili.client.delete_index, meili.index_uid))
    await meili.close()
