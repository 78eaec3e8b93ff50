"""axe-core (pinned in ``package.json``, installed by ``npm ci``) finds no violation on any public
page, in Japanese and English, nor on the main admin pages, at 375 and 1280 px, in Debian's
Chromium against the live server.

The site's CSP forbids the injected script, so these pages are opened in a context that bypasses
CSP (the CSP itself is tested in ``tests/test_csp_browser.py``). Each test visits all its pages
and reports every page's violations at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from pledges.models import Assessment

from .browser import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = {"375": PHONE, "1280": DESKTOP}
PASSWORD = "correct-horse-battery-staple"

PUBLIC_PAGES = (
    "/",
    "/chapters/1/",
    "/pledges/4/",  # 4① carries a footnote
    "/items/",
    "/items/?q=デジタル",
    "/changes/",
    "/manifestos/",
    "/follow/",
)
NOT_FOUND = "/no-such-page/"  # the 404 page, checked with the others


def violations(page: Page) -> list[str]:
    """axe's violations on ``page`` as lines: rule id, impact, the first three nodes' targets."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(node["target"]) for node in v["nodes"][:3])
        + (f" … and {len(v['nodes']) - 3} more" if len(v["nodes"]) > 3 else "")
        for v in found
    ]


def report(found: dict[str, list[str]]) -> str:
    """Each page with violations, then its violations, one a line."""
    return "axe-core found violations:\n" + "\n".join(
        f"{path}\n  " + "\n  ".join(lines) for path, lines in found.items() if lines
    )


@pytest.fixture
def axe_context(browser: Browser, browser_context_args: dict, request) -> Iterator[BrowserContext]:
    """A context of the requested width that lets axe's script in despite the CSP."""
    assert AXE.exists(), "axe-core is not installed: run `npm ci` (bin/test does when missing)"
    context = browser.new_context(
        **browser_context_args, viewport=VIEWPORTS[request.param], bypass_csp=True
    )
    yield context
    context.close()


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("axe_context", list(VIEWPORTS), indirect=True)
def test_public_pages_have_no_axe_violations(live_server, axe_context, three_reports, language):
    # The cookie the header's language links set (pledges.views.language).
    axe_context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page = axe_context.new_page()
    found = {}
    for path in (*PUBLIC_PAGES, NOT_FOUND):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == (404 if path == NOT_FOUND else 200)
        assert page.locator("html").get_attribute("lang") == language
        found[path] = violations(page)
    if any(found.values()):
        pytest.fail(report(found), pytrace=False)


@pytest.mark.parametrize("axe_context", list(VIEWPORTS), indirect=True)
def test_admin_pages_have_no_axe_violations(
    live_server, axe_context, three_reports, django_user_model
):
    django_user_model.objects.create_superuser("clerk", "clerk@example.org", PASSWORD)
    assessment = Assessment.objects.get(
        sub_item__pledge__chapter__report=three_reports,
        sub_item__pledge__number=2,
        sub_item__position=2,
    )
    page = axe_context.new_page()
    found = {}
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    found["/admin/login/"] = violations(page)
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in (
        "/admin/",
        "/admin/pledges/assessment/",
        f"/admin/pledges/assessment/{assessment.pk}/change/",
        f"/admin/pledges/report/{three_reports.pk}/change/",
    ):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        found[path] = violations(page)
    if any(found.values()):
        pytest.fail(report(found), pytrace=False)
