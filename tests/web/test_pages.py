"""Every page in a real browser (headless Chromium) against a live server on the seed catalog."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

from playwright.sync_api import Page, expect

from tests.web.conftest import ARTIFACTS

SEED = Path(__file__).resolve().parents[2] / "seed_assets" / "assets"


def test_typing_a_query_with_a_typo_finds_the_asset_as_you_type(page: Page, live_url: str) -> None:
    page.goto(live_url + "/")
    expect(page).to_have_title("Search · Platform asset registry")
    page.locator("#q").press_sequentially("halucination mon", delay=30)
    first = page.locator("#results .hit").first
    expect(first).to_contain_text("Hallucination rate monitor")
    expect(first.locator("mark").first).to_be_visible()
    expect(page).to_have_url(live_url + "/?q=halucination+mon")


def test_a_facet_click_narrows_results_and_the_url(page: Page, live_url: str) -> None:
    page.goto(live_url + "/?q=claims")
    before = int(page.locator("#summary").inner_text().split()[0])
    page.locator('.facets a[data-facet="kind"][data-value="eval_harness"]').click()
    expect(page).to_have_url(f"{live_url}/?q=claims&kind=eval_harness")
    after = int(page.locator("#summary").inner_text().split()[0])
    assert 0 < after < before
    kinds = page.locator("#results .hit .badge.kind").all_inner_texts()
    assert kinds and set(kinds) == {"eval harness"}
    page.locator('.facets a[data-facet="tags"][data-value="promptfoo"]').click()
    assert parse_qs(urlparse(page.url).query) == {"q": ["claims"], "kind": ["eval_harness"], "tag": ["promptfoo"]}


def test_an_empty_result_points_somewhere_useful(page: Page, live_url: str) -> None:
    page.goto(live_url + "/?q=sanctions&kind=monitor")
    expect(page.locator(".empty")).to_contain_text("Found in other kinds")
    page.locator(".empty a", has_text="retrieval pipeline").click()
    expect(page.locator("#results .hit").first).to_contain_text("Sanctions")


def test_the_asset_page_shows_versions_lineage_spec_and_a_chart(page: Page, live_url: str) -> None:
    page.goto(live_url + "/assets/claims-triage-prompt")
    expect(page).to_have_title("Claims triage classification prompt · Platform asset registry")
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    expect(page.locator("#lineage")).to_contain_text("Claims triage assistant")
    expect(page.locator("#lineage")).to_contain_text("motor-fnol-intake")
    expect(page.locator("#adoptions-chart svg rect.bar")).to_have_count(1)
    expect(page.locator("#spec mark.var").first).to_be_visible()
    expect(page.locator("#adopt")).to_contain_text("registry pull claims-triage-prompt@1.1.0")
    page.goto(live_url + "/assets/rag-groundedness-eval")
    expect(page.locator(".banner")).to_contain_text("rag-answer-quality-eval")
    page.goto(live_url + "/assets/kyc-entity-extraction-prompt")
    expect(page.locator("#versions .badge.yanked")).to_have_count(1)


def test_files_download_one_by_one_or_all_and_older_versions_have_pages(page: Page, live_url: str) -> None:
    page.goto(live_url + "/assets/pii-leak-monitor")
    with page.expect_download() as download_info:
        page.locator("#files a.download").first.click()
    assert download_info.value.suggested_filename == "rules.yml"
    assert "groups:" in download_info.value.path().read_text(encoding="utf-8")
    with page.expect_download() as download_info:
        page.locator("#adopt a.download").first.click()
    with tarfile.open(download_info.value.path()) as archive:
        assert "pii-leak-monitor-1.0.0/asset.yaml" in archive.getnames()
    expect(page.locator("#export-native")).to_have_text("As a prometheus file")
    with page.expect_download() as download_info:
        page.locator("#export-native").click()
    assert download_info.value.suggested_filename == "rules.yml"  # the stored original, byte for byte
    assert download_info.value.path().read_bytes() == (SEED / "pii-leak-monitor" / "rules.yml").read_bytes()
    page.goto(live_url + "/assets/claims-triage-prompt")
    page.locator("#versions a", has_text="1.0.0").click()
    expect(page).to_have_url(live_url + "/assets/claims-triage-prompt/versions/1.0.0")
    expect(page.locator("#spec h2")).to_contain_text("v1.0.0")
    expect(page.locator("#adopt")).to_contain_text("registry pull claims-triage-prompt@1.0.0")
    page.goto(live_url + "/assets/claims-triage-prompt/versions/9.9.9")
    expect(page.locator("h1")).to_contain_text("Not Found")


def test_the_pilot_page_shows_stages_business_case_and_gates(page: Page, live_url: str) -> None:
    page.goto(live_url + "/pilots")
    page.get_by_role("link", name="KYC document review").click()
    expect(page.locator(".steps li.done")).to_have_count(5)
    gates = page.locator("#gates .gate")
    expect(gates).to_have_count(5)
    expect(gates.nth(1)).to_contain_text("iterate")
    expect(page.locator("#gates")).to_contain_text("rollback plan")
    expect(page.locator("text=Its work is reused by")).to_be_visible()


def test_the_report_page_shows_charts_and_downloads_csv(page: Page, live_url: str) -> None:
    page.goto(live_url + "/reports/reuse?since=2025-11-25&until=2026-11-25")
    expect(page.locator("#headline .figure")).to_have_count(5)
    expect(page.locator("svg.chart")).to_have_count(4)
    expect(page.locator("#at-risk tbody tr")).to_have_count(2)
    expect(page.locator("#demand")).to_contain_text("contract clause extraction")
    with page.expect_download() as download_info:
        page.locator("#csv-download").click()
    text = download_info.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["[summary]"] and any(r[:1] == ["adoptions"] for r in rows)


def test_the_starter_kit_suggests_assets_per_kind_with_reasons(page: Page, live_url: str) -> None:
    page.goto(live_url + "/start")
    page.locator("#problem").fill("We screen new business customers against sanctions lists and news")
    page.get_by_role("button", name="Suggest a starter kit").click()
    pipelines = page.locator('.kit-section[data-kind="retrieval_pipeline"]')
    expect(pipelines).to_contain_text("Sanctions and watchlist hybrid retrieval")
    expect(pipelines.locator(".why li").first).to_be_visible()


def test_the_starter_kit_page_shows_its_reading_takes_a_correction_and_gives_the_command(
    page: Page, live_url: str
) -> None:
    page.goto(live_url + "/start")
    page.locator("#problem").fill("Summarize supplier contracts and flag risky clauses for procurement")
    page.get_by_role("button", name="Suggest a starter kit").click()
    expect(page.locator(".reading-summary")).to_have_text(
        "read as: summarize; extract fields from documents; risks: hallucination, malformed output; reads: documents"
    )
    evals = page.locator('.kit-section[data-kind="eval_harness"]')
    expect(evals).to_contain_text("Claims faithfulness and hallucination eval")
    expect(evals).to_contain_text("KYC extraction accuracy eval")
    expect(page.locator('.kit-section[data-kind="monitor"] .pick').first).to_have_attribute(
        "data-slug", "hallucination-rate-monitor"
    )
    expect(page.locator("main")).not_to_contain_text("LLM latency SLO")
    expect(page.locator('.kit-section[data-kind="retrieval_pipeline"] .note')).to_have_text(
        "No retrieval pipeline: the task reads no corpus."
    )
    # Not quite: the pilot only summarizes. Unticking "extract" picks again without the extraction assets.
    page.locator('#reading input[value="extract"]').uncheck()
    page.get_by_role("button", name="Not quite: use these").click()
    expect(page.locator(".reading-summary")).to_contain_text("read as: summarize; risks:")
    expect(page.locator('.kit-section[data-kind="eval_harness"]')).not_to_contain_text("KYC extraction")
    # Take two picks for a pilot: the page gives the one command that pulls them and records the adoptions.
    page.locator('#start input[name="take"]').evaluate_all("boxes => boxes.forEach(b => b.checked = false)")
    page.locator('.pick[data-slug="claims-summary-prompt"] input[name="take"]').check()
    page.locator('.pick[data-slug="hallucination-rate-monitor"] input[name="take"]').check()
    page.select_option("#pilot", "hr-policy-assistant")
    page.get_by_role("button", name="Show the command").click()
    expect(page.locator("pre.command")).to_have_text(
        "registry kit 'Summarize supplier contracts and flag risky clauses for procurement' --pattern summarize "
        "--risk hallucination --risk format --pilot hr-policy-assistant --pull starter --take claims-summary-prompt "
        "--take hallucination-rate-monitor"
    )
    expect(page.locator('.pick[data-slug="claims-summary-prompt"] input[name="take"]')).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / "starter-kit.png"), full_page=True)


def test_basic_search_works_without_javascript(no_js_page: Page, live_url: str) -> None:
    no_js_page.goto(live_url + "/")
    no_js_page.locator("#q").fill("personal data")
    no_js_page.get_by_role("button", name="Search").click()
    assert parse_qs(urlparse(no_js_page.url).query) == {"q": ["personal data"], "sort": ["relevance"]}
    assert "PII leak monitor" in no_js_page.locator("#results").inner_text()


def test_a_missing_page_is_a_page(page: Page, live_url: str) -> None:
    response = page.goto(live_url + "/assets/no-such-asset")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not Found")
    expect(page.get_by_role("link", name="Search the catalog")).to_be_visible()


def test_the_portfolio_page_shows_what_waiting_costs(page: Page, live_url: str) -> None:
    page.goto(live_url + "/")
    page.get_by_role("link", name="Portfolio").click()
    expect(page).to_have_title("Pilot portfolio · Platform asset registry")
    circling = page.locator("#waiting tr", has_text="Motor first notice of loss intake")
    expect(circling).to_contain_text("circling")
    expect(circling).to_contain_text("Tom Reyes, Motor Claims Director")
    expect(circling).to_contain_text("hours")
    expect(page.locator("#waiting tr", has_text="AML alert triage")).to_contain_text("stalled")
    expect(page.locator("#funnel")).to_contain_text("thin vertical prototype")
    expect(page.locator("#funnel-chart svg")).to_be_visible()
    expect(page.locator("#backlog")).to_contain_text("Invoice matching assistant")
    expect(page.locator("#headline")).to_contain_text("killed")
    expect(page.locator("#killed")).to_contain_text("Contract clause extractor")
    circling.get_by_role("link").click()
    expect(page.locator("#health-banner")).to_contain_text("Circling at gate 2")
    page.goto(live_url + "/pilots?health=circling")
    expect(page.locator("table tbody tr")).to_have_count(1)


def test_what_changed_filters_pages_and_has_a_feed(page: Page, live_url: str) -> None:
    page.goto(live_url + "/changes")
    expect(page).to_have_title("What changed · Platform asset registry")
    rows = page.locator("table.activity tbody tr")
    expect(rows).to_have_count(50)
    page.select_option("select[name=action]", "label")
    page.locator(".filters button").click()
    expect(page).to_have_url(live_url + "/changes?kind=&action=label&team=")
    labels = page.locator("table.activity tbody tr td:nth-child(3)").all_inner_texts()
    assert labels and set(labels) <= {"moved a label", "removed a label"}
    page.goto(live_url + "/changes")
    first_page = page.locator("table.activity tbody tr").all_inner_texts()
    page.locator("#older").click()
    older = page.locator("table.activity tbody tr").all_inner_texts()
    assert older and not set(older) & set(first_page)
    feed = page.request.get(live_url + "/changes.atom?action=version")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(feed.body())  # noqa: S314 (our own feed)
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [e.findtext(f"{atom}title") for e in root.findall(f"{atom}entry")]
    assert titles and all(t and t.startswith("yanked: ") for t in titles)


def test_asset_and_version_pages_show_history_and_what_changed(page: Page, live_url: str) -> None:
    page.goto(live_url + "/assets/claims-triage-prompt")
    expect(page.locator("#label-history")).to_contain_text("production")
    expect(page.locator("#activity")).to_contain_text("published")
    page.goto(live_url + "/assets/claims-triage-prompt/versions/1.1.0")
    changes = page.locator("#changes")
    expect(changes).to_contain_text("Changes since v1.0.0")
    expect(changes.locator(".breaking").first).to_contain_text("the variable set changed; added: policy_notes")
    expect(changes.locator(".opadd mark.var", has_text="policy_notes").first).to_be_visible()
    page.locator("#changes h2 a").click()
    expect(page.locator("#diff h2")).to_have_text("v1.0.0 → v1.1.0")
    page.select_option("select[name=from]", "1.1.0")
    page.select_option("select[name=to]", "1.0.0")
    page.locator(".filters button").click()
    expect(page.locator("#diff .breaking").first).to_contain_text("removed: policy_notes")
    page.screenshot(path=str(ARTIFACTS / "diff-page.png"), full_page=True)


def test_the_pilot_page_shows_its_activity_and_live_warnings(page: Page, live_url: str) -> None:
    adoptions = page.request.get(live_url + "/api/v1/adoptions?asset=kyc-entity-extraction-prompt&active=true").json()
    on_yanked = next(a for a in adoptions["items"] if a["version"] == "1.1.0")
    page.goto(f"{live_url}/pilots/{on_yanked['pilot']}")
    expect(page.locator(".warnings").first).to_contain_text("was yanked")
    expect(page.locator("#activity tbody tr").first).to_be_visible()


def test_the_api_page_works_without_internet(page: Page, live_url: str) -> None:
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(live_url)
        else (outside.append(route.request.url), route.abort())[1],
    )  # fmt: skip
    page.goto(live_url + "/")
    page.locator("header nav a", has_text="API").click()
    expect(page).to_have_url(live_url + "/schema/swagger")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/journal").first).to_be_visible()
    assert outside == []
