"""A backup carries the fingerprint of the webhook key (never the key); a registry restored or started with
another key than its subscriptions were created with says so, on stderr, in its log and on /readyz."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from litestar.testing import TestClient

from catalog.db import make_engine, migrate, use_engine
from catalog.schemas import WebhookRequest
from catalog.services import webhooks
from registry.app import create_app
from registry.settings import Settings
from registry.workers.webhooks import webhook_key
from tests.factories import CLAIMS
from tests.helpers import admin


async def _subscribed_catalog(folder: Path) -> bytes:
    """A catalog in `folder/var` with one subscription, made with that data dir's own webhook key."""
    settings = Settings.model_validate({"data_dir": folder / "var"})
    await migrate(make_engine(None, settings.data_dir))
    key = webhook_key(settings)
    request = WebhookRequest.model_validate({"url": "https://hooks.example.org/x", "events": ["asset.published"]})
    await webhooks.create_webhook(request, CLAIMS, key)
    return key


def _readyz(settings: Settings) -> dict[str, object]:
    with TestClient(app=create_app(settings, start_tasks=False)) as client:
        body: dict[str, object] = client.get("/readyz").json()
    return body


def test_a_backup_restored_with_another_key_warns_until_the_key_is_set(tmp_path: Path) -> None:
    key = asyncio.run(_subscribed_catalog(tmp_path / "old"))
    exported = admin(tmp_path / "old", "backup", "export", str(tmp_path / "backup.jsonl"))
    assert exported.returncode == 0, exported.stderr
    text = (tmp_path / "backup.jsonl").read_text()
    header = json.loads(text.splitlines()[0])
    assert header["webhook_key"] == webhooks.key_fingerprint(key) and key.decode() not in text

    restored = admin(
        tmp_path, "backup", "restore", str(tmp_path / "backup.jsonl"), REGISTRY_DATA_DIR=str(tmp_path / "new")
    )
    assert restored.returncode == 0, restored.stderr
    assert "1 webhook subscription was created with another key" in restored.stderr
    assert "REGISTRY_WEBHOOK_KEY" in restored.stderr

    fresh = Settings.model_validate({"data_dir": tmp_path / "new", "seed": False})
    found = _readyz(fresh)
    checks = found["checks"]
    assert isinstance(checks, dict) and found["status"] == "degraded"
    assert str(checks["webhook_key"]).startswith("failing: 1 webhook subscription was created with another key")
    keyed = fresh.model_copy(update={"webhook_key": Settings.model_validate({"webhook_key": key.decode()}).webhook_key})
    checks = _readyz(keyed)["checks"]
    assert isinstance(checks, dict) and checks["webhook_key"] == "ok"
    use_engine(make_engine(None, tmp_path / "new"))
