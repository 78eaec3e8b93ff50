"""The public pages in a real headless Chromium (Debian's), against Django's live server.

Screenshots of each main page are written to ``artifacts/screenshots/`` (git-ignored) so a person
can look at what a citizen sees, on a desktop and on a 375 px wide phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser import PHONE, SCREENSHOTS, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server, page: Page) -> str:
    """The live server's URL; fails the test if the page asks any other host for anything."""
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: foreign.append(request.url)
        if not request.url.startswith(live_server.url) else None,
    )
    yield live_server.url
    assert foreign == [], "pages must not load anything from another host (CDN, web fonts)"


def totals(page: Page) -> list[tuple[str, str, str]]:
    """The overview's four rating figures as (letter, count, percent)."""
    return [
        (
            figure.get_attribute("data-rating") or "",
            figure.locator(".figure__number").inner_text(),
            figure.locator(".figure__percent").inner_text(),
        )
        for figure in page.locator(".figure").all()
    ]


def has_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_citizen_reads_the_four_totals_and_opens_a_chapter(site, page: Page, report_2022):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/")
    expect(page.locator("h1")).to_have_text("公約はどこまで進んだか")
    expect(page.locator(".hero__asof")).to_have_text("令和4年3月現在（2022年3月）")
    assert totals(page) == [
        ("A", "8", "13.33%"),
        ("B", "28", "46.67%"),
        ("C", "24", "40.00%"),
        ("D", "0", "0.00%"),
    ]
    screenshot(page, "overview-desktop")
    expect(page.get_by_role("link", name=re.compile(r"着手の\s*項目を見る"))).to_have_attribute(
        "href", "/items/?report=2022-03&rating=C"
    )

    page.get_by_role("link", name="第1章 デジタル未来都市").click()
    expect(page).to_have_url(site + "/chapters/1/?report=2022-03")
    expect(page.locator("h1")).to_have_text("デジタル未来都市")
    expect(page.locator("article.item")).to_have_count(8)
    screenshot(page, "chapter-1-desktop")

    # The ※1 footnote on 4① leads to the item it was merged into.
    page.locator("#item-4-1 .footnote").get_by_role("link", name="28②").click()
    expect(page).to_have_url(site + "/pledges/28/?report=2022-03#item-28-2")
    expect(page.locator("#item-28-2 .footnote")).to_contain_text("関連する注記 ※1")
    screenshot(page, "pledge-28-desktop")


def test_citizen_filters_the_items_to_rating_c_and_sees_24_rows(site, page: Page, report_2022):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/items/")
    expect(page.locator("table.items-table tbody tr")).to_have_count(60)

    page.get_by_label("評価", exact=True).select_option("C")
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(site + "/items/?report=2022-03&chapter=&rating=C&q=&sort=")
    expect(page.locator("table.items-table tbody tr")).to_have_count(24)
    expect(page.locator(".result-count")).to_have_text("24件の項目")
    expect(page.locator("table.items-table tbody .badge__code")).to_have_text(["C"] * 24)
    screenshot(page, "items-rating-c-desktop")

    page.locator("thead").get_by_role("link", name=re.compile("^評価")).click()
    expect(page).to_have_url(re.compile(r"rating=C.*&sort=rating$"))
    expect(page.locator("table.items-table tbody tr")).to_have_count(24)


def test_citizen_switches_to_an_older_report(site, page: Page, report_2023):
    page.goto(site + "/")
    expect(page.locator(".hero__asof")).to_have_text("令和5年3月現在（2023年3月）")
    assert totals(page)[0] == ("A", "9", "15.00%")

    page.get_by_label("報告の時点").select_option("2022-03")
    page.get_by_role("button", name="表示").click()
    expect(page).to_have_url(site + "/?report=2022-03")
    expect(page.locator(".hero__asof")).to_have_text("令和4年3月現在（2022年3月）")
    assert totals(page)[0] == ("A", "8", "13.33%")

    # Links stay on the chosen report.
    page.get_by_role("link", name="第1章 デジタル未来都市").click()
    expect(page).to_have_url(site + "/chapters/1/?report=2022-03")
    expect(page.locator("#item-4-1 .badge__code")).to_have_text("C")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("overview", "/"),
        ("chapter-1", "/chapters/1/"),
        ("chapter-6", "/chapters/6/"),
        ("pledge-28", "/pledges/28/"),
        ("items", "/items/"),
        ("not-found", "/pledges/99/"),
    ],
)
def test_phone_screen_never_scrolls_sideways(site, page: Page, report_2022, name, path):
    page.set_viewport_size(PHONE)
    page.goto(site + path)
    expect(page.locator("h1")).to_be_visible()
    assert not has_horizontal_scroll(page), f"{path} scrolls sideways at 375 px"
    screenshot(page, f"{name}-phone")


def test_keyboard_user_can_skip_to_the_content_and_filter(site, page: Page, report_2022):
    page.goto(site + "/items/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("キーワード").focus()
    page.keyboard.type("SDGs　パートナー制度")
    page.keyboard.press("Enter")
    rows = page.locator("table.items-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("入間SDGsパートナー制度の創設")


def test_print_shows_the_chapter_without_navigation(site, page: Page, report_2022):
    page.goto(site + "/chapters/6/")
    page.emulate_media(media="print")
    expect(page.locator(".site-nav")).to_be_hidden()
    expect(page.locator(".report-selector")).to_be_hidden()
    expect(page.locator("article.item").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "chapter-6-print.pdf"), format="A4")


# Contrast ratio (WCAG 2.x relative luminance) of each element's text against the first opaque
# background behind it.
CONTRAST_JS = """
(selector) => {
  const parse = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((el) => {
    const a = lum(parse(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return [el.textContent.trim().slice(0, 30), Math.round(ratio * 100) / 100];
  });
}
"""


def test_text_meets_wcag_aa_contrast(site, page: Page, report_2022):
    checked = 0
    for path in ("/", "/chapters/1/", "/items/"):
        page.goto(site + path)
        for text, ratio in page.evaluate(
            CONTRAST_JS,
            ".badge, .site-header a, .site-header label, main a, main p, main li, "
            "main th, main td, .legend__item, .site-footer p",
        ):
            checked += 1
            assert ratio >= 4.5, f"{path}: {text!r} has contrast {ratio}"
    assert checked > 100


STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def test_pages_work_under_a_strict_content_security_policy(site, page: Page, report_2022):
    """Served with a CSP that forbids inline style and script, nothing is refused."""

    def with_csp(route):
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": STRICT_CSP},
        )

    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text else None,
    )
    page.route(re.compile(r".*"), with_csp)
    for path in ("/", "/chapters/4/", "/pledges/28/", "/items/?rating=C"):
        page.goto(site + path)
        # The stylesheet applied: the header has its colour, the bars their segments.
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
        ) == "rgb(11, 61, 107)"
    page.goto(site + "/")
    expect(page.locator("svg.bar rect.bar__seg.tone-0").first).to_have_attribute("width", "13.33%")
    assert violations == []


def test_browser_gets_japanese_pages(site, page: Page, report_2022):
    response = page.goto(site + "/")
    assert response.headers["content-language"] == "ja"
    expect(page.locator("html")).to_have_attribute("lang", "ja")
