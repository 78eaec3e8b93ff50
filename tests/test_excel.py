"""pledges.excel: the workbook out (read back with openpyxl), CSV/JSON, the workbook back in."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from pledges import editing, excel, stats
from pledges.models import Assessment, ProgressNote, Report, SubItem
from pledges.reading import read_report

from .lookups import assessment
from .workbooks import edit_cells, edited, open_workbook, row_of, sub_item_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]

FORMULA_LIKE = [
    "=1+1",
    "+SUM(A1:A3)",
    "-2+3",
    "@SUM(A1)",
    "\tindented",
    "\rcarriage",
    '=HYPERLINK("http://example.com","x")',
]


@pytest.fixture
def exported(report_2022: Report) -> bytes:
    return excel.export_xlsx(report_2022)


def notes_of(report: Report, pledge: int, position: int) -> list[str]:
    return [note.text for note in assessment(report, pledge, position).notes.order_by("position")]


def snapshot(report: Report) -> list[tuple]:
    """Every rating and note of the report, to show that nothing was applied."""
    return [
        (a.sub_item_id, a.rating, tuple(n.text for n in a.notes.order_by("position")))
        for a in Assessment.objects.filter(sub_item__pledge__chapter__report=report).order_by("pk")
    ]


# -- the 一覧 sheet ------------------------------------------------------------------------------


def test_list_sheet_has_the_60_sub_items_with_their_ratings(exported: bytes) -> None:
    rows = sub_item_rows(open_workbook(exported)[excel.LIST_SHEET])
    assert len(rows) == 60
    letters = Counter(rating.split()[-2] for *_, rating in rows)
    assert letters == {"A": 8, "B": 28, "C": 24}
    assert rows[0][:2] == ("1①", "①デジタル未来都市推進部門の設置")
    assert rows[0][4] == "A 完了"
    assert rows[-1][0] == "30②"


def test_rating_cell_carries_its_footnote_marker(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    assert sheet[f"E{row_of(sheet, '4①')}"].value == "※1 C 着手"
    assert sheet[f"E{row_of(sheet, '28①')}"].value.startswith("※1 ")
    assert sheet[f"E{row_of(sheet, '4②')}"].value == "B 実施中"


def test_list_sheet_opens_with_title_legend_and_header(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    assert sheet["A1"].value == "市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】"
    assert sheet["A2"].value == "評価　A 完了　B 実施中　C 着手　D 未着手"
    assert tuple(cell.value for cell in sheet[3]) == excel.HEADER
    assert (sheet["A4"].value, sheet["B4"].value) == ("第1章", "デジタル未来都市")
    assert (sheet["A5"].value, sheet["B5"].value) == (
        "1",
        "【デジタル】デジタル未来都市推進部門の設置 & 特命人材の公募",
    )


def test_notes_are_bulleted_lines_in_a_wrapped_cell(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    cell = sheet[f"D{row_of(sheet, '1①')}"]
    assert cell.value == (
        "・令和4年4月にデジタル行政推進課を新設予定\n"
        "・DXを推進するために「入間市DXビジョン」を令和4年4月に策定予定"
    )
    assert cell.alignment.wrap_text
    assert sheet[f"D{row_of(sheet, '4②')}"].value is None


def test_list_sheet_prints_a4_landscape_one_page_wide_with_header_repeated(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.freeze_panes == "C4"


def test_list_sheet_uses_a_japanese_font_and_widths_for_japanese_text(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    cell = sheet[f"C{row_of(sheet, '1①')}"]
    assert cell.font.name == "Yu Gothic"
    assert cell.font.charset == 128
    widths = {column: sheet.column_dimensions[column].width for column in "ABCDE"}
    assert widths == excel.COLUMN_WIDTHS
    # 評価 fits its longest label, 未着手 with a footnote marker, at two columns per character.
    assert widths["E"] >= excel.display_width("※1 D 未着手")


def test_rating_cells_offer_the_four_ratings_as_a_list(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    validations: list[DataValidation] = sheet.data_validations.dataValidation
    by_list = {validation.formula1: validation for validation in validations}
    plain = by_list['"A 完了,B 実施中,C 着手,D 未着手"']
    footnoted = by_list['"※1 A 完了,※1 B 実施中,※1 C 着手,※1 D 未着手"']
    assert plain.type == "list" and plain.showErrorMessage and not plain.allow_blank
    assert f"E{row_of(sheet, '1①')}" in plain.sqref
    assert f"E{row_of(sheet, '4①')}" in footnoted.sqref
    assert f"E{row_of(sheet, '4①')}" not in plain.sqref
    covered = sum(
        1
        for validation in validations
        for cell_range in validation.sqref.ranges
        for _ in cell_range.rows
    )
    assert covered == 60


def test_footnotes_follow_the_table(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    row = row_of(sheet, "※1")
    assert row == row_of(sheet, "30②") + 2
    assert sheet[f"B{row}"].value.startswith("4①産官学連携「入間市IoT共創コンソーシアム」の創設")


def test_title_legend_and_each_footnote_span_the_table(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    footnote = row_of(sheet, "※1")
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert merged == {"A1:E1", "A2:E2", f"B{footnote}:E{footnote}"}
    assert sheet.row_dimensions[footnote].height == excel.row_height(
        {"B": excel.cell_text(sheet[f"B{footnote}"].value)},
        {"B": sum(excel.COLUMN_WIDTHS[column] for column in "BCDE")},
    )


def test_each_kind_of_row_has_its_named_style(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    chapter, pledge, item = row_of(sheet, "第1章"), row_of(sheet, "1"), row_of(sheet, "1①")
    footnote = row_of(sheet, "※1")

    def styles(row: int, columns: str = "ABCDE") -> list[str]:
        return [sheet[f"{column}{row}"].style for column in columns]

    assert (styles(1, "A"), styles(2, "A")) == (["pledges_title"], ["pledges_legend"])
    assert styles(excel.HEADER_ROW) == ["pledges_header"] * 5
    assert styles(chapter) == ["pledges_chapter"] * 5
    assert styles(pledge) == ["pledges_pledge"] * 5
    assert styles(item) == ["pledges_text"] * 4 + ["pledges_rating"]
    assert styles(footnote, "AB") == ["pledges_footnote"] * 2
    fills = {
        row: sheet[f"E{row}"].fill.fgColor.rgb for row in (excel.HEADER_ROW, chapter, pledge)
    }
    assert fills == {excel.HEADER_ROW: "00D9E1F2", chapter: "00FCE4D6", pledge: "00F2F2F2"}
    assert sheet["A1"].font.size == 14 and sheet["A1"].font.bold
    assert sheet[f"A{chapter}"].font.bold and not sheet[f"C{item}"].font.bold

    def boxed(cell: str) -> bool:
        border = sheet[cell].border
        sides = (border.left, border.right, border.top, border.bottom)
        return all(side and (side.style, side.color.rgb) == ("thin", "00808080") for side in sides)

    # Every cell of the table is boxed in a thin grey line; the title and footnotes are not.
    table = range(excel.HEADER_ROW, footnote - 1)  # down to the blank row above the footnotes
    assert all(boxed(f"{column}{row}") for row in table for column in "ABCDE")
    assert not boxed("A1") and not boxed(f"B{footnote}")
    assert sheet[f"D{item}"].alignment.vertical == "top"
    assert sheet[f"E{item}"].alignment.horizontal == "center"
    assert not sheet[f"B{chapter}"].alignment.wrap_text


def test_both_sheets_print_centred_with_page_numbers(exported: bytes) -> None:
    workbook = open_workbook(exported)
    table = workbook[excel.LIST_SHEET]
    assert table.print_area == f"'{excel.LIST_SHEET}'!$A$1:$E${row_of(table, '※1')}"
    for sheet in (table, workbook[excel.SUMMARY_SHEET]):
        footer, fit = sheet.oddFooter, sheet.sheet_properties.pageSetUpPr
        assert footer is not None and footer.center.text == "&P / &N"
        assert sheet.print_options.horizontalCentered
        assert sheet.page_setup.orientation == "landscape"
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert fit is not None and fit.fitToPage


def test_each_sheet_states_its_size_for_readers_that_trust_it(exported: bytes) -> None:
    # openpyxl's read-only mode (and pandas through it) reads only as far as a sheet says.
    workbook = load_workbook(io.BytesIO(exported), read_only=True)
    sizes = {
        name: (sheet.max_row, sheet.max_column)
        for name, sheet in zip(workbook.sheetnames, workbook.worksheets, strict=True)
    }
    table_end = excel.HEADER_ROW + 6 + 30 + 60  # chapters, pledges and sub-items of 2022
    assert sizes == {
        excel.LIST_SHEET: (table_end + 2, 5),  # a blank row, then the one footnote
        excel.SUMMARY_SHEET: (4 + 1 + 6, 10),
        excel.EXPORT_SHEET: (excel.EXPORT_HEADER_ROW + 60, 2),
    }


# -- the 集計 sheet ------------------------------------------------------------------------------


def summary_rows(data: bytes) -> dict[str, list]:
    sheet = open_workbook(data)[excel.SUMMARY_SHEET]
    return {row[0].value: list(row[1:]) for row in sheet.iter_rows(min_row=5) if row[0].value}


def test_summary_sheet_counts_and_percents_overall(exported: bytes) -> None:
    overall = summary_rows(exported)["全体"]
    assert [cell.value for cell in overall] == [60, 8, 0.1333, 28, 0.4667, 24, 0.4, 0, 0]
    percents = overall[2::2]
    assert {cell.number_format for cell in percents} == {"0.00%"}
    assert all(cell.data_type == "n" for cell in overall)


def test_summary_sheet_has_a_row_per_chapter(exported: bytes) -> None:
    rows = summary_rows(exported)
    chapters = [label for label in rows if label != "全体"]
    assert chapters[0] == "第1章 デジタル未来都市" and len(chapters) == 6
    assert [cell.value for cell in rows["第1章 デジタル未来都市"]] == [
        8,
        2,
        0.25,
        3,
        0.375,
        3,
        0.375,
        0,
        0,
    ]
    assert sum(rows[label][0].value for label in chapters) == 60


def test_summary_sheet_is_recomputed_from_the_ratings_not_the_stated_totals(
    report_2022: Report,
) -> None:
    Assessment.objects.filter(pk=assessment(report_2022, 4, 2).pk).update(rating="D")
    overall = summary_rows(excel.export_xlsx(report_2022))["全体"]
    assert [cell.value for cell in overall] == [60, 8, 0.1333, 27, 0.45, 24, 0.4, 1, 0.0167]


def test_summary_sheet_keeps_its_header_in_view_and_its_widths(exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.SUMMARY_SHEET]
    assert sheet.freeze_panes == "B5"
    assert sheet["A1"].style == "pledges_title" and sheet["A4"].style == "pledges_header"
    assert sheet["A5"].style == "pledges_text"
    assert (sheet["B5"].style, sheet["C5"].style) == ("pledges_number", "pledges_number")
    assert sheet["D5"].style == "pledges_percent"
    widths = [sheet.column_dimensions[column].width for column in "ABCDEFGHIJ"]
    assert widths == [34] + [10] * 9


# -- cells are text, never formulas --------------------------------------------------------------


def test_formula_like_text_is_written_as_literal_text(report_2022: Report) -> None:
    sub_item = SubItem.objects.get(
        pledge__chapter__report=report_2022, pledge__number=4, position=2
    )
    sub_item.content = FORMULA_LIKE[0]
    sub_item.save()
    target = assessment(report_2022, 4, 2)
    ProgressNote.objects.bulk_create(
        ProgressNote(assessment=target, position=index, text=text)
        for index, text in enumerate(FORMULA_LIKE[1:], start=1)
    )
    Assessment.objects.filter(pk=target.pk).update(notes_bulleted=False)
    data = excel.export_xlsx(report_2022)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    sheet = open_workbook(data)[excel.LIST_SHEET]
    row = row_of(sheet, "4②")
    content, notes = sheet[f"C{row}"], sheet[f"D{row}"]
    assert content.data_type == notes.data_type == "s"
    assert content.value == "=1+1"
    assert content.quotePrefix  # Excel keeps it text even when the cell is edited
    assert excel.cell_text(notes.value) == "\n".join(FORMULA_LIKE[1:])
    assert excel.parse_notes_cell(excel.cell_text(notes.value)) == (
        tuple(text.strip() for text in FORMULA_LIKE[1:]),
        False,
    )


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_each_formula_like_value_reads_back_identical(text: str) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    excel.set_text(workbook.active["A1"], text)
    output = io.BytesIO()
    workbook.save(output)
    cell = open_workbook(output.getvalue()).active["A1"]
    assert cell.data_type == "s"
    assert excel.cell_text(cell.value) == text


def test_text_that_looks_like_an_excel_escape_is_kept() -> None:
    assert excel.cell_text(excel.escape_cell_text("_x000D_ and \r")) == "_x000D_ and \r"


def test_formula_like_notes_round_trip_without_changes(report_2022: Report) -> None:
    target = assessment(report_2022, 4, 2)
    ProgressNote.objects.bulk_create(
        ProgressNote(assessment=target, position=index, text=text)
        for index, text in enumerate(["=1+1", "@cmd", "-3"], start=1)
    )
    plan = excel.plan_import(excel.export_xlsx(report_2022), report_2022)
    assert plan.changes == ()


# -- rows for CSV and JSON -----------------------------------------------------------------------


def test_export_and_import_read_the_report_in_constant_queries(
    report_2022: Report, exported: bytes, django_assert_max_num_queries
) -> None:
    # 2,000 sub-items are covered through the download views (tests/test_export_views.py).
    with django_assert_max_num_queries(4):
        excel.export_xlsx(report_2022)
    with django_assert_max_num_queries(3):
        excel.plan_import(exported, report_2022)


def test_csv_has_a_bom_and_one_line_per_sub_item(report_2022: Report) -> None:
    data = excel.render_csv(read_report(report_2022))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [str(header) for header in excel.CSV_HEADER]
    assert rows[0][:2] == ["章", "章名"]
    assert len(rows) == 61
    assert [tuple(row[:2]) for row in rows[1:]].count(("2", "命を守る危機管理")) == 6
    fourth = next(row for row in rows if row[5] == "4①")
    assert fourth[:8] == [
        "1",
        "デジタル未来都市",
        "4",
        "デジタル",
        "AI・IoTを活用した地域課題の解決",
        "4①",
        "産官学連携「入間市IoT共創コンソーシアム」の創設",
        "産官学連携でAI・IoTによる新規ビジネス機会の創出と地域課題の解決を図るための組織として"
        "「入間市IoT共創コンソーシアム」を立ち上げます",
    ]
    assert fourth[8].split("\n") == [
        "・高齢者向け交通と福祉を連携させた産官学連携「ASOVO事業」を実施",
        "・埼玉県AIコンソーシアム制度の研究",
    ]
    assert fourth[9:11] == ["C", "着手"]
    assert fourth[11].startswith("※1：4①産官学連携")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fourth[12])  # 最終更新, the local date


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_csv_prefixes_formula_looking_cells_with_an_apostrophe(
    report_2022: Report, text: str
) -> None:
    SubItem.objects.filter(pledge__number=1, position=1).update(title=text)
    data = excel.render_csv(read_report(report_2022)).decode("utf-8-sig")
    first = list(csv.reader(io.StringIO(data)))[1]
    assert first[6] == "'" + text
    assert first[2] == "1"  # numbers are left as they are


def test_json_keeps_formula_looking_text_exactly(report_2022: Report) -> None:
    SubItem.objects.filter(pledge__number=1, position=1).update(title=FORMULA_LIKE[0])
    data = excel.render_json(read_report(report_2022), stats.report_summary(report_2022))
    assert data["items"][0]["title"] == FORMULA_LIKE[0]


def test_chosen_sub_items_are_read_in_table_order_in_two_queries(
    report_2022: Report, django_assert_num_queries
) -> None:
    chosen = SubItem.objects.filter(
        pledge__chapter__report=report_2022, pledge__number__in=[4, 3]
    ).order_by("-pledge__number", "position")
    ids = list(chosen.values_list("pk", flat=True))
    with django_assert_num_queries(2):
        data = read_report(report_2022, items=ids)
    assert [item.code for item in data.items] == ["3①", "3②", "4①", "4②"]
    assert [footnote.marker for footnote in data.footnotes] == ["※1"]


def test_json_has_the_report_its_summary_and_every_sub_item(report_2022: Report) -> None:
    data = excel.render_json(read_report(report_2022), stats.report_summary(report_2022))
    json.dumps(data)  # serialisable as it is
    assert data["report"] == "2022-03" and data["month_label"] == "令和4年3月"
    assert [r["count"] for r in data["summary"]["ratings"]] == [8, 28, 24, 0]
    assert len(data["items"]) == 60
    assert data["items"][6] == {
        **data["items"][6],
        "code": "4①",
        "rating": "C",
        "rating_label": "着手",
        "footnote": "※1",
    }
    assert data["footnotes"][0]["marker"] == "※1"


# -- notes cell --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "bulleted"),
    [((), True), (("one",), True), (("one",), False), (("a", "b・c", "d"), True)],
)
def test_notes_cell_round_trips(notes: tuple[str, ...], bulleted: bool) -> None:
    assert excel.parse_notes_cell(excel.notes_cell(notes, bulleted)) == (notes, bulleted)


def test_a_line_added_without_bullet_among_bulleted_ones_is_a_bulleted_note() -> None:
    assert excel.parse_notes_cell("・a\nb\n\n ・ c ") == (("a", "b", "c"), True)


# -- the way back in -----------------------------------------------------------------------------


def test_unchanged_export_plans_no_changes(report_2022: Report, exported: bytes) -> None:
    plan = excel.plan_import(exported, report_2022)
    assert (plan.month, plan.sub_items, plan.changes) == ("2022-03", 60, ())


def test_round_trip_applies_exactly_the_edited_rating_and_note(
    report_2022: Report, exported: bytes
) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    rating_cell = f"E{row_of(sheet, '1①')}"
    notes_cell = f"D{row_of(sheet, '2①')}"
    old_notes = notes_of(report_2022, 2, 1)
    new_notes = [*old_notes[:1], "マイナンバーカード交付率 50.00%(6月30日現在)", *old_notes[2:]]
    data = edited(
        exported,
        edit_cells(
            **{
                rating_cell: "B 実施中",
                notes_cell: "\n".join("・" + note for note in new_notes),
            }
        ),
    )
    before = snapshot(report_2022)

    plan = excel.plan_import(data, report_2022)
    assert [(c.code, c.rating_changed, c.notes_changed) for c in plan.changes] == [
        ("1①", True, False),
        ("2①", False, True),
    ]
    assert snapshot(report_2022) == before  # planning writes nothing

    staff = get_user_model().objects.create_user("staff", is_staff=True)
    result = editing.apply_workbook(plan, user=staff, reason="Excel: edited.xlsx")
    assert (result.ratings, result.notes) == (1, 1)

    after = snapshot(report_2022)
    changed = [new for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 2
    assert assessment(report_2022, 1, 1).rating == "B"
    assert notes_of(report_2022, 2, 1) == new_notes

    rating_history = assessment(report_2022, 1, 1).history.first()
    assert (
        rating_history.rating,
        rating_history.history_user,
        rating_history.history_change_reason,
    ) == ("B", staff, "Excel: edited.xlsx")
    assert rating_history.prev_record.rating == "A"
    note = assessment(report_2022, 2, 1).notes.get(position=2)
    note_history = note.history.first()
    assert (note_history.history_type, note_history.text, note_history.history_user) == (
        "~",
        new_notes[1],
        staff,
    )
    assert note_history.prev_record.text == old_notes[1]

    again = open_workbook(excel.export_xlsx(report_2022))[excel.LIST_SHEET]
    first = open_workbook(exported)[excel.LIST_SHEET]
    differing = {
        cell.coordinate
        for row_a, row_b in zip(first.iter_rows(), again.iter_rows(), strict=True)
        for cell, other in zip(row_a, row_b, strict=True)
        if cell.value != other.value
    }
    assert differing == {rating_cell, notes_cell}
    assert [c.value for c in summary_rows(excel.export_xlsx(report_2022))["全体"]][1:4:2] == [7, 29]


def test_round_trip_into_a_draft_allows_clearing_a_rating(
    report_2022: Report, exported: bytes
) -> None:
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    plan = excel.plan_import(
        edited(exported, edit_cells(**{f"E{row_of(sheet, '1②')}": ""})), report_2022
    )
    assert [(c.code, c.old_rating, c.new_rating) for c in plan.changes] == [("1②", "A", "")]
    editing.apply_workbook(plan)
    assert assessment(report_2022, 1, 2).rating == ""


def test_letter_alone_is_accepted_as_a_rating(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    plan = excel.plan_import(
        edited(exported, edit_cells(**{f"E{row_of(sheet, '1②')}": "D"})), report_2022
    )
    assert [(c.code, c.new_rating) for c in plan.changes] == [("1②", "D")]


def test_notes_can_be_added_and_removed(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    data = edited(
        exported,
        edit_cells(
            **{
                f"D{row_of(sheet, '4②')}": "・実証実験の公募を開始\n・2件採択",
                f"D{row_of(sheet, '2①')}": "",
            }
        ),
    )
    editing.apply_workbook(excel.plan_import(data, report_2022), reason="test")
    assert notes_of(report_2022, 4, 2) == ["実証実験の公募を開始", "2件採択"]
    assert notes_of(report_2022, 2, 1) == []
    deleted = ProgressNote.history.filter(history_type="-")
    assert deleted.count() == 4 and {h.history_change_reason for h in deleted} == {"test"}


# -- refusals: listed with their cell, nothing applied -------------------------------------------


def refused(data: bytes, report: Report) -> list[str]:
    before = snapshot(report)
    with pytest.raises(excel.WorkbookError) as raised:
        excel.plan_import(data, report)
    assert snapshot(report) == before
    return raised.value.errors


def test_refuses_an_unknown_rating_with_its_cell(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    row = row_of(sheet, "3①")
    ok_row = row_of(sheet, "1①")
    data = edited(exported, edit_cells(**{f"E{row}": "E", f"E{ok_row}": "B 実施中"}))
    assert refused(data, report_2022) == [
        f"一覧!E{row}: 評価 「E」 は A 完了・B 実施中・C 着手・D 未着手 のどれでもありません。"
    ]


def test_refuses_a_label_that_is_not_the_letters(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    row = row_of(sheet, "3①")
    errors = refused(edited(exported, edit_cells(**{f"E{row}": "A 着手"})), report_2022)
    assert errors == [
        f"一覧!E{row}: 評価 「A 着手」: 「着手」は A の意味ではありません(A は「A 完了」)。"
    ]


def test_refuses_an_empty_rating_in_a_published_report(
    report_2022: Report, exported: bytes
) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "3①")
    errors = refused(edited(exported, edit_cells(**{f"E{row}": None})), report_2022)
    assert errors == [
        f"一覧!E{row}: 評価が空欄です。公開中の報告では A 完了・B 実施中・C 着手・D 未着手 "
        "のどれかを入力してください。"
    ]


def test_refuses_a_changed_footnote_marker(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "4①")
    errors = refused(edited(exported, edit_cells(**{f"E{row}": "C 着手"})), report_2022)
    assert errors == [
        f"一覧!E{row}: 注記の記号「なし」が報告の「※1」と違います。"
        "注記は管理画面で変更します(アップロードでは変えられません)。"
    ]


def test_refuses_a_sub_item_that_does_not_exist(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "4②")
    errors = refused(edited(exported, edit_cells(**{f"A{row}": "4③"})), report_2022)
    assert errors == [
        f"一覧!A{row}: 「4③」 は 2022-03 の報告にありません(4② があるはずの行です)。"
    ]


def test_refuses_an_added_row(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "1②")

    def add(workbook) -> None:
        sheet = workbook[excel.LIST_SHEET]
        sheet.insert_rows(row + 1)
        for column, value in zip("ABCDE", ["1③", "③新しい項目", "内容", "", "C 着手"], strict=True):
            sheet[f"{column}{row + 1}"] = value

    errors = refused(edited(exported, add), report_2022)
    assert errors == [
        f"一覧!A{row + 1}: 「1③」 は 2022-03 の報告にありません(2 があるはずの行です)。"
    ]


def test_refuses_a_row_added_after_the_last_sub_item(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "30②")

    def add(workbook) -> None:
        workbook[excel.LIST_SHEET].insert_rows(row + 1)
        workbook[excel.LIST_SHEET][f"B{row + 1}"] = "追加"

    errors = refused(edited(exported, add), report_2022)
    assert errors == [
        f"一覧!A{row + 1}: 最後の項目 30② の後に 番号のない行 があります。行は追加できません。"
    ]


def test_refuses_a_removed_row(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "5②")
    errors = refused(
        edited(exported, lambda workbook: workbook[excel.LIST_SHEET].delete_rows(row)),
        report_2022,
    )
    assert errors == [
        f"一覧!A{row}: 5② があるはずの行に 6 があります。行の追加・削除・並べ替えはできません。"
    ]


def test_refuses_a_removed_last_row(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    row = row_of(sheet, "30②")
    errors = refused(
        edited(exported, lambda workbook: workbook[excel.LIST_SHEET].delete_rows(row)), report_2022
    )
    assert errors == [
        f"一覧!A{row}: 表がここで終わっていますが、30② から 1 行がありません。行は削除できません。"
    ]


def test_refuses_reordered_rows(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    first, second = row_of(sheet, "1①"), row_of(sheet, "1②")

    def swap(workbook) -> None:
        sheet = workbook[excel.LIST_SHEET]
        for column in "ABCDE":
            a, b = sheet[f"{column}{first}"], sheet[f"{column}{second}"]
            a.value, b.value = b.value, a.value

    errors = refused(edited(exported, swap), report_2022)
    assert errors == [
        f"一覧!A{first}: 1① があるはずの行に 1② があります。行の追加・削除・並べ替えはできません。"
    ]


def test_refuses_edits_to_fixed_cells(report_2022: Report, exported: bytes) -> None:
    sheet = open_workbook(exported)[excel.LIST_SHEET]
    item, pledge = row_of(sheet, "2①"), row_of(sheet, "2")
    data = edited(
        exported,
        edit_cells(
            **{
                f"C{item}": "書き換えた内容",
                f"B{pledge}": "【デジタル】別の公約",
                f"D{pledge}": "メモ",
            }
        ),
    )
    assert refused(data, report_2022) == [
        f"一覧!B{pledge}: 2 の項目が変えられています。"
        "編集できるのは取組状況 (D列) と評価 (E列) だけです。",
        f"一覧!D{pledge}: 2 の行の D列は空欄のままにしてください (「メモ」 があります)。",
        f"一覧!C{item}: 2① の内容が変えられています。"
        "編集できるのは取組状況 (D列) と評価 (E列) だけです。",
    ]


def test_refuses_a_formula_typed_into_an_editable_cell(
    report_2022: Report, exported: bytes
) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "2①")
    errors = refused(edited(exported, edit_cells(**{f"D{row}": '=CONCAT("・", "x")'})), report_2022)
    assert errors == [f"一覧!D{row}: 数式は使えません。文字をそのまま入力してください。"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a workbook at all",
        b"PK\x03\x04 truncated zip",
        "市長公約(政策宣言)進捗状況一覧表".encode(),
    ],
    ids=["empty", "text", "broken-zip", "japanese-text"],
)
def test_refuses_a_file_that_is_not_xlsx(report_2022: Report, data: bytes) -> None:
    errors = refused(data, report_2022)
    assert len(errors) == 1
    assert "Excelブック(.xlsx)として読めません" in errors[0] and "保存し直して" in errors[0]


def test_refuses_a_zip_that_is_not_a_workbook(report_2022: Report) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("hello.txt", "hi")
    errors = refused(output.getvalue(), report_2022)
    assert "Excelブック(.xlsx)として読めません" in errors[0] and "保存し直して" in errors[0]


def test_refuses_a_truncated_workbook(report_2022: Report, exported: bytes) -> None:
    errors = refused(exported[: len(exported) // 2], report_2022)
    assert "Excelブック(.xlsx)として読めません" in errors[0] and "保存し直して" in errors[0]


def test_refuses_a_workbook_without_the_list_sheet(report_2022: Report, exported: bytes) -> None:
    def rename(workbook) -> None:
        workbook[excel.LIST_SHEET].title = "Sheet1"

    assert refused(edited(exported, rename), report_2022) == [
        "シート「一覧」がありません(あるシート: Sheet1、集計)。"
        "このページの「Excelをダウンロード」で書き出したブックを使ってください。"
    ]


def test_refuses_a_sheet_without_the_header_row(report_2022: Report, exported: bytes) -> None:
    errors = refused(edited(exported, edit_cells(A3="No.")), report_2022)
    assert errors == [
        "一覧: 見出しの行「番号 | 項目 | 内容 | 取組状況 | 評価」がありません"
        "(書き出したブックでは 3 行目)。"
    ]


def test_totals_in_the_workbook_are_never_read(report_2022: Report, exported: bytes) -> None:
    def tamper(workbook) -> None:
        summary = workbook[excel.SUMMARY_SHEET]
        summary["B5"] = "=1/0"
        summary["C5"] = 999

    assert excel.plan_import(edited(exported, tamper), report_2022).changes == ()


def test_apply_refuses_a_plan_made_stale_by_an_edit(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "1①")
    plan = excel.plan_import(edited(exported, edit_cells(**{f"E{row}": "C 着手"})), report_2022)
    Assessment.objects.filter(pk=assessment(report_2022, 1, 1).pk).update(rating="B")
    with pytest.raises(editing.StalePlanError, match="1①"):
        editing.apply_workbook(plan)
    assert assessment(report_2022, 1, 1).rating == "B"


def test_plan_survives_the_session_as_json(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "1①")
    plan = excel.plan_import(edited(exported, edit_cells(**{f"E{row}": "C 着手"})), report_2022)
    assert excel.ImportPlan.from_dict(json.loads(json.dumps(plan.as_dict()))) == plan
