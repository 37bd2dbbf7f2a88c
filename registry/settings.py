"""Typed settings, read once from the environment (REGISTRY_*), then passed to whatever needs them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.schemas.portfolio import DEFAULT_DEADLINES, PortfolioPolicy

__all__ = ["Settings"]

MIN_ADMIN_TOKEN = 32
SEED_DIR = Path(__file__).resolve().parent.parent / "seed_assets"


class Settings(BaseSettings):
    """Everything the service and the CLI read from the environment; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="where the SQLite file and search index live")
    database_url: str | None = Field(default=None, description="postgresql://user:pass@host:port/db")
    db_pool_size: int = Field(default=10, ge=0, description="PostgreSQL connections per process (0: no pool)")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1, le=64, description="`registry serve` worker processes")
    search_backend: Literal["embedded", "meilisearch"] = "embedded"
    meilisearch_url: str | None = Field(default=None, validation_alias=AliasChoices("MEILISEARCH_URL"))
    meilisearch_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("MEILISEARCH_API_KEY"))
    meilisearch_index: str = Field(default="assets", validation_alias=AliasChoices("MEILISEARCH_INDEX"))
    search_sync_in_app: bool | None = Field(
        default=None,
        description="apply the search outbox inside the app (default: yes for embedded, no for meilisearch)",
    )
    reads_in_flight: int = Field(
        default=4, ge=1, le=1024, description="reads a worker runs at once; more wait their turn, writes go first"
    )
    search_cache_mb: int = Field(
        default=32, ge=0, le=4096, description="MiB a worker keeps for searching: results, shown assets, word lookups"
    )
    search_verify_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="how often the sync worker checks the index against the catalog"
    )
    admin_token: SecretStr | None = Field(
        default=None, description="admin token for a fresh install; at least 32 characters (it grants everything)"
    )
    seed: bool | None = Field(
        default=None, description="load seed_assets/ on start; default: when the catalog is empty"
    )
    seed_dir: Path = SEED_DIR
    stage_deadline_days: dict[int, int] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES),
        description='days each gate may take before an active pilot is stalled; JSON such as {"1": 30, "4": 90}',
    )
    extraction_days: int = Field(
        default=60, ge=1, le=3650, description="days a graduated pilot has to publish an asset (extraction backlog)"
    )
    require_auth_for_reads: bool = False
    webhook_key: SecretStr | None = Field(
        default=None,
        description="the key webhook signing secrets are derived from (every process of one registry needs the "
        "same); default: a key generated once into the data dir",
    )
    webhook_allow_private: bool = Field(
        default=False, description="allow webhook targets on loopback and private addresses (tests, closed networks)"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="one delivery attempt's limit")
    webhook_retry_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="first retry delay; it doubles on each failure"
    )
    webhook_retry_max_seconds: float = Field(default=300.0, gt=0, le=86400, description="the longest retry delay")
    webhook_log_days: int = Field(default=30, ge=1, le=3650, description="days delivered events stay in the log")
    webhook_max_failures: int = Field(
        default=20, ge=1, le=1000, description="consecutive failed attempts after which a subscription is disabled"
    )
    # What the CLI's client commands talk to.
    url: str = "http://127.0.0.1:8000"
    token: SecretStr | None = None

    @field_validator("stage_deadline_days")
    @classmethod
    def _deadlines(cls, value: dict[int, int]) -> dict[int, int]:
        wrong = {k: v for k, v in value.items() if k not in DEFAULT_DEADLINES or not 1 <= v <= 3650}
        if wrong:
            raise ValueError(f"gates are 1 to 4 and deadlines 1 to 3650 days; {wrong} is not")
        return {**DEFAULT_DEADLINES, **value}

    def policy(self) -> PortfolioPolicy:
        """The portfolio rules these settings set."""
        return PortfolioPolicy(deadlines=self.stage_deadline_days, extraction_days=self.extraction_days)

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_ADMIN_TOKEN:
            raise ValueError(
                f"REGISTRY_ADMIN_TOKEN must have at least {MIN_ADMIN_TOKEN} characters (it grants every scope); "
                "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value
