"""The Content-Security-Policy holds in a real browser: no inline script or style is blocked.

Chromium reports every blocked resource as a ``securitypolicyviolation`` event and a console
error; both are collected while the admin's heaviest pages (login, change list, a change form
with the two-box permission widget) and the public overview load, and each page is checked for a
sign that its scripts and stylesheets really ran.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from pledges import loading
from pledges.models import Assessment

PASSWORD = "correct-horse-battery-staple"

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    """The page, and a list that collects CSP console errors and failed asset loads."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    # A script or stylesheet that 404s would also leave the page without its JS/CSS.
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}")
        if response.status >= 400 and not response.url.endswith("/favicon.ico")
        else None,
    )
    page.add_init_script(COLLECT_VIOLATIONS)
    return page, problems


def violations(page: Page, problems: list[str]) -> list[str]:
    return [*page.evaluate("window.__violations"), *problems]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("clerk", "clerk@example.org", PASSWORD)


def log_in(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_admin_login_page_loads_its_css_and_js_under_the_policy(watched, live_server, staff):
    page, console = watched
    response = page.goto(f"{live_server.url}/admin/login/")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy
    # base.css ran: the header has the admin's dark background, not the browser default.
    assert page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor") not in (
        "rgba(0, 0, 0, 0)", "transparent",
    )
    assert violations(page, console) == []


def test_admin_change_list_and_change_form_work_under_the_policy(watched, live_server, staff):
    page, console = watched
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/auth/user/")
    # actions.js ran: ticking the select-all box ticks the row and updates the counter.
    page.click("#action-toggle")
    assert page.is_checked("input.action-select")
    assert "1" in page.inner_text(".action-counter")
    page.goto(f"{live_server.url}/admin/auth/user/{staff.pk}/change/")
    # SelectFilter2.js ran: it replaces the permissions list with its two-box widget.
    page.wait_for_selector("#id_user_permissions_from")
    page.goto(f"{live_server.url}/admin/auth/group/add/")
    page.wait_for_selector("#id_permissions_from")
    assert violations(page, console) == []


def test_pledge_admin_pages_work_under_the_policy(watched, live_server, staff, real_bytes):
    """The editors' pages: assessments with their note inlines, reports, history."""
    loading.load_file(real_bytes, source_name="2022.txt")
    assessment = Assessment.objects.order_by("pk").first()
    page, problems = watched
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/pledges/assessment/")
    page.click("#action-toggle")
    assert page.is_checked("input.action-select")
    page.goto(f"{live_server.url}/admin/pledges/assessment/{assessment.pk}/change/")
    # inlines.js ran: it adds the "add another" link under the notes.
    page.wait_for_selector(".add-row a")
    page.goto(f"{live_server.url}/admin/pledges/assessment/{assessment.pk}/history/")
    page.goto(f"{live_server.url}/admin/pledges/report/")
    assert violations(page, problems) == []


@pytest.mark.django_db(transaction=True)
def test_public_overview_has_no_violation(watched, live_server, real_bytes):
    loading.load_file(real_bytes, source_name="2022.txt")
    page, console = watched
    page.goto(f"{live_server.url}/")
    assert page.locator("h1").first.is_visible()
    assert violations(page, console) == []
