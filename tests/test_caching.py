"""Public pages are cached per report and page; every change in a report's tree invalidates them."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from pledges import caching, editing, loading
from pledges.models import (
    Assessment,
    Chapter,
    Footnote,
    Pledge,
    Report,
    SubItem,
)
from pledges.testing import generated_table

from .admin_forms import change_url, form_data, post_change
from .lookups import assessment, counts, summary

pytestmark = pytest.mark.django_db

PAGES = ["/", "/api/summary.json"]


def version_of(report: Report) -> int:
    return Report.objects.values_list("content_version", flat=True).get(pk=report.pk)


def other_report() -> Report:
    loading.load_table(
        generated_table(sub_items=8, as_of=date(2023, 3, 1)), source_name="2023",
        same_manifesto=True,
    )
    return Report.objects.get(as_of=date(2023, 3, 1))


@pytest.mark.parametrize("path", PAGES)
def test_repeated_request_with_its_etag_gets_304_after_one_query(
    client, report_2022, path, django_assert_num_queries
):
    first = client.get(path)
    assert first.status_code == 200
    assert "no-cache" in first["Cache-Control"]
    with django_assert_num_queries(1):
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again.content == b""


@pytest.mark.parametrize("path", PAGES)
def test_cached_page_is_served_with_one_query_and_same_bytes(
    client, report_2022, path, django_assert_num_queries
):
    first = client.get(path)
    with django_assert_num_queries(1):
        second = client.get(path)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_rating_saved_in_the_admin_shows_on_the_next_public_request(
    client, admin_client, report_2022
):
    before = client.get("/api/summary.json")
    assert counts(summary(client)) == {"A": 8, "B": 28, "C": 24, "D": 0}
    pledge_page = client.get("/pledges/3/")
    target = assessment(report_2022, 3, 1)
    assert target.rating == "C"

    saved = post_change(admin_client, target, rating="A")
    assert saved.status_code == 302

    after = client.get("/api/summary.json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert {r["code"]: r["count"] for r in json.loads(after.content)["ratings"]} == {
        "A": 9, "B": 28, "C": 23, "D": 0,
    }
    page = client.get("/pledges/3/", HTTP_IF_NONE_MATCH=pledge_page["ETag"])
    assert page.status_code == 200 and page.content != pledge_page.content


def test_a_note_added_in_the_admin_shows_on_the_chapter_page(client, admin_client, report_2022):
    assert "市民説明会を開催" not in client.get("/chapters/1/").content.decode()
    target = assessment(report_2022, 3, 1)
    page = admin_client.get(change_url(target))
    data = form_data(page)
    prefix = next(
        inline.formset.prefix for inline in page.context["inline_admin_formsets"]
    )
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data[f"{prefix}-{index}-text"] = "市民説明会を開催"
    data[f"{prefix}-{index}-position"] = index + 1
    data[f"{prefix}-{index}-bulleted"] = "on"
    data[f"{prefix}-{index}-assessment"] = target.pk
    assert admin_client.post(change_url(target), data).status_code == 302
    assert "市民説明会を開催" in client.get("/chapters/1/").content.decode()


def test_the_admin_bulk_rating_action_shows_on_the_next_public_request(
    client, admin_client, report_2022
):
    assert counts(summary(client))["D"] == 0
    selected = [assessment(report_2022, 3, 1).pk, assessment(report_2022, 3, 2).pk]
    response = admin_client.post(
        "/admin/pledges/assessment/", {"action": "set_rating_D", "_selected_action": selected}
    )
    assert response.status_code == 302
    assert counts(summary(client))["D"] == 2


def test_an_excel_import_shows_on_the_next_public_request(client, report_2022):
    from openpyxl import load_workbook

    from pledges import excel

    from .workbooks import row_of

    assert counts(summary(client))["A"] == 8
    workbook = load_workbook(io.BytesIO(excel.export_xlsx(report_2022)))
    sheet = workbook[excel.LIST_SHEET]
    sheet[f"E{row_of(sheet, '3①')}"] = "A 完了"
    data = io.BytesIO()
    workbook.save(data)
    editing.apply_workbook(excel.plan_import(data.getvalue(), report_2022), reason="test")
    assert counts(summary(client))["A"] == 9


def test_publishing_a_draft_shows_it_as_the_newest_report(client, report_2022):
    draft = other_report()
    draft.status = Report.Status.DRAFT
    draft.save()
    assert summary(client)["report"] == "2022-03"
    editing.publish(draft)
    assert summary(client)["report"] == "2023-03"


def test_a_rating_set_on_a_whole_report_shows_on_the_next_request(client, report_2022):
    assert counts(summary(client))["D"] == 0
    editing.set_rating(
        Assessment.objects.filter(sub_item__pledge__chapter__report=report_2022), "D"
    )
    assert counts(summary(client))["D"] == 60


def test_unpublishing_the_newest_report_falls_back_to_the_older_one(client, report_2022):
    newer = other_report()
    assert summary(client)["report"] == "2023-03"
    newer.status = Report.Status.DRAFT
    newer.save()
    assert summary(client)["report"] == "2022-03"


def test_importing_another_month_changes_every_page_etag(client, report_2022):
    """The month selector on each page lists the published reports."""
    before = client.get("/?report=2022-03")
    other_report()
    after = client.get("/?report=2022-03", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]


def test_editing_one_report_keeps_the_other_reports_own_pages(client, report_2022):
    newer = other_report()
    old_page = client.get("/chapters/1/?report=2022-03")
    editing.save_part(Chapter.objects.filter(report=newer).first())
    again = client.get("/chapters/1/?report=2022-03", HTTP_IF_NONE_MATCH=old_page["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/", "/chapters/1/", "/pledges/1/", "/changes/", "/feed/"])
def test_pages_comparing_reports_change_when_an_older_report_is_edited(
    client, report_2022, path
):
    other_report()
    newest = client.get(path)
    assert newest.status_code == 200
    older = assessment(report_2022, 1, 1)
    older.rating = "B"
    editing.save_assessment(older)
    again = client.get(path, HTTP_IF_NONE_MATCH=newest["ETag"])
    assert again.status_code == 200


def test_replacing_a_month_by_import_shows_the_new_file(client, report_2022, real_text):
    assert summary(client)["chapters"][0]["title"] == "デジタル未来都市"
    changed = real_text.replace("第1章 デジタル未来都市", "第1章 デジタル未来都市づくり", 1)
    loading.load_file(changed.encode(), source_name="again.txt", replace=True)
    assert summary(client)["chapters"][0]["title"] == "デジタル未来都市づくり"


def test_same_url_in_another_language_is_a_separate_entry(client, report_2022):
    japanese = client.get("/", HTTP_ACCEPT_LANGUAGE="ja")
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert japanese["ETag"] != english["ETag"]
    assert english["Content-Language"] == "en"


def test_staff_with_a_session_bypass_the_cache(client, report_2022, django_user_model):
    page = client.get("/")
    staff = django_user_model.objects.create_user("staff", password="x-1234567", is_staff=True)
    client.force_login(staff)
    fresh = client.get("/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert fresh.status_code == 200
    assert not fresh.has_header("ETag")


def test_unknown_month_is_404_and_not_cached(client, report_2022, settings):
    settings.CACHES = {"default": {"BACKEND": "tests.test_caching.RecordingCache"}}
    for path in ("/api/reports/1999-03/summary.json", "/?report=1999-03"):
        response = client.get(path)
        assert response.status_code == 404
        assert not response.has_header("ETag")
    assert caches["default"].stored == []
    client.get("/api/reports/2022-03/summary.json")  # a known month is stored, as a check
    assert len(caches["default"].stored) == 1


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Report, "pk"),
        (Chapter, "report"),
        (Footnote, "report"),
        (Pledge, "chapter__report"),
        (SubItem, "pledge__chapter__report"),
    ],
)
def test_saving_or_deleting_any_part_bumps_only_its_own_report(report_2022, model, lookup):
    newer = other_report()
    before, newer_before = version_of(report_2022), version_of(newer)
    instance = model.objects.filter(**{lookup: report_2022.pk}).first()
    editing.save_part(instance)
    assert version_of(report_2022) == before + 1
    if model is not Report:
        editing.delete_part(instance)
        assert version_of(report_2022) >= before + 2
    assert version_of(newer) == newer_before


def test_an_assessment_or_its_notes_saved_bump_only_its_own_report(report_2022):
    newer = other_report()
    before, newer_before = version_of(report_2022), version_of(newer)
    editing.save_assessment(
        assessment(report_2022, 1, 1), notes=[editing.NoteEdit("一つだけの記述")]
    )
    assert version_of(report_2022) == before + 1
    assert version_of(newer) == newer_before


def test_deleting_a_whole_report_adds_no_query_per_row():
    """A replace import deletes thousands of rows: a fixed number of queries whatever the size."""
    from django.db import connection

    for year, size in ((2030, 8), (2031, 80)):
        loading.load_table(
            generated_table(sub_items=size, as_of=date(year, 3, 1)), same_manifesto=True
        )
    queries = []
    for year in (2030, 2031):
        with CaptureQueriesContext(connection) as captured:
            editing.delete_report(Report.objects.get(as_of=date(year, 3, 1)))
        queries.append(len(captured))
    assert queries[0] == queries[1]


class RecordingCache(LocMemCache):
    """A local cache that lists the keys it was asked to store."""

    def __init__(self, name, params):
        super().__init__(name, params)
        self.stored: list[str] = []

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self.stored.append(key)
        super().set(key, value, timeout, version)


class BrokenCache(BaseCache):
    """A cache whose server is down."""

    def get(self, key, default=None, version=None):
        raise ConnectionError("cache server down")

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        raise ConnectionError("cache server down")


def test_pages_still_render_when_the_cache_is_down(client, report_2022, settings):
    settings.CACHES = {"default": {"BACKEND": "tests.test_caching.BrokenCache"}}
    assert counts(summary(client)) == {"A": 8, "B": 28, "C": 24, "D": 0}
    assert client.get("/").status_code == 200


def test_template_responses_are_rendered_before_caching(rf, report_2022):
    """Class-based views (django-filter's FilterView on /items/) return TemplateResponse."""
    from django.template import engines
    from django.template.response import TemplateResponse

    template = engines["django"].from_string("<p>{{ n }}</p>")
    calls = []

    def view(request):
        calls.append(1)
        return TemplateResponse(request, template, {"n": len(calls)})

    page = caching.cached_page(view)
    assert page(rf.get("/x/")).content == b"<p>1</p>"
    assert page(rf.get("/x/")).content == b"<p>1</p>"
    assert len(calls) == 1


def test_a_page_that_used_a_csrf_token_is_not_shared(rf, report_2022):
    from django.middleware.csrf import get_token

    calls = []

    def view(request):
        calls.append(1)
        return HttpResponse(get_token(request))

    page = caching.cached_page(view)
    page(rf.get("/form/"))
    page(rf.get("/form/"))
    assert len(calls) == 2


@pytest.mark.parametrize("path", ["/api/summary.json", "/export/latest.xlsx"])
def test_a_stray_report_parameter_does_not_pin_the_newest_reports_page(client, report_2022, path):
    newer = other_report()
    first = client.get(path, {"report": "2022-03"})
    assessment = Assessment.objects.filter(sub_item__pledge__chapter__report=newer).first()
    assessment.rating = "D" if assessment.rating != "D" else "A"
    editing.save_assessment(assessment)
    second = client.get(path, {"report": "2022-03"})
    assert first["ETag"] != second["ETag"]
    if path.endswith(".json"):
        assert second.json() == client.get(path).json()


# -- nothing a request sends changes what another reader gets ---------------------------------


def test_a_foreign_host_never_reaches_the_cached_feed(client, report_2022, settings):
    settings.ALLOWED_HOSTS = ["pledges.example.jp", "localhost"]
    settings.SITE_URL = "https://pledges.example.jp"
    poisoned = client.get("/feed/", HTTP_HOST="localhost:6666")
    later = client.get("/feed/", HTTP_HOST="pledges.example.jp")
    assert b"localhost" not in poisoned.content
    assert later.content == poisoned.content
    assert b'href="https://pledges.example.jp/?report=2022-03"' in later.content


def test_junk_parameters_neither_fragment_nor_poison_the_cache(
    client, report_2022, django_assert_num_queries
):
    first = client.get("/items/", {"rating": "C", "utm_source": "<mail>", "x": "1"})
    assert b"utm_source" not in first.content and b"%3Cmail%3E" not in first.content
    with django_assert_num_queries(1):  # the versions only: served from the cache
        again = client.get("/items/", {"x": "2", "rating": "C", "junk": "3"})
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_repeated_known_parameter_counts_once(client, report_2022):
    response = client.get("/items/?rating=A&rating=C")
    assert response.context["filter"].form.cleaned_data["rating"] == "C"
    assert b"rating=A" not in response.content


@pytest.mark.parametrize(
    ("query", "known"),
    [
        ("q=a&junk=1&rating=A&rating=C", "q=a&rating=C"),  # the last value, names in order
        ("report=&page=2", "page=2&report="),  # a blank value is a value
        ("q=%E3%83%87%E3%82%B8&x=%ZZ", "q=%E3%83%87%E3%82%B8"),  # text re-encoded as Django
        ("junk=1", ""),
    ],
)
def test_a_query_keeps_only_the_known_parameters_as_django_reads_them(query, known):
    assert caching.known_query(query, ("rating", "q", "report", "page")) == known


@pytest.mark.parametrize("cache", ["per process", "shared"])
def test_a_query_with_too_many_parameters_is_refused_like_django_refuses_it(
    client, report_2022, settings, request, cache
):
    if cache == "shared":  # the hit is looked for before the stack
        request.getfixturevalue("shared_cache")
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    flood = "&".join(f"x{n}=1" for n in range(10))
    for _ in range(2):  # rendered, then (if it were stored) a hit
        assert client.get(f"/items/?rating=C&{flood}").status_code == 400
        assert client.get("/items/?rating=C").status_code == 200


def test_a_made_up_session_cookie_is_served_from_the_cache(
    client, report_2022, django_assert_num_queries
):
    client.get("/chapters/1/")
    client.cookies["sessionid"] = "made-up-by-a-client-0123456789"
    # The versions, then the made-up session looked up once and not found; no rendering.
    with django_assert_num_queries(2):
        response = client.get("/chapters/1/")
    assert response.status_code == 200


def test_a_signed_in_editor_is_never_served_a_cached_page(
    client, report_2022, admin_user, django_assert_num_queries
):
    client.get("/chapters/1/")
    client.force_login(admin_user)
    response = client.get("/chapters/1/")
    assert response.status_code == 200
    assert "ETag" not in response


# --------------------------------------------------------------------------------------------
# A cache all processes share (database, Redis): hits stamped by the generation, no report query


@pytest.fixture
def shared_cache(settings):
    """The production default: the database cache (its table inside the test's transaction)."""
    from django.core.management import call_command

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "pledges_test_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    assert caching.shares_generation()


@pytest.mark.parametrize("path", ["/", "/items/", "/api/summary.json"])
def test_a_shared_cache_serves_a_hit_with_one_query_and_the_same_bytes(
    client, report_2022, shared_cache, path, django_assert_num_queries
):
    first = client.get(path)
    # One query: the generation and the page together (get_many), no read of the reports.
    with django_assert_num_queries(1):
        second = client.get(path)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    with django_assert_num_queries(1):
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_shared_cache_shows_a_write_on_the_next_request(
    client, report_2022, shared_cache, django_capture_on_commit_callbacks
):
    before = client.get("/api/summary.json")
    assert counts(summary(client))["D"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        editing.set_rating(
            Assessment.objects.filter(sub_item__pledge__chapter__report=report_2022), "D"
        )
    assert counts(summary(client))["D"] == 60
    again = client.get("/api/summary.json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert again.status_code == 200


def test_a_shared_cache_moves_to_a_new_generation_only_once_a_write_commits(
    report_2022, shared_cache, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    first = caching._generation()
    with django_capture_on_commit_callbacks() as callbacks:
        editing.set_rating(Assessment.objects.filter(pk=assessment(report_2022, 3, 1).pk), "A")
    assert cache.get(caching.GENERATION_KEY) == first  # not before the commit
    assert callbacks == [caching.pages_changed]
    callbacks[0]()
    assert cache.get(caching.GENERATION_KEY) not in (None, first)


def test_a_shared_cache_forgets_a_deleted_report_on_the_next_request(
    client, report_2022, shared_cache, django_capture_on_commit_callbacks
):
    newer = other_report()
    assert summary(client)["report"] == "2023-03"
    with django_capture_on_commit_callbacks(execute=True):
        editing.delete_report(newer)
    assert summary(client)["report"] == "2022-03"


def test_a_shared_cache_that_lost_its_generation_renders_afresh(
    client, report_2022, shared_cache
):
    from django.core.cache import cache

    first = client.get("/")
    cache.delete(caching.GENERATION_KEY)  # evicted (the database cache culls)
    again = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.content == first.content


def test_a_per_process_cache_keeps_stamping_pages_with_the_report_versions(report_2022):
    """locmem cannot see another process's writes: a hit reads the versions (one query)."""
    assert not caching.shares_generation()


# --------------------------------------------------------------------------------------------
# PageCacheMiddleware: an anonymous reader's hit is answered before the middleware stack

FRONT = "pledges.caching.PageCacheMiddleware"


def without_front(settings) -> None:
    """The stack as it was before PageCacheMiddleware: ``cached_page`` alone answers."""
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != FRONT]


def answered_before_the_stack(response) -> bool:
    """Whether neither SessionMiddleware nor AuthenticationMiddleware saw the request."""
    return not hasattr(response.wsgi_request, "session") and not hasattr(
        response.wsgi_request, "user"
    )


@pytest.mark.parametrize(
    "path",
    ["/", "/chapters/1/", "/items/?rating=C", "/api/summary.json", "/feed/",
     "/export/2022-03.csv"],
)
def test_a_hit_is_the_stored_miss_byte_for_byte_after_one_query_and_no_session(
    client, report_2022, shared_cache, path, django_assert_num_queries
):
    miss = client.get(path)
    assert not answered_before_the_stack(miss)
    for _ in range(2):  # read from the shared cache, then from what this process kept of it
        with django_assert_num_queries(1):
            hit = client.get(path)
        assert answered_before_the_stack(hit)
        assert hit.status_code == 200
        assert hit.content == miss.content
        assert dict(hit.items()) == dict(miss.items())  # CSP, Vary, Content-Language, ETag…
        assert not hit.cookies


@pytest.mark.parametrize("path", ["/", "/export/2022-03.csv"])
def test_a_revalidation_gets_the_same_304_before_the_stack_as_through_it(
    client, report_2022, shared_cache, settings, path, django_assert_num_queries
):
    from django.test import Client

    page = client.get(path)
    with django_assert_num_queries(1):
        early = client.get(path, HTTP_IF_NONE_MATCH=page["ETag"])
    assert early.status_code == 304
    assert answered_before_the_stack(early)
    without_front(settings)
    through = Client().get(path, HTTP_IF_NONE_MATCH=page["ETag"])
    assert through.status_code == 304
    assert not answered_before_the_stack(through)
    assert dict(early.items()) == dict(through.items())


@pytest.mark.parametrize(
    ("cookie", "accept_language"),
    [(None, None), (None, "en-US,en;q=0.9"), ("en", "ja"), ("ja", "en"), ("fr", "en"),
     (None, "fr, en;q=0.5"), (None, "*")],
)
def test_a_hit_is_in_the_language_the_stack_would_have_chosen(
    report_2022, shared_cache, settings, cookie, accept_language
):
    from django.test import Client

    def ask():
        reader = Client()
        if cookie:
            reader.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
        headers = {"accept-language": accept_language} if accept_language else {}
        return reader.get("/chapters/1/", headers=headers)

    for language in ("ja", "en"):  # both stored
        Client().get("/chapters/1/", headers={"accept-language": language})
    early = ask()
    assert answered_before_the_stack(early)
    without_front(settings)
    through = ask()
    assert not answered_before_the_stack(through)
    assert early["Content-Language"] == through["Content-Language"]
    assert early.content == through.content


def test_junk_parameters_and_another_allowed_host_get_the_same_hit(
    client, report_2022, shared_cache, settings, django_assert_num_queries
):
    settings.ALLOWED_HOSTS = ["pledges.example.jp", "testserver"]
    first = client.get("/items/", {"rating": "C"})
    with django_assert_num_queries(1):
        again = client.get(
            "/items/", {"utm_source": "<mail>", "rating": ["A", "C"]},
            HTTP_HOST="pledges.example.jp",
        )
    assert answered_before_the_stack(again)
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_host_not_allowed_gets_the_stacks_400_for_a_stored_page(
    client, report_2022, shared_cache, settings
):
    from django.test import Client

    assert client.get("/").status_code == 200
    early = client.get("/", HTTP_HOST="evil.example")
    without_front(settings)
    through = Client().get("/", HTTP_HOST="evil.example")
    assert early.status_code == through.status_code == 400
    assert early.content == through.content


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_other_methods_on_a_stored_page_go_the_full_way(
    client, report_2022, shared_cache, method
):
    client.get("/")
    response = getattr(client, method)("/")
    assert response.status_code == 405  # require_safe
    assert not answered_before_the_stack(response)


def test_a_signed_in_editor_is_never_answered_from_the_cache_nor_stores_a_page(
    report_2022, shared_cache, admin_user
):
    from django.test import Client

    reader, editor = Client(), Client()
    editor.force_login(admin_user)
    reader.get("/chapters/1/")
    page = editor.get("/chapters/1/")
    assert not answered_before_the_stack(page)
    assert "ETag" not in page
    editor.get("/chapters/2/")
    assert not answered_before_the_stack(reader.get("/chapters/2/"))  # rendered for the reader


def test_a_made_up_session_cookie_goes_the_full_way_to_the_stored_page(
    client, report_2022, shared_cache, django_assert_num_queries
):
    page = client.get("/chapters/1/")
    client.cookies["sessionid"] = "made-up-by-a-client-0123456789"
    with django_assert_num_queries(2):  # the session, then the generation and the page
        response = client.get("/chapters/1/")
    assert not answered_before_the_stack(response)
    assert response.content == page.content


def test_a_write_shows_on_the_next_request_after_hits(
    client, report_2022, shared_cache, django_capture_on_commit_callbacks
):
    for _ in range(3):  # stored, read from the shared cache, then from this process's copy
        before = client.get("/api/summary.json")
    assert answered_before_the_stack(before)
    with django_capture_on_commit_callbacks(execute=True):
        editing.set_rating(
            Assessment.objects.filter(sub_item__pledge__chapter__report=report_2022), "D"
        )
    after = client.get("/api/summary.json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert counts(after.json())["D"] == 60
    assert answered_before_the_stack(client.get("/api/summary.json"))  # stored again


def test_a_process_keeps_its_most_recently_used_decoded_pages_up_to_a_byte_limit():
    held = caching._DecodedPages(limit=10)
    held.keep("a", ("g", 200, [], b"1234"))
    held.keep("b", ("g", 200, [], b"1234"))
    assert held.get("a") is not None  # now the most recently used
    held.keep("c", ("g", 200, [], b"1234"))
    assert held.get("b") is None
    assert held.get("a") is not None and held.get("c") is not None
    held.keep("a", ("h", 200, [], b"12345678"))  # replaced, not counted twice
    assert held.get("c") is None
    assert held.get("a") == ("h", 200, [], b"12345678")
