"""The changes page in a real headless Chromium (Debian's), against Django's live server.

Screenshots go to ``artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pledges import loading
from pledges.models import Report

from . import later_reports

# Playwright's sync API runs an event loop in this thread; Django's ORM (fixtures) refuses to run
# under one unless told it is safe, which it is here: the test thread only sets data up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # `playwright install` cannot download browsers here; use the system Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture
def three_reports(report_2022: Report, real_table) -> Report:
    table_2023 = later_reports.table_2023(real_table)
    loading.load_table(table_2023)
    loading.load_table(later_reports.table_2024(table_2023))
    return Report.objects.get(as_of=date(2024, 3, 1))


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


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
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + "/changes/2022-03/2024-03/")
    expect(page.get_by_role("img", name="評価ごとの件数の推移")).to_be_visible()
    assert not page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    screenshot(page, "changes-phone")
