"""The contract every search backend honours, run against each real backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from catalog.schemas import AssetDocument
from search.interfaces import IndexState, SearchBackend, SearchQuery
from tests.search.conftest import days_ago, doc

pytestmark = pytest.mark.anyio

CATALOG = [
    doc("pii-leak-monitor", title="PII leak monitor", summary="Alerts when LLM responses contain personal data.",
        tags=["pii", "privacy", "monitoring"], reuse_count=3),
    doc("hallucination-rate-monitor", title="Hallucination rate monitor",
        summary="Samples answers and grades unsupported claims.", tags=["hallucination", "quality"],
        owner="fincrime-ai", origin_pilot="kyc-document-review"),
    doc("rag-answer-quality-eval", kind="eval_harness", title="RAG answer quality eval",
        summary="Scores retrieval recall and faithfulness of a RAG assistant.", tags=["rag", "eval", "faithfulness"]),
    doc("sanctions-screening-retrieval", kind="retrieval_pipeline", title="Sanctions screening retrieval",
        summary="Finds watchlist matches for names.", tags=["sanctions", "kyc", "hybrid-search"], owner="fincrime-ai",
        origin_pilot="kyc-document-review", description="Know your customer checks against sanctions lists."),
    doc("claims-triage-prompt", kind="prompt", title="Claims triage prompt",
        summary="Routes insurance claims to the right queue.", tags=["claims", "triage", "classification"],
        reuse_count=5),
    doc("latency-slo-monitor", title="Latency SLO monitor", summary="Burn-rate alert on the latency objective.",
        tags=["latency", "slo"], lifecycle="deprecated", successor="llm-latency-monitor"),
]  # fmt: skip


async def indexed(backend: SearchBackend, documents: list[AssetDocument] = CATALOG) -> SearchBackend:
    await backend.upsert(documents)
    return backend


async def slugs(backend: SearchBackend, q: str = "", **filters: object) -> list[str]:
    return [h.slug for h in (await backend.search(SearchQuery.model_validate({"q": q, **filters}))).hits]


@pytest.fixture
async def catalog(backend: SearchBackend) -> SearchBackend:
    return await indexed(backend)


async def test_finds_words_and_weighs_the_title_first(catalog: SearchBackend) -> None:
    assert (await slugs(catalog, "hallucination"))[0] == "hallucination-rate-monitor"
    found = await slugs(catalog, "sanctions")
    assert found[0] == "sanctions-screening-retrieval"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("latncy", "latency-slo-monitor"),  # 7 letters: one typo
        ("halucinaton", "hallucination-rate-monitor"),  # 13 letters: two typos
        ("sanctoins", "sanctions-screening-retrieval"),  # a transposition is one typo
    ],
)
async def test_typo_tolerance(catalog: SearchBackend, query: str, expected: str) -> None:
    assert (await slugs(catalog, query))[0] == expected


async def test_short_words_need_no_typo(catalog: SearchBackend) -> None:
    assert await slugs(catalog, "rog") == []


async def test_a_typo_on_the_first_letter_counts_as_two(catalog: SearchBackend) -> None:
    assert await slugs(catalog, "katency ") == []  # 7 letters: one typo, not on the first letter
    assert (await slugs(catalog, "xallucination "))[0] == "hallucination-rate-monitor"  # 13 letters: two
    assert await slugs(catalog, "xalucination ") == []  # the first letter and one more: three


async def test_a_word_typed_with_a_typo_matches_as_a_prefix(catalog: SearchBackend) -> None:
    assert (await slugs(catalog, "hallucn"))[0] == "hallucination-rate-monitor"
    assert (await slugs(catalog, "sanctons scr"))[0] == "sanctions-screening-retrieval"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hallu", "hallucination-rate-monitor"),
        ("sanc", "sanctions-screening-retrieval"),
        ("claims tri", "claims-triage-prompt"),
    ],
)
async def test_last_word_matches_as_a_prefix(catalog: SearchBackend, query: str, expected: str) -> None:
    assert (await slugs(catalog, query))[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("personal data", "pii-leak-monitor"),
        ("retrieval augmented generation", "rag-answer-quality-eval"),
        ("know your customer", "sanctions-screening-retrieval"),
        ("KYC", "sanctions-screening-retrieval"),
    ],
)
async def test_synonyms_and_acronyms(catalog: SearchBackend, query: str, expected: str) -> None:
    assert expected in (await slugs(catalog, query))[:2]


async def test_exact_matches_rank_above_typo_matches(backend: SearchBackend) -> None:
    await indexed(backend, [doc("draft-monitor", title="Draft monitor"), doc("drift-monitor", title="Drift monitor")])
    assert await slugs(backend, "drift") == ["drift-monitor", "draft-monitor"]


async def test_reuse_and_lifecycle_break_ties(backend: SearchBackend) -> None:
    same = {"title": "Cost budget monitor", "summary": "Alerts on token spend."}
    await indexed(
        backend,
        [
            doc("cost-a", **same, reuse_count=0),
            doc("cost-b", **same, reuse_count=6),
            doc("cost-c", **same, reuse_count=9, lifecycle="deprecated"),
        ],
    )
    assert await slugs(backend, "cost budget") == ["cost-b", "cost-a", "cost-c"]


async def test_more_matched_words_beat_better_single_matches(backend: SearchBackend) -> None:
    await indexed(
        backend,
        [
            doc("a", title="Claims claims claims", summary="Claims."),
            doc("b", title="Claims summary prompt", summary="Summarises claims."),
        ],
    )
    assert (await slugs(backend, "claims summary"))[0] == "b"


async def test_when_too_few_match_every_word_the_last_word_is_dropped_first(backend: SearchBackend) -> None:
    await indexed(
        backend,
        [
            doc("every", title="Invoice extraction regression suite"),
            doc("first-two", title="Invoice extraction prompt"),
            doc("first-and-last", title="Invoice regression monitor"),
            doc("last-two", title="Extraction regression eval"),
            doc("first", title="Invoice summary prompt"),
        ],
    )
    found = await slugs(backend, "invoice extraction regression")
    assert found[:2] == ["every", "first-two"]
    assert set(found[2:]) == {"first-and-last", "first"}  # as typed, the first word is the last one kept


async def test_filters_all_must_hold(catalog: SearchBackend) -> None:
    assert await slugs(catalog, kind="eval_harness") == ["rag-answer-quality-eval"]
    assert set(await slugs(catalog, owner="fincrime-ai")) == {
        "hallucination-rate-monitor",
        "sanctions-screening-retrieval",
    }
    assert await slugs(catalog, tags=["kyc", "sanctions"]) == ["sanctions-screening-retrieval"]
    assert await slugs(catalog, tags=["kyc", "pii"]) == []
    assert await slugs(catalog, origin_pilot="kyc-document-review", kind="monitor") == ["hallucination-rate-monitor"]
    assert await slugs(catalog, lifecycle="deprecated") == ["latency-slo-monitor"]
    assert await slugs(catalog, "monitor", kind="prompt") == []


async def test_facet_counts_follow_the_query(catalog: SearchBackend) -> None:
    result = await catalog.search(SearchQuery())
    assert result.total == len(CATALOG)
    assert result.facets["kind"] == {"monitor": 3, "eval_harness": 1, "retrieval_pipeline": 1, "prompt": 1}
    assert result.facets["lifecycle"] == {"active": 5, "deprecated": 1}
    assert result.facets["owner"]["fincrime-ai"] == 2
    filtered = await catalog.search(SearchQuery(owner="fincrime-ai"))
    assert filtered.facets["kind"] == {"monitor": 1, "retrieval_pipeline": 1}
    assert filtered.facets["tags"]["kyc"] == 1


async def test_sort_and_paging(backend: SearchBackend) -> None:
    documents = [doc(f"monitor-{i}", reuse_count=i, published_at=days_ago(30 - i)) for i in range(7)]
    await indexed(backend, documents)
    by_reuse = await slugs(backend, sort="reuse", limit=3)
    assert by_reuse == ["monitor-6", "monitor-5", "monitor-4"]
    page = await backend.search(SearchQuery(sort="newest", limit=3, offset=3))
    assert [h.slug for h in page.hits] == ["monitor-3", "monitor-2", "monitor-1"]
    assert page.total == 7
    assert (await backend.search(SearchQuery(q="monitor", limit=2, offset=6))).hits[0].slug.startswith("monitor-")


async def test_hits_carry_what_the_api_promises(catalog: SearchBackend) -> None:
    hit = (await catalog.search(SearchQuery(q="claims"))).hits[0]
    assert (hit.slug, hit.kind, hit.owner, hit.origin_pilot) == (
        "claims-triage-prompt",
        "prompt",
        "claims-ai",
        "claims-triage-assistant",
    )
    assert (hit.latest_version, hit.reuse_count, hit.lifecycle) == ("1.0.0", 5, "active")
    assert hit.tags == ["claims", "triage", "classification"]
    deprecated = (await catalog.search(SearchQuery(q="latency"))).hits[0]
    assert deprecated.successor == "llm-latency-monitor"


async def test_highlights_mark_typos_and_prefixes_and_escape_html(backend: SearchBackend) -> None:
    await indexed(backend, [doc("x", title="<b>Hallucination</b> monitor", summary="Watches hallucinations & drift.")])
    hit = (await backend.search(SearchQuery(q="halucination mon"))).hits[0]
    assert "<mark>Hallucination</mark>" in hit.highlights["title"]
    assert "&lt;b&gt;" in hit.highlights["title"] and "<b>" not in hit.highlights["title"]
    assert "<mark>mon" in hit.highlights["title"]
    assert "&amp;" in hit.highlights["summary"]


async def test_upsert_replaces_and_delete_removes(catalog: SearchBackend) -> None:
    await catalog.upsert([doc("pii-leak-monitor", title="Personal data leak monitor", tags=["pii"])])
    result = await catalog.search(SearchQuery(q="leak"))
    assert [h.title for h in result.hits] == ["Personal data leak monitor"]
    await catalog.delete(["pii-leak-monitor", "never-indexed"])
    assert await slugs(catalog, "leak") == []
    assert await catalog.document_count() == len(CATALOG) - 1


async def test_rebuild_swaps_in_a_fresh_index(catalog: SearchBackend) -> None:
    async def batches() -> AsyncIterator[list[AssetDocument]]:
        yield [doc("only-one", title="The only asset left")]

    assert await catalog.rebuild(batches(), IndexState("test-build", 0)) == 1
    assert await slugs(catalog) == ["only-one"]
    assert await catalog.health() is None


async def test_hostile_filter_values_match_nothing(catalog: SearchBackend) -> None:
    hostile = 'x" OR kind = "monitor'
    assert await slugs(catalog, owner=hostile) == []
    assert await slugs(catalog, tags=[hostile]) == []
    assert await slugs(catalog, origin_pilot='\\" OR 1=1') == []
