"""The assessment change page in headless Chromium: usable on a 375 px phone, readable, labelled.

Screenshots go to ``artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from pledges import loading
from pledges.models import Assessment

from .browser import PHONE, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple"
# WCAG 2.2 AA: 4.5:1 for text of normal size.
MIN_CONTRAST = 4.5


@pytest.fixture
def assessment_page(page: Page, live_server, django_user_model, real_bytes) -> Page:
    """The change page of 2② (three notes) open in ``page``, logged in as an editor would be."""
    loading.load_file(real_bytes, source_name="2022.txt")
    django_user_model.objects.create_superuser("clerk", "clerk@example.org", PASSWORD)
    assessment = Assessment.objects.get(
        sub_item__pledge__number=2, sub_item__position=2
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/pledges/assessment/{assessment.pk}/change/")
    page.wait_for_selector(".add-row a")  # inlines.js has run
    return page


def luminance(css_colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


OFF_SCREEN = """
(width) => [...document.querySelectorAll(
    "#notes-group tr.form-row:not(.empty-form) :is(input, textarea, label, a, p)"
  )]
  .filter((element) => element.offsetParent !== null && element.type !== "hidden")
  .map((element) => [element.name || element.className || element.tagName,
                     element.getBoundingClientRect()])
  .filter(([, box]) => box.left < 0 || box.right > width)
  .map(([name, box]) => `${name}: ${Math.round(box.left)}–${Math.round(box.right)}`)
"""


def test_the_notes_inline_fits_a_375_px_phone(assessment_page: Page) -> None:
    page = assessment_page
    screenshot(page, "admin-assessment-phone")
    rows = page.locator("#notes-group tr.form-row:not(.empty-form)")
    assert rows.count() == 4  # three notes and one empty form for a new one
    assert not page.locator("#notes-group tr.empty-form").is_visible()  # inlines.js' template
    assert page.evaluate(OFF_SCREEN, PHONE["width"]) == []
    group = page.locator("#notes-group")
    assert group.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The text of a note is wide enough to read and edit: most of the screen.
    text_box = page.locator("#id_notes-0-text").bounding_box()
    assert text_box["width"] >= 0.75 * PHONE["width"]


def breadcrumb_contrasts(page: Page) -> list[float]:
    """Contrast of the breadcrumbs' text and of each of its links with their background."""
    background = page.eval_on_selector(
        "div.breadcrumbs", "e => getComputedStyle(e).backgroundColor"
    )
    colours = page.eval_on_selector_all(
        "div.breadcrumbs, div.breadcrumbs a", "es => es.map(e => getComputedStyle(e).color)"
    )
    assert len(colours) >= 4  # the current page and three links
    return [round(contrast(colour, background), 2) for colour in colours]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_breadcrumbs_are_readable_in_either_theme_and_when_focused(
    assessment_page: Page, scheme: str
) -> None:
    page = assessment_page
    page.emulate_media(color_scheme=scheme)
    assert min(breadcrumb_contrasts(page)) >= MIN_CONTRAST
    page.focus("div.breadcrumbs a")
    assert min(breadcrumb_contrasts(page)) >= MIN_CONTRAST
    underline = page.eval_on_selector(
        "div.breadcrumbs a", "e => getComputedStyle(e).textDecorationLine"
    )
    assert underline == "underline"


def test_every_note_input_has_a_label(assessment_page: Page) -> None:
    unlabelled = assessment_page.evaluate(
        """() => [...document.querySelectorAll(
              "#notes-group tr.form-row:not(.empty-form) :is(input, textarea)")]
            .filter((e) => e.type !== "hidden" && e.labels.length === 0
                           && !e.getAttribute("aria-label"))
            .map((e) => e.name)"""
    )
    assert unlabelled == []
