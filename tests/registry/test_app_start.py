"""First start of the service: migrate, admin token shown once (or taken from the environment), seed once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar.testing import TestClient

from catalog.services.tokens import hash_token
from catalog.tables import ApiToken, JournalEntry
from registry.app import create_app
from tests.conftest import Database, settings_for


def test_fresh_install_prints_an_admin_token_once_and_seeds(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(db, tmp_path, seed=None)
    with TestClient(app=create_app(settings)) as client:
        printed = capsys.readouterr().err
        token = next(line.strip() for line in printed.splitlines() if line.strip().startswith("reg_"))
        assert client.get("/api/v1/assets").json()["total"] >= 24
        r = client.post(
            "/api/v1/assets/pii-leak-monitor/deprecate",
            json={"reason": "testing the admin token"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
    rows = asyncio.run(ApiToken.select(ApiToken.token_hash, ApiToken.scopes).run())
    assert rows == [{"token_hash": hash_token(token), "scopes": ["admin"]}]
    assert token not in str(asyncio.run(JournalEntry.select().run()))

    with TestClient(app=create_app(settings)) as client:
        assert "reg_" not in capsys.readouterr().err
        assert client.get("/api/v1/pilots").json()["total"] == 9


def test_admin_token_from_the_environment_is_never_printed(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(db, tmp_path, admin_token="reg_from-the-environment-0123456789", seed=False)
    with TestClient(app=create_app(settings)) as client:
        assert "reg_" not in capsys.readouterr().err
        r = client.post(
            "/api/v1/pilots",
            json={"slug": "x-pilot", "name": "X", "team": "x-team", "problem": "A problem."},
            headers={"Authorization": "Bearer reg_from-the-environment-0123456789"},
        )
        assert r.status_code == 201
        assert client.get("/api/v1/assets").json()["total"] == 0
