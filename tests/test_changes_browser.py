"""The changes page in a real headless Chromium (Debian's), against Django's live server.

Screenshots go to ``artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import PHONE, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_citizen_sees_what_moved_and_follows_a_backward_move(
    live_server, page: Page, three_reports
):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="報告ごとの変化").first.click()
    expect(page.locator("h1")).to_have_text("令和5年3月から令和6年3月への変化")
    expect(page.get_by_role("alert")).to_contain_text("評価が下がった項目が1件あります。")
    rows = page.locator("table.rating-changes tbody tr")
    expect(rows).to_have_text(
        [
            "A 完了 10 11 +1",
            "B 実施中 29 28 −1",
            "C 着手 21 19 −2",
            "D 未着手 0 2 +2",
        ],
        use_inner_text=True,
    )
    chart = page.get_by_role("img", name="評価ごとの件数の推移")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 4
    assert chart.bounding_box()["height"] > 150
    screenshot(page, "changes")

    page.locator("#changes-back").get_by_role("link").first.click()
    expect(page).to_have_url(live_server.url + "/pledges/27/?report=2024-03#item-27-1")
    expect(page.locator("body")).to_contain_text("後退(前回 着手)")


def test_changes_page_fits_a_phone_screen(live_server, page: Page, three_reports):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/changes/2022-03/2024-03/")
    expect(page.get_by_role("img", name="評価ごとの件数の推移")).to_be_visible()
    assert not page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    screenshot(page, "changes-phone")
