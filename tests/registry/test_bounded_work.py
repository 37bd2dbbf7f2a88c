"""No request, however crafted, holds the event loop: hostile diffs and templates are bounded or run off the loop.

The figures are generous bounds against the reproducers of issue 24 (26.6 s for one diff, minutes for one
template); the real speed is measured in bench/, not here.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from catalog.linediff import MAX_CELLS, line_diff, unified_diff
from catalog.services.diffs import MAX_TEMPLATE_LINES
from registry.app import create_app
from tests.conftest import Database, make_tokens, serving_in_thread, settings_for
from tests.factories import graduated_pilot, manifest

HOSTILE_A = "x\ny\n" * 24_000  # 96 KB of repeated short lines
HOSTILE_B = "y\nz\nx\n" * 16_000


def test_line_diff_rebuilds_both_sides_and_puts_removals_first() -> None:
    rng = random.Random(7)  # noqa: S311 (a repeatable sample, not a secret)
    for _ in range(500):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 12))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 12))]
        left: list[str] = []
        right: list[str] = []
        previous = ""
        for tag, i1, i2, j1, j2 in line_diff(a, b).opcodes:
            left += a[i1:i2] if tag != "insert" else []
            right += b[j1:j2] if tag != "delete" else []
            assert not (previous == "insert" and tag == "delete")
            previous = tag
        assert (left, right) == (a, b)


def test_a_middle_too_large_to_align_is_shown_removed_then_added() -> None:
    a, b = HOSTILE_A.splitlines(), HOSTILE_B.splitlines()
    assert len(a) * len(b) > MAX_CELLS
    found = line_diff(["head", *a, "tail"], ["head", *b, "tail"])
    assert not found.exact
    assert [op[0] for op in found.opcodes] == ["equal", "delete", "insert", "equal"]
    text = unified_diff(["same\n", "old\n"], ["same\n", "new\n"], "a", "b")
    assert text == "--- a\n+++ b\n@@ -1,2 +1,2 @@\n same\n-old\n+new\n"


@pytest.fixture
def server(db: Database, tmp_path: Path) -> tuple[str, dict[str, str]]:
    tokens = asyncio.run(make_tokens())
    asyncio.run(graduated_pilot())
    with serving_in_thread(create_app(settings_for(db, tmp_path))) as url:
        yield url, {"Authorization": f"Bearer {tokens['claims']}"}


def _slowest_health(url: str, stop: threading.Event, seen: list[float]) -> None:
    with httpx.Client(base_url=url) as client:
        while not stop.is_set():
            start = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            seen.append(time.perf_counter() - start)
            time.sleep(0.01)


def test_a_hostile_diff_answers_quickly_and_healthz_is_not_held(server: tuple[str, dict[str, str]]) -> None:
    url, auth = server
    with httpx.Client(base_url=url, timeout=60) as client:
        for version, template in (("1.0.0", HOSTILE_A), ("2.0.0", HOSTILE_B)):
            body = manifest(version=version, spec={"template": template, "variables": []})
            assert client.post("/api/v1/assets", json=body, headers=auth).status_code == 201
        stop, seen = threading.Event(), []
        watcher = threading.Thread(target=_slowest_health, args=(url, stop, seen))
        watcher.start()
        try:
            start = time.perf_counter()
            r = client.get("/api/v1/assets/claims-triage-prompt/diff", params={"from": "1.0.0", "to": "2.0.0"})
            took = time.perf_counter() - start
            page = client.get("/assets/claims-triage-prompt/versions/2.0.0")
        finally:
            stop.set()
            watcher.join()
    assert r.status_code == 200 and page.status_code == 200
    diff = r.json()
    assert "too much to align line by line" in diff["notes"][0] and "the first 5,000 are shown" in diff["notes"][1]
    assert len(diff["template"]) == MAX_TEMPLATE_LINES
    assert took < 5, f"the diff took {took:.1f} s"
    assert seen and max(seen) < 1, f"/healthz waited {max(seen):.2f} s"


@pytest.mark.parametrize(
    ("template_format", "template"),
    [
        ("mustache", "{{" * 49_000),
        ("mustache", "{{ " + " " * 90_000),
        ("handlebars", "{{#each a}}" * 9_000),
        ("handlebars", "{{{a}}" * 16_000),
    ],
)
def test_hostile_templates_are_answered_without_holding_the_server(
    server: tuple[str, dict[str, str]], template_format: str, template: str
) -> None:
    url, auth = server
    body = manifest(spec={"template": template, "template_format": template_format, "variables": []})
    start = time.perf_counter()
    r = httpx.post(f"{url}/api/v1/assets", json=body, headers=auth, timeout=60)
    took = time.perf_counter() - start
    assert r.status_code in (201, 422), r.text
    assert took < 5, f"publishing took {took:.1f} s"


def test_a_hostile_description_renders_without_holding_the_server(server: tuple[str, dict[str, str]]) -> None:
    url, auth = server
    with httpx.Client(base_url=url, timeout=60) as client:
        body = manifest(description="![" * 25_000)  # about a second of markdown-it work
        assert client.post("/api/v1/assets", json=body, headers=auth).status_code == 201
        stop, seen = threading.Event(), []
        watcher = threading.Thread(target=_slowest_health, args=(url, stop, seen))
        watcher.start()
        try:
            pages = [client.get("/assets/claims-triage-prompt").status_code for _ in range(3)]
        finally:
            stop.set()
            watcher.join()
    assert pages == [200, 200, 200]
    assert seen and max(seen) < 0.5, f"/healthz waited {max(seen):.2f} s"
