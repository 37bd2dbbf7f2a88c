"""The Meilisearch backend at its boundary, without a server: settings, filters and their escaping,
the requests sent, result mapping and error mapping, against a recording HTTP stub on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from search.errors import SearchError, SearchUnavailable
from search.interfaces import IndexState, SearchQuery, SearchResult
from search.meili import MeilisearchBackend, filter_expression, index_settings, quote
from tests.search.conftest import doc

pytestmark = pytest.mark.anyio


def test_settings_mirror_the_embedded_ranking() -> None:
    settings = index_settings()
    assert settings["searchableAttributes"][:4] == ["title", "tags", "slug", "summary"]
    assert settings["searchableAttributes"].index("description") < settings["searchableAttributes"].index("spec_text")
    assert set(settings["filterableAttributes"]) == {
        "kind", "tags", "owner", "origin_pilot", "lifecycle", "patterns", "risks"
    }  # fmt: skip
    assert "roles_text" in settings["searchableAttributes"]
    assert set(settings["sortableAttributes"]) == {"reuse_count", "published_at"}
    assert settings["rankingRules"][:6] == ["words", "typo", "proximity", "attribute", "sort", "exactness"]
    assert settings["rankingRules"][6:] == ["lifecycle_rank:desc", "reuse_count:desc", "published_at:desc"]
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    synonyms = settings["synonyms"]
    assert "personal data" in synonyms["pii"] and "pii" in synonyms["personal data"]
    assert "icd10" in synonyms["icd-10"]
    assert len({frozenset([k, *v]) for k, v in synonyms.items()}) >= 40
    assert "the" in settings["stopWords"]


def test_filter_values_are_quoted_so_user_text_cannot_escape() -> None:
    hostile = 'x" OR kind = "monitor'
    assert quote(hostile) == '"x\\" OR kind = \\"monitor"'
    assert quote("back\\slash") == '"back\\\\slash"'
    clauses = filter_expression(SearchQuery(kind="prompt", owner=hostile, tags=["PII", 'a"b'], lifecycle="active"))
    assert clauses == [
        'kind = "prompt"',
        'owner = "x\\" OR kind = \\"monitor"',
        'lifecycle = "active"',
        'tags = "pii"',
        'tags = "a\\"b"',
    ]
    roles = filter_expression(SearchQuery(patterns=["extract"], risks=["pii", 'x" OR kind = "y']))
    assert roles == ['patterns = "extract"', 'risks = "pii"', 'risks = "x\\" OR kind = \\"y"']


class Stub(BaseHTTPRequestHandler):
    """Answers like Meilisearch would; records every request; `server.script` can force failures."""

    def log_message(self, *_: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        state: dict[str, Any] = self.server.state  # type: ignore[attr-defined]
        state["requests"].append((self.command, self.path, body))
        forced = state["script"].get((self.command, self.path.split("?")[0]))
        if forced:
            self._send(*forced)
            return
        if self.path.startswith("/tasks/"):
            uid = int(self.path.rsplit("/", 1)[1])
            status = "failed" if uid in state["failing_tasks"] else "succeeded"
            error = {"message": "invalid document", "code": "invalid_document_id"} if status == "failed" else None
            stamp = "2026-01-01T00:00:00.000000Z"
            task = {"uid": uid, "indexUid": "assets", "status": status, "type": "documentAdditionOrUpdate"}
            times = {"enqueuedAt": stamp, "startedAt": stamp, "finishedAt": stamp, "duration": "PT0.001S"}
            self._send(200, {**task, **times, "error": error, "details": {}})
            return
        if self.command == "GET" and self.path.startswith("/indexes/") and self.path.count("/") == 2:
            uid = self.path.rsplit("/", 1)[1]
            if uid in state["indexes"]:
                stamp = "2026-01-01T00:00:00.000000Z"
                self._send(200, {"uid": uid, "primaryKey": "slug", "createdAt": stamp, "updatedAt": stamp})
            else:
                self._send(
                    404, {"message": f"Index `{uid}` not found.", "code": "index_not_found", "type": "invalid_request"}
                )
            return
        if self.command == "POST" and self.path == "/indexes":
            state["indexes"].add(body["uid"])
        if self.path.endswith("/search"):
            self._send(200, state["search_response"])
            return
        if self.path == "/health":
            self._send(200, {"status": "available"})
            return
        state["task"] += 1
        self._send(
            202,
            {
                "taskUid": state["task"],
                "indexUid": "assets",
                "status": "enqueued",
                "type": "x",
                "enqueuedAt": "2026-01-01T00:00:00.000000Z",
            },
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@pytest.fixture
def stub() -> Iterator[tuple[str, dict[str, Any]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    state: dict[str, Any] = {
        "requests": [], "script": {}, "task": 0, "failing_tasks": set(), "indexes": set(),
        "search_response": {"hits": [], "estimatedTotalHits": 0, "facetDistribution": {}},
    }  # fmt: skip
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


async def test_first_write_creates_the_index_applies_settings_then_sends_documents(
    stub: tuple[str, dict[str, Any]],
) -> None:
    url, state = stub
    backend = MeilisearchBackend(url, "master-key")
    await backend.upsert([doc("pii-leak-monitor", lifecycle="deprecated", reuse_count=2)])
    calls = [(m, p.split("?")[0]) for m, p, _ in state["requests"] if not p.startswith("/tasks/")]
    assert calls == [
        ("GET", "/indexes/assets"),
        ("POST", "/indexes"),
        ("PATCH", "/indexes/assets/settings"),
        ("POST", "/indexes/assets/documents"),
    ]
    bodies = {p.split("?")[0]: b for _, p, b in state["requests"]}
    assert bodies["/indexes"] == {"uid": "assets", "primaryKey": "slug"}
    assert bodies["/indexes/assets/settings"] == index_settings()
    sent = bodies["/indexes/assets/documents"][0]
    assert (sent["slug"], sent["lifecycle_rank"], sent["reuse_count"]) == ("pii-leak-monitor", 0, 2)
    assert isinstance(sent["published_at"], int)
    assert any(p.startswith("/tasks/") for _, p, _ in state["requests"]), "every write waits for its task"


async def test_search_request_and_result_mapping(stub: tuple[str, dict[str, Any]]) -> None:
    url, state = stub
    state["indexes"].add("assets")
    state["search_response"] = {
        "hits": [
            {
                "slug": "pii-leak-monitor", "kind": "monitor", "title": "PII <leak> monitor", "summary": "Alerts.",
                "tags": ["pii"], "owner": "claims-ai", "origin_pilot": "claims-triage-assistant",
                "latest_version": "1.0.0", "reuse_count": 3, "lifecycle": "active", "published_at": 1_760_000_000,
                "description": "Long text",
                "_formatted": {
                    "title": "\x02PII\x03 <leak> monitor", "summary": "Alerts.", "description": "…\x02text\x03…",
                },
            }
        ],
        "estimatedTotalHits": 41,
        "facetDistribution": {"kind": {"monitor": 41}, "tags": {"pii": 12}},
    }  # fmt: skip
    backend = MeilisearchBackend(url, None)
    query = SearchQuery(
        q="pii monitoring alerts for claims", owner='x" OR kind = "monitor', sort="reuse", limit=5, offset=10
    )
    result = await backend.search(query)
    _, path, body = state["requests"][-1]
    assert path == "/indexes/assets/search"
    assert body["q"] == "pii monitoring alerts for claims"
    assert body["filter"] == ['owner = "x\\" OR kind = \\"monitor"']
    assert body["sort"] == ["reuse_count:desc", "published_at:desc"]
    assert (body["limit"], body["offset"], body["matchingStrategy"]) == (5, 10, "frequency")
    assert set(body["facets"]) == {"kind", "tags", "owner", "origin_pilot", "lifecycle", "patterns", "risks"}
    assert result.total == 41
    hit = result.hits[0]
    assert hit.highlights["title"] == "<mark>PII</mark> &lt;leak&gt; monitor"
    assert hit.highlights["description"] == "…<mark>text</mark>…"
    assert result.facets["kind"] == {"monitor": 41} and result.facets["owner"] == {}
    answer = await backend.search_json(query)  # what the API sends: the same result as JSON
    sent = SearchResult.model_validate_json(answer.body)
    assert (answer.total, sent.hits, sent.facets) == (41, result.hits, result.facets)


async def test_unreachable_server_is_search_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = MeilisearchBackend(f"http://127.0.0.1:{port}", None, timeout=2)
    with pytest.raises(SearchUnavailable, match="unreachable"):
        await backend.search(SearchQuery(q="x"))
    assert "unreachable" in (await backend.health() or "")


async def test_api_errors_and_failed_tasks_are_search_errors(stub: tuple[str, dict[str, Any]]) -> None:
    url, state = stub
    state["indexes"].add("assets")
    state["script"][("POST", "/indexes/assets/search")] = (
        400,
        {"message": "Invalid filter", "code": "invalid_search_filter"},
    )
    backend = MeilisearchBackend(url, None)
    with pytest.raises(SearchError, match="invalid_search_filter") as err:
        await backend.search(SearchQuery(q="x"))
    assert not isinstance(err.value, SearchUnavailable)
    state["failing_tasks"].add(state["task"] + 2)  # settings task succeeds, the document task fails
    with pytest.raises(SearchError, match="failed: invalid document"):
        await MeilisearchBackend(url, None).upsert([doc("a-b")])


async def test_missing_index_says_to_reindex(stub: tuple[str, dict[str, Any]]) -> None:
    url, state = stub
    state["indexes"].add("assets")
    state["script"][("POST", "/indexes/assets/search")] = (
        404,
        {"message": "Index `assets` not found.", "code": "index_not_found"},
    )
    with pytest.raises(SearchUnavailable, match="registry search reindex"):
        await MeilisearchBackend(url, None).search(SearchQuery(q="x"))


async def test_rebuild_fills_a_fresh_index_and_swaps_it_in(stub: tuple[str, dict[str, Any]]) -> None:
    url, state = stub
    state["indexes"].add("assets")

    async def batches():  # type: ignore[no-untyped-def]
        yield [doc("a-one"), doc("a-two")]

    backend = MeilisearchBackend(url, None)
    assert await backend.rebuild(batches(), IndexState("test-build", 0, "2:abc")) == 2
    calls = [(m, p.split("?")[0], b) for m, p, b in state["requests"] if not p.startswith("/tasks/")]
    swap = next(b for m, p, b in calls if p == "/swap-indexes")
    fresh = swap[0]["indexes"][1]
    assert swap[0]["indexes"][0] == "assets" and fresh.startswith("assets_")
    assert ("POST", f"/indexes/{fresh}/documents") in [(m, p) for m, p, _ in calls]
    order = [(m, p) for m, p, _ in calls]
    assert order.index(("DELETE", f"/indexes/{fresh}")) < order.index(
        ("POST", "/indexes/assets_registry_state/documents")
    )
    state_write = next(b for m, p, b in calls if p == "/indexes/assets_registry_state/documents")
    assert state_write == [{"id": "state", "generation": "test-build", "applied_through": 0, "documents": "2:abc"}]


async def test_the_index_identity_lives_in_its_own_small_index(stub: tuple[str, dict[str, Any]]) -> None:
    url, state = stub
    backend = MeilisearchBackend(url, None)
    path = ("GET", "/indexes/assets_registry_state/documents/state")
    missing = {"message": "Document `state` not found.", "code": "document_not_found", "type": "invalid_request"}
    state["script"][path] = (404, missing)
    assert await backend.state() is None  # never built by this registry: the sync worker rebuilds it
    state["script"][path] = (404, {"message": "Index not found.", "code": "index_not_found", "type": "x"})
    assert await backend.state() is None
    state["script"][path] = (200, {"id": "state", "generation": "build-1", "applied_through": 7})
    assert await backend.state() == IndexState("build-1", 7)  # written before formats were recorded: rebuilt
    state["script"][path] = (200, {"id": "state", "generation": "build-1", "applied_through": 7, "documents": "2:x"})
    assert await backend.state() == IndexState("build-1", 7, "2:x")
    await backend.mark_applied(5)  # older than what the index holds: nothing to write
    await backend.mark_applied(9)
    writes = [
        b for m, p, b in state["requests"] if m == "POST" and p.startswith("/indexes/assets_registry_state/documents")
    ]
    assert writes == [[{"id": "state", "generation": "build-1", "applied_through": 9, "documents": "2:x"}]]
