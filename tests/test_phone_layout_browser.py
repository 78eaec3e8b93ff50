"""Every main page at 375 px in Japanese and English, in Debian's Chromium: nothing sticks out
sideways except inside a labelled, focusable scroll region, and the chart stays legible.

Screenshots of each page at 375 and 1280 px in both languages go to ``artifacts/screenshots/``
(git-ignored) as ``<page>-<language>-<width>.png``, for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import PHONE, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = {
    "overview": "/",
    "chapter-1": "/chapters/1/",
    "pledge-5": "/pledges/5/",
    "items": "/items/",
    "changes": "/changes/",
    "manifestos": "/manifestos/",
    "follow": "/follow/",
}
DESKTOP = {"width": 1280, "height": 900}

# Each visible element that reaches past the viewport's sides, unless the nearest ancestor that
# clips or scrolls sideways is a scroll region a keyboard and a screen reader can use. An
# element cut off by an ancestor with overflow: hidden (an SVG's box included) counts too.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const usable = (box) =>
    ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
    && box.getAttribute('role') === 'region' && box.tabIndex === 0
    && (box.hasAttribute('aria-label') || box.hasAttribute('aria-labelledby'));
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    if (rect.left >= -0.5 && rect.right <= width + 0.5) continue;
    let box = element.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') {
      box = box.parentElement;
    }
    if (box && box !== document.body && usable(box)) continue;
    found.push(`${element.tagName.toLowerCase()}.${element.getAttribute('class') || ''}: `
      + `${(element.textContent || '').trim().slice(0, 30)} (${rect.left}…${rect.right})`);
  }
  return found;
}"""

# The on-screen size of each chart label: its font size times the SVG's scale.
LABEL_SIZES = """() => Array.from(document.querySelectorAll('.trend-axis-label'), (label) => {
  const svg = label.ownerSVGElement;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return parseFloat(getComputedStyle(label).fontSize) * scale;
})"""


def in_language(page: Page, site: str, language: str) -> None:
    # The cookie the header's language links set (pledges.views.language).
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_phone_pages_overflow_only_inside_labelled_scroll_regions(
    live_server, page: Page, three_reports, name, language
):
    in_language(page, live_server.url, language)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + PAGES[name])
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_be_visible()
    assert page.evaluate(OVERFLOWING) == [], f"{PAGES[name]} ({language}) overflows at 375 px"
    assert not page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    screenshot(page, f"{name}-{language}-375")
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + PAGES[name])
    screenshot(page, f"{name}-{language}-1280")


@pytest.mark.parametrize("path", ["/", "/changes/"])
def test_trend_table_scrolls_in_its_own_region_and_chart_labels_stay_legible(
    live_server, page: Page, three_reports, path
):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    region = page.get_by_role("region", name="評価ごとの件数(各報告時点)")
    expect(region).to_be_visible()
    assert region.evaluate("(box) => box.scrollWidth > box.clientWidth"), "nothing to scroll"
    # A keyboard user reaches it and scrolls it with the arrow keys.
    region.focus()
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.scroll-region').scrollLeft > 0", timeout=2000
    )
    sizes = page.evaluate(LABEL_SIZES)
    assert sizes and min(sizes) >= 12, sizes
