"""manage.py export_xlsx and import_xlsx, through call_command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pledges import excel
from pledges.models import Assessment, Report

from .lookups import rating_of
from .workbooks import open_workbook, row_of, sub_item_rows, with_ratings

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_export_writes_the_newest_published_report(report_2022: Report, tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    output = run("export_xlsx", "-o", str(target))
    assert output.startswith(f"2022-03: wrote {target}")
    assert len(sub_item_rows(open_workbook(target.read_bytes())[excel.LIST_SHEET])) == 60


def test_export_writes_a_named_draft(report_2022: Report, tmp_path: Path) -> None:
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    target = tmp_path / "draft.xlsx"
    assert "status draft" in run("export_xlsx", "--report", "2022-03", "-o", str(target))
    assert target.exists()


def test_export_refuses_an_unknown_month(report_2022: Report, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"'2021-03' の報告はありません.*ある報告: 2022-03"):
        run("export_xlsx", "--report", "2021-03", "-o", str(tmp_path / "x.xlsx"))


def test_export_without_any_published_report_says_so(db, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="公開中の報告がまだありません"):
        run("export_xlsx", "-o", str(tmp_path / "x.xlsx"))


def test_export_reports_an_unwritable_path(report_2022: Report, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot write"):
        run("export_xlsx", "-o", str(tmp_path / "missing" / "x.xlsx"))


def test_import_applies_the_edited_ratings(report_2022: Report, tmp_path: Path) -> None:
    source = tmp_path / "edited.xlsx"
    source.write_bytes(with_ratings(excel.export_xlsx(report_2022), **{"3①": "B 実施中"}))
    output = run("import_xlsx", str(source), "--report", "2022-03")
    assert "3① 評価: C → B" in output
    assert "2022-03: 1 件の項目を更新しました。" in output
    assert rating_of(report_2022, 3, 1) == "B"
    history = Assessment.history.filter(rating="B").latest("history_date")
    assert history.history_change_reason == "import_xlsx edited.xlsx"


def test_import_dry_run_writes_nothing(report_2022: Report, tmp_path: Path) -> None:
    source = tmp_path / "edited.xlsx"
    source.write_bytes(with_ratings(excel.export_xlsx(report_2022), **{"3①": "B 実施中"}))
    output = run("import_xlsx", str(source), "--report", "2022-03", "--dry-run")
    assert "件の項目が変わります(--dry-run のため何も書き込んでいません)。" in output
    assert rating_of(report_2022, 3, 1) == "C"


def test_import_of_an_unchanged_workbook_says_so(report_2022: Report, tmp_path: Path) -> None:
    source = tmp_path / "same.xlsx"
    source.write_bytes(excel.export_xlsx(report_2022))
    assert "2022-03: 変更はありません。" in run("import_xlsx", str(source), "--report", "2022-03")


def test_import_lists_problems_and_applies_nothing(report_2022: Report, tmp_path: Path) -> None:
    data = with_ratings(excel.export_xlsx(report_2022), **{"3①": "B 実施中"})
    data = with_ratings(data, **{"3②": "E"})
    source = tmp_path / "bad.xlsx"
    source.write_bytes(data)
    with pytest.raises(CommandError) as raised:
        run("import_xlsx", str(source), "--report", "2022-03")
    row = row_of(open_workbook(data)[excel.LIST_SHEET], "3②")
    assert str(raised.value) == (
        f"{source}: 1 件の問題があり、何も反映していません:\n"
        f"一覧!E{row}: 評価 「E」 は A 完了・B 実施中・C 着手・D 未着手 のどれでもありません。"
    )
    assert rating_of(report_2022, 3, 1) == "C"


def test_import_refuses_a_file_that_is_not_xlsx(report_2022: Report, tmp_path: Path) -> None:
    source = tmp_path / "table.txt"
    source.write_text("市長公約", encoding="utf-8")
    with pytest.raises(CommandError, match=r"Excelブック\(\.xlsx\)として読めません"):
        run("import_xlsx", str(source), "--report", "2022-03")


def test_import_refuses_a_missing_file(report_2022: Report, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="読めません"):
        run("import_xlsx", str(tmp_path / "nope.xlsx"), "--report", "2022-03")


def test_import_needs_the_report(report_2022: Report, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--report"):
        call_command("import_xlsx", str(tmp_path / "x.xlsx"))
