"""A workbook uploaded after colleagues' edits keeps them, and names what both changed.

Every exported workbook records what it was exported from; on upload the sub-items only the
workbook changed are applied, those only others changed keep their current values, and those
both changed are conflicts: listed, refused unless the user chooses to overwrite.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from pledges import editing, excel
from pledges.editing import HISTORY_REASON_MAX_LENGTH
from pledges.models import Assessment, Report

from .lookups import rating_of
from .workbooks import edited, open_workbook, with_ratings

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported_before(report_2022: Report) -> bytes:
    """A workbook exported before a colleague's edits."""
    return excel.export_xlsx(report_2022)


def colleague_sets(report: Report, **ratings: str) -> None:
    """A colleague exports, edits and uploads their own workbook (a real write path)."""
    plan = excel.plan_import(with_ratings(excel.export_xlsx(report), **ratings), report)
    assert not plan.conflicts
    editing.apply_workbook(plan, reason="Excel: colleague.xlsx")


def test_others_edits_since_the_export_are_kept(report_2022: Report, exported_before) -> None:
    colleague_sets(report_2022, **{"1①": "D"})
    plan = excel.plan_import(with_ratings(exported_before, **{"3①": "A"}), report_2022)
    assert [(c.code, c.old_rating, c.new_rating, c.conflict) for c in plan.changes] == [
        ("3①", "C", "A", False)
    ]
    assert plan.kept == ("1①",)
    editing.apply_workbook(plan)
    assert (rating_of(report_2022, 1, 1), rating_of(report_2022, 3, 1)) == ("D", "A")


def test_an_item_changed_in_both_is_a_conflict_refused_without_overwrite(
    report_2022: Report, exported_before
) -> None:
    colleague_sets(report_2022, **{"1①": "D"})
    plan = excel.plan_import(with_ratings(exported_before, **{"1①": "C", "3①": "A"}), report_2022)
    assert [(c.code, c.old_rating, c.new_rating, c.conflict) for c in plan.changes] == [
        ("1①", "D", "C", True),
        ("3①", "C", "A", False),
    ]
    with pytest.raises(editing.ConflictError) as raised:
        editing.apply_workbook(plan)
    assert raised.value.codes == ["1①"]
    assert "1①" in str(raised.value) and "何も反映していません" in str(raised.value)
    assert (rating_of(report_2022, 1, 1), rating_of(report_2022, 3, 1)) == ("D", "C")

    editing.apply_workbook(plan, overwrite=True)
    assert (rating_of(report_2022, 1, 1), rating_of(report_2022, 3, 1)) == ("C", "A")


def test_the_same_edit_made_by_both_is_no_change(report_2022: Report, exported_before) -> None:
    colleague_sets(report_2022, **{"1①": "D"})
    plan = excel.plan_import(with_ratings(exported_before, **{"1①": "D"}), report_2022)
    assert plan.changes == () and plan.kept == ()


def test_a_workbook_without_its_export_record_makes_every_change_a_conflict(
    report_2022: Report, exported_before
) -> None:
    def drop_record(workbook) -> None:
        del workbook[excel.EXPORT_SHEET]

    data = edited(with_ratings(exported_before, **{"3①": "A"}), drop_record)
    plan = excel.plan_import(data, report_2022)
    assert not plan.from_export
    assert [(c.code, c.conflict) for c in plan.changes] == [("3①", True)]


def test_a_workbook_exported_from_another_report_is_refused(
    report_2022: Report, exported_before
) -> None:
    def relabel(workbook) -> None:
        workbook[excel.EXPORT_SHEET]["B1"] = "2021-03"

    with pytest.raises(excel.WorkbookError) as raised:
        excel.plan_import(edited(exported_before, relabel), report_2022)
    assert raised.value.errors == [
        "このブックは 「2021-03」 の報告から書き出されたものです。"
        "2022-03 の報告から書き出したブックを使ってください。"
    ]


def test_the_record_sheet_is_very_hidden(exported_before) -> None:
    assert open_workbook(exported_before)[excel.EXPORT_SHEET].sheet_state == "veryHidden"


# -- the admin: preview lists the conflict, confirm needs the explicit choice ----------------


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_assessment"))
    client.force_login(user)
    return client


def upload(client, report: Report, data: bytes, name: str = "edited.xlsx"):
    return client.post(
        reverse("pledges_xlsx:upload", args=[report.pk]),
        {"workbook": SimpleUploadedFile(name, data)},
    )


def test_admin_preview_lists_the_conflict_and_confirm_refuses_without_the_choice(
    editor, report_2022: Report, exported_before
) -> None:
    colleague_sets(report_2022, **{"1①": "D"})
    preview = upload(editor, report_2022, with_ratings(exported_before, **{"1①": "C"}))
    content = preview.content.decode()
    assert 'id="workbook-conflicts"' in content and 'name="overwrite"' in content
    assert "D 未着手 → <strong>C 着手</strong>" in content
    confirm = reverse("pledges_xlsx:confirm", args=[report_2022.pk])
    token = preview.context["token"]

    refused = editor.post(confirm, {"token": token})
    assert refused.status_code == 409
    assert rating_of(report_2022, 1, 1) == "D"

    done = editor.post(confirm, {"token": token, "overwrite": "yes"})
    assert done.status_code == 302
    assert rating_of(report_2022, 1, 1) == "C"


def test_a_long_file_name_fits_the_history_reason(editor, report_2022: Report) -> None:
    name = "令和4年度_公約進捗_" + "とても長いファイル名" * 30 + ".xlsx"
    preview = upload(
        editor, report_2022, with_ratings(excel.export_xlsx(report_2022), **{"3①": "A"}), name
    )
    response = editor.post(
        reverse("pledges_xlsx:confirm", args=[report_2022.pk]),
        {"token": preview.context["token"]},
    )
    assert response.status_code == 302
    record = Assessment.history.filter(rating="A", sub_item__pledge__number=3).latest(
        "history_date"
    )
    assert len(record.history_change_reason) == HISTORY_REASON_MAX_LENGTH
    assert record.history_change_reason.startswith("Excel: 令和4年度_公約進捗_とても長い")
    assert record.history_change_reason.endswith("…")


# -- the command: non-zero exit naming each conflict, --overwrite to insist -------------------


def test_command_refuses_conflicts_naming_them_and_overwrites_when_told(
    report_2022: Report, exported_before, tmp_path
) -> None:
    colleague_sets(report_2022, **{"1①": "D", "2①": "D"})
    path = tmp_path / "late.xlsx"
    path.write_bytes(with_ratings(exported_before, **{"1①": "C", "2①": "C", "3①": "A"}))
    with pytest.raises(CommandError) as raised:
        call_command("import_xlsx", str(path), "--report", "2022-03", stdout=io.StringIO())
    assert "1①、2①" in str(raised.value) and "--overwrite" in str(raised.value)
    assert rating_of(report_2022, 3, 1) == "C"

    out = io.StringIO()
    call_command("import_xlsx", str(path), "--report", "2022-03", "--overwrite", stdout=out)
    assert "1① 競合" in out.getvalue()
    assert [rating_of(report_2022, n, 1) for n in (1, 2, 3)] == ["C", "C", "A"]
