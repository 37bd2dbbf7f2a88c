"""A standing guard: schemathesis drives every documented operation of the live app, on SQLite and PostgreSQL,
with generated valid and invalid input; no answer may be a server error or disagree with the OpenAPI document.

Deterministic (Hypothesis derandomized) and bounded (MAX_EXAMPLES per operation), so it runs in `make test`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.db import use_engine
from catalog.seeding import seed_catalog
from registry.app import create_app
from registry.settings import SEED_DIR
from tests.conftest import BACKENDS, Database, _database, _empty, make_tokens, serving_in_thread, settings_for

MAX_EXAMPLES = 30  # per operation and mode: 40 took 90 s on PostgreSQL on the 2-core machine, with no more found
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(
    request: pytest.FixtureRequest, databases: dict[str, Database], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """The seeded catalog served over HTTP, and an admin token (so writes get past the guard into the rules)."""
    database = _database(request.param, databases, tmp_path_factory.mktemp(request.param))
    use_engine(database.engine)
    asyncio.run(_empty(database.engine))
    asyncio.run(seed_catalog(SEED_DIR))
    tokens = asyncio.run(make_tokens())
    # Random webhook hosts would each wait on a resolver with no internet behind it: the fuzzer checks answers,
    # the address rules have their own tests (tests/registry/test_webhooks.py).
    # A pool as in production: without one, each query opens a PostgreSQL connection (4x the time of SQLite).
    settings = settings_for(database, tmp_path_factory.mktemp("fuzz"), webhook_allow_private=True, db_pool_size=4)
    app = create_app(settings, start_tasks=False)
    with serving_in_thread(app) as url:
        yield url, {"Authorization": f"Bearer {tokens['admin']}"}
    use_engine(database.engine)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_target: tuple[str, dict[str, str]]) -> Any:
    url, _ = fuzz_target
    return schemathesis.openapi.from_url(f"{url}/schema/openapi.json")


# Input that breaks the document is refused before any rule reads the database: negative runs once, on SQLite.
RUNS = [
    pytest.param(backend.values[0], mode, id=f"{backend.id}-{mode.value}", marks=backend.marks)
    for backend in BACKENDS
    for mode in GenerationMode
    if backend.id == "sqlite" or mode is GenerationMode.POSITIVE
]


@pytest.mark.parametrize(("fuzz_target", "mode"), RUNS, indirect=["fuzz_target"])
def test_no_server_errors_and_answers_match_the_document(
    fuzz_schema: Any, fuzz_target: tuple[str, dict[str, str]], mode: GenerationMode
) -> None:
    """Every operation, with input that fits the document (positive) and input that breaks it (negative)."""
    _, admin = fuzz_target
    failures: list[str] = []
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=admin, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:  # nothing about this operation's input can be wrong (negative mode)
            continue
        except Exception as failure:  # report every operation's failure, not just the first
            failures.append(f"{operation.label}: {failure}"[:1500])
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("fuzz_target", ["sqlite"], indirect=True)  # one document, whatever the database
def test_the_document_declares_problems_auth_and_csv(fuzz_schema: Any, tmp_path: Path) -> None:
    raw = fuzz_schema.raw_schema
    assert raw["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": raw["components"]["securitySchemes"]["bearer"]["description"],
    }
    publish = raw["paths"]["/api/v1/assets"]["post"]
    assert publish["security"] == [{"bearer": []}]
    assert {"400", "401", "403", "404", "409", "413", "422"} <= set(publish["responses"])
    assert "application/problem+json" in publish["responses"]["422"]["content"]
    assert "text/csv" in raw["paths"]["/api/v1/reports/reuse"]["get"]["responses"]["200"]["content"]
    assert "503" in raw["paths"]["/api/v1/search"]["get"]["responses"]
