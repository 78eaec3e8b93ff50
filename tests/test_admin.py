"""Staff editing through the Django admin, driven with the test client and the real admin forms.

Forms are posted the way a browser would: the change page is fetched, every field of the rendered
form and of its inline formsets (management form included) is sent back, with the edit applied.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from pledges import loading, roles
from pledges.models import Assessment, Chapter, Pledge, ProgressNote, Report, SubItem
from pledges.testing import generated_table

from .admin_forms import change_url, form_data, history_url, post_change, report_url
from .lookups import assessment, counts, summary

CHANGELIST = "/admin/pledges/assessment/"
# Session, user, filter choices, counts, one page of rows: the same at 60 and at 2,000 items.
MAX_CHANGELIST_QUERIES = 10  # measured: 8


# ---------------------------------------------------------------------------------------------
# helpers and fixtures

def staff_user(username: str, role: str) -> User:
    roles.sync_roles()
    user = User.objects.create_user(username, password="unused-pw-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def editor(db) -> User:
    return staff_user("henshu", roles.EDITOR)


@pytest.fixture
def viewer(db) -> User:
    return staff_user("etsuran", roles.VIEWER)


@pytest.fixture
def editor_client(editor: User) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


def first_with_rating(report: Report, code: str) -> Assessment:
    return (
        Assessment.objects.filter(sub_item__pledge__chapter__report=report, rating=code)
        .order_by("sub_item__pledge__number", "sub_item__position")
        .first()
    )


def copy_via_admin(client: Client, report: Report, month: str):
    """Run the copy action on ``report`` and submit ``month`` on the page it leads to."""
    response = client.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "copy_to_draft", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return client.post(response["Location"], {"month": month})


# ---------------------------------------------------------------------------------------------
# editing a rating

def test_editor_changes_a_rating_and_the_api_and_overview_follow_at_once(
    report_2022: Report, editor_client: Client
):
    target = first_with_rating(report_2022, "B")
    assert counts(summary(Client())) == {"A": 8, "B": 28, "C": 24, "D": 0}
    assert "15.00" not in Client().get("/").content.decode()

    response = post_change(editor_client, target, rating="A")

    assert response.status_code == 302, response.context and response.context["errors"]
    target.refresh_from_db()
    assert target.rating == "A"
    public = Client()
    after = summary(public)
    assert counts(after) == {"A": 9, "B": 27, "C": 24, "D": 0}
    assert [r["percent"] for r in after["ratings"]] == ["15.00", "45.00", "40.00", "0.00"]
    assert counts(summary(public, "/api/reports/2022-03/summary.json"))["A"] == 9
    assert "15.00" in public.get("/").content.decode()


def test_rating_change_is_in_history_with_editor_old_and_new_value(
    report_2022: Report, editor: User, editor_client: Client
):
    target = first_with_rating(report_2022, "B")

    post_change(editor_client, target, rating="C")

    newest, previous = target.history.order_by("-history_date", "-history_id")[:2]
    assert newest.history_user == editor
    delta = newest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("rating", "B", "C")]
    page = editor_client.get(history_url(target))
    assert page.status_code == 200
    text = page.content.decode()
    assert editor.username in text
    assert "評価" in text and "B" in text and "C" in text


def test_history_page_runs_a_bounded_number_of_queries(
    report_2022: Report, editor_client: Client, django_assert_max_num_queries
):
    target = first_with_rating(report_2022, "B")
    for rating in "ABCD" * 10:
        target.rating = rating
        target.save()
    for number in range(20):
        ProgressNote.objects.create(assessment=target, position=number, text=f"取組{number}")

    with django_assert_max_num_queries(12):
        response = editor_client.get(history_url(target))

    assert response.status_code == 200
    assert len(response.context["note_changes"]) == target.notes.count()  # one creation each


def test_change_page_shows_context_notes_in_order_and_a_history_link(
    report_2022: Report, editor_client: Client
):
    target = assessment(report_2022, 1, 1)
    notes = list(target.notes.order_by("position").values_list("text", flat=True))
    assert len(notes) >= 1

    page = editor_client.get(change_url(target))

    text = page.content.decode()
    assert escape(target.sub_item.title) in text
    assert escape(target.sub_item.pledge.title) in text  # "&" arrives escaped
    positions = [text.index(escape(note)) for note in notes]
    assert positions == sorted(positions)
    assert history_url(target) in text


def test_saving_an_unchanged_form_adds_no_history(report_2022: Report, editor_client: Client):
    target = first_with_rating(report_2022, "B")

    response = post_change(editor_client, target)

    assert response.status_code == 302
    assert target.history.count() == 1  # the import
    assert Assessment.objects.get(pk=target.pk).updated_at == target.updated_at


def test_published_rating_cannot_be_made_blank(report_2022: Report, editor_client: Client):
    target = first_with_rating(report_2022, "A")

    response = post_change(editor_client, target, rating="")

    assert response.status_code == 200
    assert "公開中の報告では評価を空欄にできません" in response.content.decode()
    target.refresh_from_db()
    assert target.rating == "A"


# ---------------------------------------------------------------------------------------------
# progress notes inline

def test_notes_can_be_added_removed_and_reordered_and_are_renumbered(
    report_2022: Report, editor_client: Client
):
    target = first_with_rating(report_2022, "B")
    target.notes.all().delete()
    for position, text in enumerate(["一つ目", "二つ目", "三つ目"], start=1):
        ProgressNote.objects.create(assessment=target, position=position, text=text)

    touched = target.updated_at
    page = editor_client.get(change_url(target))
    data = form_data(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data[f"{prefix}-0-position"] = 3  # 一つ目 goes last
    data[f"{prefix}-1-DELETE"] = "on"  # 二つ目 goes
    data[f"{prefix}-2-position"] = 1
    data[f"{prefix}-3-text"] = "新しい取組"  # the extra row, position left empty: appended
    response = editor_client.post(change_url(target), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(target.notes.order_by("position").values_list("position", "text")) == [
        (1, "三つ目"), (2, "一つ目"), (3, "新しい取組"),
    ]
    target.refresh_from_db()
    assert target.updated_at > touched  # public pages show it as the item's last update
    history = editor_client.get(history_url(target)).content.decode()
    assert "取組状況の履歴" in history
    assert "二つ目" in history and "新しい取組" in history


def test_a_note_with_a_line_break_is_refused_with_its_reason(
    report_2022: Report, editor_client: Client
):
    target = first_with_rating(report_2022, "B")
    page = editor_client.get(change_url(target))
    data = form_data(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data[f"{prefix}-0-text"] = "一行目\n二行目"

    response = editor_client.post(change_url(target), data)

    assert response.status_code == 200
    assert "タブや改行は使えません" in response.content.decode()


def test_footnote_choices_are_the_same_reports_footnotes(report_2022: Report, admin_client):
    draft_response = copy_via_admin(admin_client, report_2022, "2023-03")
    assert draft_response.status_code == 302
    draft = Report.objects.get(as_of=date(2023, 3, 1))
    target = assessment(report_2022, 4, 1)
    page = admin_client.get(change_url(target))
    choices = page.context["adminform"].form.fields["footnote"].queryset
    assert {f.report_id for f in choices} == {report_2022.pk}

    foreign = draft.footnotes.get(marker="※1")
    response = post_change(admin_client, target, footnote=foreign.pk)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["footnote"]
    target.refresh_from_db()
    assert target.footnote.report_id == report_2022.pk


# ---------------------------------------------------------------------------------------------
# who may do what

def test_anonymous_visitor_is_sent_to_login_and_changes_nothing(report_2022: Report):
    target = first_with_rating(report_2022, "B")
    client = Client()

    assert client.get(CHANGELIST)["Location"].startswith("/admin/login/")
    response = client.post(change_url(target), {"rating": "A"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    target.refresh_from_db()
    assert target.rating == "B"


def test_logged_in_non_staff_user_is_refused(report_2022: Report):
    target = first_with_rating(report_2022, "B")
    citizen = User.objects.create_user("shimin", password="unused-pw-123")
    client = Client()
    client.force_login(citizen)

    for url in (CHANGELIST, change_url(target), report_url("copy", report_2022)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    client.post(change_url(target), {"rating": "A"})
    target.refresh_from_db()
    assert target.rating == "B"


def test_staff_user_can_log_in_through_the_admin_login_form(editor: User):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "henshu", "password": "unused-pw-123",
                                       "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.get(CHANGELIST).status_code == 200


def test_editor_cannot_delete_a_report(report_2022: Report, editor_client: Client):
    url = reverse("admin:pledges_report_delete", args=[report_2022.pk])

    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url, {"post": "yes"}).status_code == 403
    response = editor_client.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "delete_selected", "_selected_action": [report_2022.pk], "post": "yes"},
    )
    assert response.context["action_form"] is None  # editors are offered no report actions
    assert Report.objects.filter(pk=report_2022.pk).exists()


def test_editor_sees_chapters_but_cannot_change_them(report_2022: Report, editor_client: Client):
    chapter = Chapter.objects.filter(report=report_2022).order_by("number").first()
    title = chapter.title

    assert editor_client.get(change_url(chapter)).status_code == 200  # read-only view
    response = editor_client.post(
        change_url(chapter), {"report": report_2022.pk, "number": 1, "title": "書き換え"}
    )

    assert response.status_code == 403
    chapter.refresh_from_db()
    assert chapter.title == title


def test_editor_cannot_copy_or_publish_reports(report_2022: Report, editor_client: Client):
    assert editor_client.get(report_url("copy", report_2022)).status_code == 403
    assert editor_client.post(report_url("copy", report_2022),
                              {"month": "2023-03"}).status_code == 403
    assert editor_client.post(report_url("publish", report_2022)).status_code == 403
    assert Report.objects.count() == 1


def test_viewer_sees_assessments_but_cannot_change_them(
    report_2022: Report, viewer_client: Client
):
    target = first_with_rating(report_2022, "B")

    assert viewer_client.get(CHANGELIST).status_code == 200
    assert viewer_client.get(change_url(target)).status_code == 200
    response = viewer_client.post(change_url(target), {"rating": "A"})

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.rating == "B"


# ---------------------------------------------------------------------------------------------
# bulk action

def test_bulk_action_sets_the_rating_of_selected_items_with_history(
    report_2022: Report, editor: User, editor_client: Client
):
    selected = list(
        Assessment.objects.filter(sub_item__pledge__chapter__report=report_2022)
        .exclude(rating="A").order_by("pk")[:3]
    )
    before = {a.pk: a.rating for a in selected}

    response = editor_client.post(
        CHANGELIST, {"action": "set_rating_D", "_selected_action": [a.pk for a in selected]}
    )

    assert response.status_code == 302
    assert counts(summary(Client()))["D"] == 3
    for item in selected:
        item.refresh_from_db()
        assert item.rating == "D"
        newest = item.history.order_by("-history_date", "-history_id").first()
        assert newest.history_user == editor
        assert newest.prev_record.rating == before[item.pk]
        assert newest.rating == "D"


def test_viewer_has_no_bulk_action(report_2022: Report, viewer_client: Client):
    target = first_with_rating(report_2022, "B")

    viewer_client.post(CHANGELIST, {"action": "set_rating_D", "_selected_action": [target.pk]})

    target.refresh_from_db()
    assert target.rating == "B"


# ---------------------------------------------------------------------------------------------
# list pages: filters, search, query counts

def test_changelist_filters_by_report_chapter_and_rating(
    report_2022: Report, editor_client: Client
):
    response = editor_client.get(CHANGELIST, {"report": "2022-03", "rating": "A"})
    assert response.context["cl"].result_count == 8

    response = editor_client.get(CHANGELIST, {"chapter": "1"})
    assert response.context["cl"].result_count == Assessment.objects.filter(
        sub_item__pledge__chapter__number=1
    ).count()

    response = editor_client.get(CHANGELIST, {"report": "2031-01"})
    assert response.context["cl"].result_count == 0


def test_changelist_searches_titles_pledge_text_and_notes(
    report_2022: Report, editor_client: Client
):
    target = assessment(report_2022, 1, 1)
    note = target.notes.order_by("position").first()

    for term in (target.sub_item.title, target.sub_item.content[:12], note.text[:12]):
        results = editor_client.get(CHANGELIST, {"q": term}).context["cl"].result_list
        assert target in list(results), term


def test_changelist_of_2000_assessments_runs_a_bounded_number_of_queries(
    db, admin_client, django_assert_max_num_queries
):
    loading.load_table(generated_table(sub_items=2000), same_manifesto=True)
    loading.refresh_planner_statistics()
    queries = [{}, {"report": "2030-03", "rating": "B", "chapter": "2"}, {"q": "テスト項目1"},
               {"all": "", "o": "-5"}, {"p": "19"}]

    for query in queries:
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
            response = admin_client.get(CHANGELIST, query)
        assert response.status_code == 200
        assert response.context["cl"].result_count > 0, query
    for model in ("subitem", "pledge", "chapter", "report"):
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
            assert admin_client.get(f"/admin/pledges/{model}/").status_code == 200


def test_changelist_of_the_real_report_runs_as_many_queries_as_the_big_one(
    report_2022: Report, admin_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 60


@pytest.mark.parametrize("model", ["report", "chapter", "pledge", "subitem", "footnote"])
def test_structure_list_pages_open_for_editors(report_2022: Report, editor_client: Client, model):
    assert editor_client.get(f"/admin/pledges/{model}/").status_code == 200


# ---------------------------------------------------------------------------------------------
# drafts: copy, edit, publish

def test_copy_action_creates_a_draft_that_the_public_cannot_see(
    report_2022: Report, admin_client
):
    response = copy_via_admin(admin_client, report_2022, "2023-03")

    draft = Report.objects.get(as_of=date(2023, 3, 1))
    assert response["Location"] == change_url(draft)
    assert draft.status == Report.Status.DRAFT
    assert draft.title.endswith("【令和5年3月現在】")
    public = Client()
    assert public.get("/api/reports/2023-03/summary.json").status_code == 404
    assert public.get("/", {"report": "2023-03"}).status_code == 404
    assert summary(public)["report"] == "2022-03"


def test_copy_refuses_a_month_that_already_has_a_report(report_2022: Report, admin_client):
    response = copy_via_admin(admin_client, report_2022, "2022-03")

    assert response.status_code == 200
    assert "すでにあります" in response.content.decode()
    assert Report.objects.count() == 1


@pytest.mark.parametrize("month", ["2023/03", "2023-13", "令和5年3月", ""])
def test_copy_refuses_a_month_it_cannot_read(report_2022: Report, admin_client, month):
    response = admin_client.post(report_url("copy", report_2022), {"month": month})

    assert response.status_code == 200
    assert response.context["form"].errors["month"]
    assert Report.objects.count() == 1


def test_copy_refuses_a_month_before_the_newest_published_report(
    report_2022: Report, admin_client
):
    response = admin_client.post(report_url("copy", report_2022), {"month": "2021-03"})

    assert "より後の月" in response.content.decode()
    assert Report.objects.count() == 1


def test_copy_action_needs_exactly_one_report(report_2022: Report, admin_client):
    loading.load_table(generated_table(sub_items=8, as_of=date(2021, 3, 1)), same_manifesto=True)
    response = admin_client.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "copy_to_draft",
         "_selected_action": list(Report.objects.values_list("pk", flat=True))},
        follow=True,
    )
    assert "1つだけ選んでください" in response.content.decode()
    assert Report.objects.count() == 2


def test_editing_a_draft_leaves_the_published_report_alone_until_publication(
    report_2022: Report, admin_client
):
    copy_via_admin(admin_client, report_2022, "2023-03")
    draft = Report.objects.get(as_of=date(2023, 3, 1))
    target = first_with_rating(draft, "B")
    assert post_change(admin_client, target, rating="A").status_code == 302
    assert counts(summary(Client())) == {"A": 8, "B": 28, "C": 24, "D": 0}

    page = admin_client.get(change_url(draft))
    assert report_url("publish", draft) in page.content.decode()
    response = admin_client.post(report_url("publish", draft))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Report.Status.PUBLISHED
    assert draft.published_at is not None
    latest = summary(Client())
    assert latest["report"] == "2023-03"
    assert counts(latest) == {"A": 9, "B": 27, "C": 24, "D": 0}
    assert counts(summary(Client(), "/api/reports/2022-03/summary.json"))["A"] == 8


def test_publishing_is_refused_while_a_sub_item_has_no_rating(
    report_2022: Report, admin_client
):
    copy_via_admin(admin_client, report_2022, "2023-03")
    draft = Report.objects.get(as_of=date(2023, 3, 1))
    target = assessment(draft, 4, 1)
    assert post_change(admin_client, target, rating="").status_code == 302  # drafts may be blank

    confirm = admin_client.get(report_url("publish", draft)).content.decode()
    response = admin_client.post(report_url("publish", draft), follow=True)

    assert "4①" in confirm and target.sub_item.title in confirm
    text = response.content.decode()
    assert "評価が空欄の項目" in text and "4①" in text
    draft.refresh_from_db()
    assert draft.status == Report.Status.DRAFT
    assert Client().get("/api/reports/2023-03/summary.json").status_code == 404


def test_publish_action_publishes_selected_drafts(report_2022: Report, admin_client):
    copy_via_admin(admin_client, report_2022, "2023-03")
    draft = Report.objects.get(as_of=date(2023, 3, 1))

    admin_client.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )

    assert summary(Client())["report"] == "2023-03"


def test_report_change_page_offers_copy_for_published_and_publish_for_drafts(
    report_2022: Report, admin_client, editor_client: Client
):
    page = admin_client.get(change_url(report_2022)).content.decode()
    assert report_url("copy", report_2022) in page
    assert report_url("publish", report_2022) not in page
    assert report_url("copy", report_2022) not in editor_client.get(
        change_url(report_2022)
    ).content.decode()


def test_a_draft_cannot_be_copied_and_a_published_report_not_published_again(
    report_2022: Report, admin_client
):
    copy_via_admin(admin_client, report_2022, "2023-03")
    draft = Report.objects.get(as_of=date(2023, 3, 1))

    copied = admin_client.post(report_url("copy", draft), {"month": "2023-04"}, follow=True)
    again = admin_client.post(report_url("publish", report_2022), follow=True)

    assert "複製できるのは公開中の報告だけです" in copied.content.decode()
    assert "すでに公開されています" in again.content.decode()
    assert Report.objects.count() == 2


def test_report_tools_need_a_staff_login(report_2022: Report):
    for tool in ("copy", "publish"):
        response = Client().post(report_url(tool, report_2022), {"month": "2023-03"})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert Report.objects.count() == 1


def test_report_page_offers_excel_download_and_upload_to_editors_only(
    report_2022: Report, editor_client: Client, viewer_client: Client
):
    download = reverse("pledges_xlsx:download", args=[report_2022.pk])
    upload = reverse("pledges_xlsx:upload", args=[report_2022.pk])
    editor_page = editor_client.get(change_url(report_2022)).content.decode()
    assert f'href="{download}"' in editor_page
    assert f'href="{upload}"' in editor_page
    viewer_page = viewer_client.get(change_url(report_2022)).content.decode()
    assert f'href="{download}"' in viewer_page
    assert f'href="{upload}"' not in viewer_page


def test_a_viewer_may_download_the_workbook_but_not_upload(report_2022: Report,
                                                          viewer_client: Client):
    download = viewer_client.get(reverse("pledges_xlsx:download", args=[report_2022.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    upload = viewer_client.get(reverse("pledges_xlsx:upload", args=[report_2022.pk]))
    assert upload.status_code == 403


@pytest.mark.parametrize("who", ["viewer", "editor", "superuser"])
def test_old_versions_can_be_read_but_never_saved_back(report_2022: Report, who, viewer_client,
                                                       editor_client, admin_client):
    client = {"viewer": viewer_client, "editor": editor_client, "superuser": admin_client}[who]
    chapter = Chapter.objects.get(report=report_2022, number=1)
    version = chapter.history.earliest()
    url = reverse("admin:pledges_chapter_simple_history", args=[chapter.pk, version.history_id])
    assert client.get(url).status_code in (200, 403)
    response = client.post(url, {"title": "HACK", "number": 1, "report": report_2022.pk})
    assert response.status_code == 403
    report_version = report_2022.history.earliest()
    report_url = reverse("admin:pledges_report_simple_history",
                         args=[report_2022.pk, report_version.history_id])
    assert client.post(report_url, {"title": "HACK"}).status_code == 403
    chapter.refresh_from_db()
    report_2022.refresh_from_db()
    assert chapter.title == "デジタル未来都市"
    assert report_2022.title.startswith("市長公約")


def test_a_published_report_gains_no_sub_item_but_a_draft_does(report_2022: Report, admin_client):
    pledge = Pledge.objects.get(chapter__report=report_2022, number=4)
    data = {"pledge": pledge.pk, "position": 3, "title": "新しい項目", "content": "内容"}
    response = admin_client.post(reverse("admin:pledges_subitem_add"), data)
    assert response.status_code == 200
    assert "公開中の報告の構成は変えられません" in response.content.decode()
    assert not SubItem.objects.filter(title="新しい項目").exists()
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    response = admin_client.post(reverse("admin:pledges_subitem_add"), data)
    assert response.status_code == 302
    added = SubItem.objects.get(title="新しい項目")
    assert added.assessment.rating == ""


def test_a_saved_part_cannot_move_to_another_report(report_2022: Report, admin_client):
    sub_item = SubItem.objects.get(pledge__chapter__report=report_2022, pledge__number=4,
                                   position=2)
    other = Pledge.objects.get(chapter__report=report_2022, number=5)
    page = admin_client.get(reverse("admin:pledges_subitem_change", args=[sub_item.pk]))
    form = page.context["adminform"].form
    assert "pledge" not in form.fields
    admin_client.post(reverse("admin:pledges_subitem_change", args=[sub_item.pk]),
                      {"pledge": other.pk, "position": 2, "title": sub_item.title,
                       "content": sub_item.content})
    sub_item.refresh_from_db()
    assert sub_item.pledge.number == 4


def test_history_pages_are_titled_in_japanese(report_2022: Report, viewer_client: Client):
    chapter = Chapter.objects.get(report=report_2022, number=1)
    page = viewer_client.get(reverse("admin:pledges_chapter_history", args=[chapter.pk]))
    assert "変更履歴: 第1章 デジタル未来都市" in page.content.decode()
    version = chapter.history.earliest()
    old = viewer_client.get(
        reverse("admin:pledges_chapter_simple_history", args=[chapter.pk, version.history_id])
    )
    assert "過去の版: 第1章 デジタル未来都市" in old.content.decode()


# ---------------------------------------------------------------------------------------------
# Concurrent edits: a form opened before a colleague's save cannot undo it


def test_a_form_opened_before_a_colleagues_save_is_refused_naming_them(
    report_2022: Report, editor_client: Client
):
    item = assessment(report_2022, 1, 1)
    opened = form_data(editor_client.get(change_url(item)))  # rating A, as published
    colleague = Client()
    colleague.force_login(staff_user("douryou", roles.EDITOR))
    assert post_change(colleague, item, rating="D").status_code == 302

    response = editor_client.post(change_url(item), opened)  # the old form, unchanged
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert errors[0].startswith("保存していません。この画面を開いた後に、douryou さんが ")
    assert "評価 (A 完了 → D 未着手)を変更しました。" in errors[0]
    item.refresh_from_db()
    assert (item.rating, item.revision) == ("D", 1)


def test_a_colleagues_note_edit_also_refuses_the_older_form_and_nothing_is_saved(
    report_2022: Report, editor_client: Client
):
    item = assessment(report_2022, 2, 1)
    opened = form_data(editor_client.get(change_url(item)))
    notes_before = list(item.notes.values_list("text", flat=True))
    colleague = Client()
    colleague.force_login(staff_user("douryou", roles.EDITOR))
    assert post_change(colleague, item, **{"notes-0-text": "同僚が直した記述"}).status_code == 302

    opened.update({"rating": "C", "notes-1-text": "古い画面からの記述"})
    response = editor_client.post(change_url(item), opened)
    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert "douryou さんが" in error and "取組状況を変更しました" in error
    item.refresh_from_db()
    assert item.rating == "B"
    assert list(item.notes.values_list("text", flat=True)) == [
        "同僚が直した記述", *notes_before[1:]
    ]


def test_saving_again_after_reloading_works(report_2022: Report, editor_client: Client):
    item = assessment(report_2022, 1, 1)
    assert post_change(editor_client, item, rating="C").status_code == 302
    assert post_change(editor_client, item, rating="D").status_code == 302
    item.refresh_from_db()
    assert (item.rating, item.revision) == ("D", 2)


def test_a_note_longer_than_its_limit_is_refused_by_the_form(
    report_2022: Report, editor_client: Client
):
    item = assessment(report_2022, 2, 1)
    response = post_change(editor_client, item, **{"notes-0-text": "あ" * 1001})
    assert response.status_code == 200
    (formset,) = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "1000" in str(formset.errors[0]["text"])
    assert not ProgressNote.objects.filter(text__startswith="あああ").exists()
