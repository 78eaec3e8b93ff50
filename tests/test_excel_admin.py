"""Staff workbook pages: download, upload → preview (nothing written) → confirm (applied)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pledges import excel
from pledges.excel_admin import SESSION_KEY
from pledges.models import Assessment, Report

from .lookups import rating_of
from .workbooks import open_workbook, row_of, with_ratings

pytestmark = pytest.mark.django_db


def workbook_upload(data: bytes, name: str = "edited.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def editor(client):
    """A staff member allowed to change assessments (not a superuser)."""
    user = get_user_model().objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_assessment"))
    client.force_login(user)
    client.user = user
    return client


def urls(report: Report) -> dict[str, str]:
    return {
        name: reverse(f"pledges_xlsx:{name}", args=[report.pk])
        for name in ("upload", "confirm", "download")
    }


def test_urls_live_under_the_admin(report_2022: Report) -> None:
    assert urls(report_2022)["upload"] == f"/admin/reports/{report_2022.pk}/xlsx/"
    assert urls(report_2022)["confirm"] == f"/admin/reports/{report_2022.pk}/xlsx/confirm/"


def test_upload_page_offers_the_download_and_a_file_field(editor, report_2022: Report) -> None:
    response = editor.get(urls(report_2022)["upload"])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/pledges/report_xlsx_upload.html"
    content = response.content.decode()
    assert urls(report_2022)["download"] in content
    assert 'type="file" name="workbook"' in content


def test_preview_shows_the_change_and_writes_nothing(editor, report_2022: Report) -> None:
    response = editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    assert response.status_code == 200
    assert response.templates[0].name == "admin/pledges/report_xlsx_preview.html"
    content = response.content.decode()
    assert "3① 企業誘致戦略の策定" in content
    assert "C 着手 → <strong>A 完了</strong>" in content
    assert rating_of(report_2022, 3, 1) == "C"


def test_confirm_applies_the_previewed_plan_with_the_staff_user(editor, report_2022) -> None:
    preview = editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    token = preview.context["token"]
    response = editor.post(urls(report_2022)["confirm"], {"token": token}, follow=True)
    assert response.status_code == 200
    assert "2022-03 の 1 件の項目を更新しました。" in response.content.decode()
    assert rating_of(report_2022, 3, 1) == "A"
    history = Assessment.history.filter(rating="A").latest("history_date")
    assert (history.history_user, history.history_change_reason) == (
        editor.user,
        "Excel: edited.xlsx",
    )
    assert SESSION_KEY not in editor.session


def test_confirm_twice_applies_once(editor, report_2022: Report) -> None:
    preview = editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    editor.post(urls(report_2022)["confirm"], {"token": preview.context["token"]})
    response = editor.post(
        urls(report_2022)["confirm"], {"token": preview.context["token"]}, follow=True
    )
    assert "確認画面の有効期限が切れました" in response.content.decode()
    assert Assessment.history.filter(rating="A", history_type="~").count() == 1


def test_confirm_with_a_forged_token_applies_nothing(editor, report_2022: Report) -> None:
    editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    response = editor.post(urls(report_2022)["confirm"], {"token": "forged"})
    assert response.status_code == 302
    assert rating_of(report_2022, 3, 1) == "C"


def test_confirm_refuses_a_plan_made_stale_meanwhile(editor, report_2022: Report) -> None:
    preview = editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    Assessment.objects.filter(
        sub_item__pledge__chapter__report=report_2022,
        sub_item__pledge__number=3,
        sub_item__position=1,
    ).update(rating="D")
    response = editor.post(
        urls(report_2022)["confirm"], {"token": preview.context["token"]}, follow=True
    )
    assert "ブックを読み込んだ後に変更されました (3①)。何も反映していません" in (
        response.content.decode()
    )
    assert rating_of(report_2022, 3, 1) == "D"


def test_errors_are_listed_with_their_cells(editor, report_2022: Report) -> None:
    data = with_ratings(excel.export_xlsx(report_2022), **{"3①": "E"})
    row = row_of(open_workbook(data)[excel.LIST_SHEET], "3①")
    response = editor.post(urls(report_2022)["upload"], {"workbook": workbook_upload(data)})
    assert response.status_code == 200
    message = (
        f"一覧!E{row}: 評価 「E」 は A 完了・B 実施中・C 着手・D 未着手 のどれでもありません。"
    )
    assert response.context["errors"] == [message]
    assert message in response.content.decode()
    assert SESSION_KEY not in editor.session


def test_a_file_that_is_not_xlsx_is_an_error_not_a_crash(editor, report_2022: Report) -> None:
    response = editor.post(
        urls(report_2022)["upload"],
        {"workbook": workbook_upload(b"<script>alert(1)</script>", "<b>x</b>.xlsx")},
    )
    assert response.status_code == 200
    assert "Excelブック(.xlsx)として読めません" in response.context["errors"][0]
    assert "<b>x</b>" not in response.content.decode()  # the file name is escaped


def test_upload_without_a_file_shows_the_form_error(editor, report_2022: Report) -> None:
    response = editor.post(urls(report_2022)["upload"], {})
    assert response.status_code == 200
    assert response.context["form"].errors["workbook"]


def test_no_changes_offers_no_confirm(editor, report_2022: Report) -> None:
    response = editor.post(
        urls(report_2022)["upload"],
        {"workbook": workbook_upload(excel.export_xlsx(report_2022))},
    )
    content = response.content.decode()
    assert 'id="workbook-no-changes"' in content
    assert urls(report_2022)["confirm"] not in content


def test_staff_may_download_a_draft(editor, report_2022: Report) -> None:
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    response = editor.get(urls(report_2022)["download"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="iruma-pledges-2022-03.xlsx"'
    )
    assert open_workbook(response.content)[excel.LIST_SHEET]["A4"].value == "第1章"


def test_a_draft_can_be_updated_by_upload(editor, report_2022: Report) -> None:
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    preview = editor.post(
        urls(report_2022)["upload"],
        {"workbook": workbook_upload(with_ratings(excel.export_xlsx(report_2022), **{"3①": ""}))},
    )
    editor.post(urls(report_2022)["confirm"], {"token": preview.context["token"]})
    assert rating_of(report_2022, 3, 1) == ""


def test_unknown_report_is_not_found(editor, report_2022: Report) -> None:
    assert editor.get(reverse("pledges_xlsx:upload", args=[report_2022.pk + 99])).status_code == 404


@pytest.mark.parametrize("name", ["upload", "download"])
def test_anonymous_and_non_staff_are_sent_to_the_admin_login(
    client, report_2022: Report, name: str
) -> None:
    url = urls(report_2022)[name]
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(get_user_model().objects.create_user("citizen"))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_non_staff_cannot_confirm(client, editor, report_2022: Report) -> None:
    preview = editor.post(
        urls(report_2022)["upload"],
        {
            "workbook": workbook_upload(
                with_ratings(excel.export_xlsx(report_2022), **{"3①": "A 完了"})
            )
        },
    )
    citizen = get_user_model().objects.create_user("citizen")
    editor.force_login(citizen)
    response = editor.post(urls(report_2022)["confirm"], {"token": preview.context["token"]})
    assert response.status_code == 302
    assert rating_of(report_2022, 3, 1) == "C"


def test_staff_without_the_permission_is_forbidden(client, report_2022: Report) -> None:
    client.force_login(get_user_model().objects.create_user("viewer", is_staff=True))
    assert client.get(urls(report_2022)["upload"]).status_code == 403
    assert client.post(urls(report_2022)["confirm"], {"token": "x"}).status_code == 403
