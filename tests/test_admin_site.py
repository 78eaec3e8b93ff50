"""The admin as clerks meet it: pledge data first, Japanese labels, labelled inputs.

The layout on a phone and the colours are checked in a browser (test_admin_phone_browser.py).
"""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from pledges import roles
from pledges.models import Report

from .lookups import assessment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client() -> Client:
    return logged_in(User.objects.create_superuser("kanri", "kanri@example.org", "unused-pw-1"))


@pytest.fixture
def editor_client() -> Client:
    roles.sync_roles()
    editor = User.objects.create_user("henshu", password="unused-pw-123", is_staff=True)
    editor.groups.add(Group.objects.get(name=roles.EDITOR))
    return logged_in(editor)


def app_sections(response) -> list[str]:
    """The app labels of the index's sections, in order (``app-<label>`` ids)."""
    return re.findall(r'<div class="app-(\w+) module', response.content.decode())


def test_the_index_puts_the_pledge_data_first_and_login_records_last(superuser_client) -> None:
    response = superuser_client.get("/admin/")
    assert app_sections(response) == ["pledges", "auth", "axes"]
    assertContains(response, "ログインの記録(試行・失敗・ロック)")
    assertContains(response, "ログインの試行")
    assertNotContains(response, "Access attempts")
    assertNotContains(response, ">Axes<")


def test_login_records_are_japanese_on_their_own_pages(superuser_client) -> None:
    AccessAttempt.objects.create(
        username="henshu", ip_address="192.0.2.1", user_agent="test", http_accept="*/*",
        path_info="/admin/login/", get_data="", post_data="", failures_since_start=1,
    )
    response = superuser_client.get("/admin/axes/accessattempt/")
    assert response.status_code == 200
    assertContains(response, "ログインの試行")
    assertContains(response, "IPアドレス")
    assertNotContains(response, "Attempt Time")


def test_editors_see_no_login_records_even_when_a_group_grants_them(editor_client) -> None:
    editors = Group.objects.get(name=roles.EDITOR)
    editors.permissions.add(Permission.objects.get(codename="view_accessattempt"))
    response = editor_client.get("/admin/")
    assert app_sections(response) == ["pledges"]
    assertNotContains(response, "ログインの記録")
    # The side bar of every page lists the same apps.
    page = editor_client.get("/admin/pledges/assessment/")
    assertNotContains(page, "/admin/axes/")


def test_lists_and_filters_name_reports_by_their_japanese_month(superuser_client) -> None:
    for url in ("/admin/pledges/assessment/", "/admin/pledges/pledge/",
                "/admin/pledges/subitem/", "/admin/pledges/chapter/",
                "/admin/pledges/footnote/"):
        body = superuser_client.get(url).content.decode()
        cells = re.findall(r'<td class="field-report_month">(.*?)</td>', body)
        assert cells and set(cells) == {"令和4年3月"}, url
    body = superuser_client.get("/admin/pledges/assessment/").content.decode()
    assert re.search(r'<a href="\?report=2022-03"[^>]*>令和4年3月</a>', body)


def test_a_draft_is_marked_as_such_in_the_lists(superuser_client) -> None:
    Report.objects.update(status=Report.Status.DRAFT)
    body = superuser_client.get("/admin/pledges/assessment/").content.decode()
    assert "令和4年3月 <strong>(下書き)</strong>" in body
    assert re.search(r'<a href="\?report=2022-03"[^>]*>令和4年3月 \(下書き\)</a>', body)


def test_every_input_of_the_notes_inline_has_a_label(superuser_client) -> None:
    report = Report.objects.get()
    note_count = assessment(report, 2, 2).notes.count()
    response = superuser_client.get(
        f"/admin/pledges/assessment/{assessment(report, 2, 2).pk}/change/"
    )
    body = response.content.decode()
    inputs = re.findall(
        r'<(?:input|textarea)[^>]*\bid="(id_notes-\d+-(?:position|text|DELETE))"', body
    )
    assert len(inputs) == 3 * note_count + 2  # each note's three, the blank one's two
    labelled = set(re.findall(r'<label[^>]*\bfor="(id_notes-\d+-\w+)"', body))
    assert set(inputs) <= labelled
    assertContains(response, '<label class="notes-inline__label" for="id_notes-0-position">'
                             "順番</label>", html=True)
    assertContains(response, 'href="/static/pledges/admin.css"')
