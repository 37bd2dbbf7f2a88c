"""Pages render what they hold: Markdown (safely), dependencies and source, a readable lineage and charts,
errors inside the site with a way on, and forms that check themselves. Headless Chromium, seed catalog."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.conftest import ARTIFACTS

SEED = Path(__file__).resolve().parents[2] / "seed_assets" / "assets"
ADMIN = {"Authorization": "Bearer reg_web-test-admin-00000000000000000000"}


def test_every_seed_asset_page_renders_markdown_dependencies_and_source(page: Page, live_url: str) -> None:
    slugs = sorted(p.name for p in SEED.iterdir() if (p / "asset.yaml").is_file())
    assert len(slugs) >= 20
    for slug in slugs:
        page.goto(f"{live_url}/assets/{slug}")
        about = page.locator("#about .markdown")
        if about.count():
            assert "**" not in about.inner_text(), slug  # Markdown emphasis is rendered, not shown
        expect(page.locator("#source")).to_contain_text("Source")
        expect(page.locator("#lineage .arrow")).to_have_count(2)
        origin, asset, adopters = (page.locator(f"#lineage .column >> nth={i}").bounding_box() for i in range(3))
        assert origin and asset and adopters and origin["x"] < asset["x"] < adopters["x"], slug  # left to right
        page.screenshot(path=str(ARTIFACTS / "assets" / f"{slug}.png"), full_page=True)
    page.goto(f"{live_url}/assets/claims-triage-prompt")
    expect(page.locator("#about .markdown strong").first).to_have_text("When to use it:")
    dependency = page.locator("#source a", has_text="claims-faithfulness-eval").first
    expect(dependency).to_have_attribute("href", "/assets/claims-faithfulness-eval")
    expect(page.locator("#source")).to_contain_text("9f1c2e4")


def test_scripts_and_javascript_links_in_descriptions_are_inert(page: Page, live_url: str) -> None:
    manifest = {
        "kind": "prompt", "slug": "hostile-markdown-prompt", "version": "1.0.0", "title": "Hostile markdown",
        "summary": "A description that tries to run code.", "owner": "claims-ai",
        "origin_pilot": "claims-triage-assistant", "tags": ["test"],
        "description": "**bold** <script>window.pwned = 1</script> [click](javascript:window.pwned=2) "
                       "<img src=x onerror=\"window.pwned=3\"> [ok](https://example.com)",
        "spec": {"template": "Hi {{name}}", "variables": ["name"]},
    }  # fmt: skip
    published = page.request.post(f"{live_url}/api/v1/assets", data=manifest, headers=ADMIN)
    assert published.status == 201, published.text()
    page.goto(f"{live_url}/assets/hostile-markdown-prompt")
    about = page.locator("#about .markdown")
    expect(about.locator("strong")).to_have_text("bold")
    assert about.locator("script, img").count() == 0
    hrefs = about.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.com"]  # the javascript: link stays text
    assert page.evaluate("window.pwned") is None


def test_chart_labels_are_at_least_12_pixels(page: Page, live_url: str) -> None:
    for url in ("/reports/reuse?since=2025-01-01", "/assets/claims-triage-prompt", "/reports/portfolio"):
        page.goto(live_url + url)
        heights = page.locator("svg.chart text").evaluate_all(
            "texts => texts.map(t => parseFloat(getComputedStyle(t).fontSize) * "
            "(t.ownerSVGElement.getBoundingClientRect().width / t.ownerSVGElement.viewBox.baseVal.width))"
        )
        assert heights and min(heights) >= 12, (url, min(heights or [0]))


def test_errors_are_pages_with_a_way_on(page: Page, live_url: str) -> None:
    response = page.goto(f"{live_url}/assets/claims-triage-promt")
    assert response is not None and response.status == 404
    expect(page.locator("header nav")).to_be_visible()
    expect(page.locator("#suggestions a", has_text="Claims triage classification prompt")).to_be_visible()
    response = page.goto(f"{live_url}/?kind=poem")
    assert response is not None and response.status == 422
    expect(page.locator("#problem")).to_contain_text("/query/kind")
    expect(page.locator("#problem")).to_contain_text("eval_harness")
    expect(page.locator("header nav a", has_text="Search")).to_be_visible()
    response = page.goto(f"{live_url}/reports/reuse?since=yesterday")
    assert response is not None and response.status == 422
    expect(page.locator("#problem")).to_contain_text("YYYY-MM-DD")


def test_report_forms_check_their_dates_and_facets_keep_every_kind(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/reports/reuse")
    before = page.url
    page.fill("input[name=since]", "2026-06-01")
    page.fill("input[name=until]", "2026-01-01")
    page.locator("form.period button").click()
    assert page.url == before  # the browser refused it
    message = page.locator("input[name=until]").evaluate("el => el.validationMessage")
    assert "after its start" in message
    page.goto(f"{live_url}/?q=claims&kind=eval_harness")
    kinds = page.locator('.facets a[data-facet="kind"]')
    assert kinds.count() >= 2  # the other kinds stay, with their counts
    expect(page.locator('.facets a[data-facet="kind"][data-value="prompt"] .count')).not_to_have_text("0")
    page.goto(f"{live_url}/start?problem=claims triage for motor insurance")
    expect(page.locator("h2", has_text="Eval harnesses")).to_be_visible()


def test_pages_read_as_people_write_them(page: Page, live_url: str) -> None:
    """Cards stay inside the page at 1280 px; numbers without `.0`; no invented hours to copy; a favicon."""
    for url in ("/reports/reuse?since=2025-01-01", "/reports/portfolio"):
        page.goto(live_url + url)
        outside = page.locator(".card").evaluate_all(
            "cards => cards.filter(c => c.getBoundingClientRect().right > c.parentElement.getBoundingClientRect()"
            ".right + 1).map(c => c.id || c.textContent.slice(0, 40))"
        )
        assert outside == [], (url, outside)
    page.goto(f"{live_url}/assets/claims-triage-prompt")
    expect(page.locator("#adopt pre")).to_contain_text("--hours-saved <hours>")
    assert page.request.get(live_url + page.locator("link[rel=icon]").get_attribute("href")).ok
    page.goto(f"{live_url}/pilots/claims-triage-assistant")
    baseline = page.locator("dt:text('Baseline') + dd").inner_text()
    assert ".0 " not in baseline and baseline[0].isdigit(), baseline
