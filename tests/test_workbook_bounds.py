"""pledges.xlsx_reading: uploads are refused by their bounds before they cost time or memory.

The hostile workbooks are built here, small on disk and huge or endless once read: a note that
expands to 64 MB, rows that all claim to be row 3, a table that never ends, a cell far longer
than any table could hold. Each is refused with a Japanese message naming the part, row or cell,
quoting at most a short prefix, with nothing written.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable

import pytest

from pledges import excel, xlsx_reading
from pledges.models import Report

from .workbooks import edit_cells, edited, open_workbook, row_of

pytestmark = pytest.mark.django_db

SHEET_PATH = "xl/worksheets/sheet1.xml"  # 一覧, the first sheet openpyxl writes
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture
def exported(report_2022: Report) -> bytes:
    return excel.export_xlsx(report_2022)


def rezipped(data: bytes, replace: dict[str, Callable[[zipfile.ZipFile], None] | bytes]) -> bytes:
    """``data`` with the named parts replaced: bytes, or a writer that streams the part into
    the new archive (so a test can write a part far larger than it holds in memory)."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(
        output, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            new = replace.get(info.filename)
            if new is None:
                target.writestr(info, source.read(info.filename))
            elif isinstance(new, bytes):
                target.writestr(info.filename, new)
            else:
                new(target)
    return output.getvalue()


def sheet_xml(rows: str) -> bytes:
    return f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()


def refused(data: bytes, report: Report) -> list[str]:
    started = time.monotonic()
    with pytest.raises(xlsx_reading.WorkbookError) as raised:
        excel.plan_import(data, report)
    assert time.monotonic() - started < 5
    return raised.value.errors


def test_a_note_that_expands_past_the_limit_is_refused_before_reading(
    report_2022: Report, exported: bytes
) -> None:
    def huge_note(target: zipfile.ZipFile) -> None:
        with target.open(SHEET_PATH, "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="D1" '
                       't="inlineStr"><is><t>'.encode())
            chunk = b"a" * (1024 * 1024)
            for _ in range(64):
                part.write(chunk)
            part.write(b"</t></is></c></row></sheetData></worksheet>")

    data = rezipped(exported, {SHEET_PATH: huge_note})
    assert len(data) < 1024 * 1024  # a small upload…
    errors = refused(data, report_2022)
    assert len(errors) == 1
    assert "展開すると 64 MB になり、上限の 50 MB を超えます" in errors[0]


def test_rows_that_repeat_their_number_are_refused_at_the_first_repeat(
    report_2022: Report, exported: bytes
) -> None:
    row = '<row r="3"><c r="A3" t="inlineStr"><is><t>番号</t></is></c></row>'
    data = rezipped(exported, {SHEET_PATH: sheet_xml(row * 200_000)})
    assert refused(data, report_2022) == [
        "一覧: 行番号 3 が 3 行目の後に出てきます。行の順序が壊れたファイルは読み込めません。"
    ]


def test_rows_that_go_backwards_are_refused(report_2022: Report, exported: bytes) -> None:
    rows = '<row r="5"><c r="A5"><v>1</v></c></row><row r="4"><c r="A4"><v>1</v></c></row>'
    data = rezipped(exported, {SHEET_PATH: sheet_xml(rows)})
    assert refused(data, report_2022) == [
        "一覧: 行番号 4 が 5 行目の後に出てきます。行の順序が壊れたファイルは読み込めません。"
    ]


def test_a_sheet_that_runs_past_the_table_is_refused(report_2022: Report, exported: bytes) -> None:
    # 3 rows above the table, 6 chapters + 30 pledges + 60 sub-items, a blank row, 1 footnote.
    last = row_of(open_workbook(exported)[excel.LIST_SHEET], "※1")
    assert last == 3 + 96 + 2
    data = edited(exported, edit_cells(A5000="追加"))
    (error,) = refused(data, report_2022)
    assert error == (
        "一覧!A5000: 表が 127 行目より後まで続いています。行を追加したファイルは読み込めません。"
    )


def test_a_cell_longer_than_a_table_could_hold_is_refused_quoting_only_its_start(
    report_2022: Report, exported: bytes
) -> None:
    # Excel and openpyxl cut a cell at 32,767 characters; a crafted file need not.
    note = "・" + "長い取組状況" * 100_000  # 600,001 characters, about 1.8 MB of XML
    cell = f'<row r="9"><c r="D9" t="inlineStr"><is><t>{note}</t></is></c></row>'
    (error,) = refused(rezipped(exported, {SHEET_PATH: sheet_xml(cell)}), report_2022)
    # Refused as it streams in, without reading the rest to count it.
    assert error == (
        "一覧!D9: この列の上限 32,767文字を超えています "
        "(「・長い取組状況長い取組状況長い取組状況長い取組状況長い取組状…」)。"
    )
    assert len(error) < 150


def test_a_note_longer_than_its_column_is_refused(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "2①")
    data = edited(exported, edit_cells(**{f"D{row}": "・短い\n・" + "あ" * 1001}))
    (error,) = refused(data, report_2022)
    assert error == (
        f"一覧!D{row}: 取組状況の1件が 1,001文字あります。1件 1,000文字までです "
        f"(「{'あ' * 30}…」(1,001文字))。"
    )


def test_too_many_notes_for_one_sub_item_are_refused(report_2022: Report, exported: bytes) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "2①")
    notes = "\n".join(f"・記述{number}" for number in range(51))
    (error,) = refused(edited(exported, edit_cells(**{f"D{row}": notes})), report_2022)
    assert error == f"一覧!D{row}: 取組状況が 51 件あります。1項目に 50 件までです。"


def test_a_blank_row_inserted_inside_the_table_is_refused(
    report_2022: Report, exported: bytes
) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "3①")
    data = edited(exported, lambda workbook: workbook[excel.LIST_SHEET].insert_rows(row))
    assert refused(data, report_2022) == [
        f"一覧!A{row}: 3① があるはずの行が空です。"
        "空の行を挿入したり行を削除したりはできません。"
    ]


def test_an_entity_declaration_is_refused(report_2022: Report, exported: bytes) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>')
    )
    errors = refused(rezipped(exported, {SHEET_PATH: laughs}), report_2022)
    assert errors == [f"{SHEET_PATH}: 部品が壊れています。{xlsx_reading.WRONG_FORMAT}"]


def test_a_zip_of_too_many_parts_is_refused(report_2022: Report) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for number in range(1001):
            archive.writestr(f"part{number}.xml", "")
    assert refused(output.getvalue(), report_2022) == [
        "ブックの部品が多すぎます(1,001個、上限 1,000個)。"
    ]


def test_an_upload_over_the_size_limit_is_refused_unread(report_2022: Report) -> None:
    errors = refused(b"\0" * (xlsx_reading.MAX_UPLOAD_BYTES + 1), report_2022)
    assert errors == ["ファイルが大きすぎます(10.0 MB、上限 10 MB)。"]


@pytest.mark.parametrize(
    ("typed", "rating"),
    [("a", "A"), ("Ａ", "A"), ("A完了", "A"), ("Ａ　完了", "A"), ("c 着手", "C"), ("未着手", "D")],
)
def test_ratings_are_read_as_clerks_type_them(
    report_2022: Report, exported: bytes, typed: str, rating: str
) -> None:
    row = row_of(open_workbook(exported)[excel.LIST_SHEET], "2①")
    plan = excel.plan_import(edited(exported, edit_cells(**{f"E{row}": typed})), report_2022)
    assert [(change.code, change.new_rating) for change in plan.changes] == [("2①", rating)]


# A worst case within every bound: the largest upload that expands to just under the limit,
# made of as many small elements as allowed, each a distinct shared string.
WORST_CASE = textwrap.dedent(
    """
    import io, json, resource, sys, time, zipfile
    from pledges.xlsx_reading import BoundedWorkbook, WorkbookError

    MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    data = sys.stdin.buffer.read()
    started = time.monotonic()
    try:
        workbook = BoundedWorkbook(data)
        rows = sum(1 for _ in workbook.rows("一覧", max_rows=127,
                                             limits=dict.fromkeys("ABCDE", 50_100)))
        outcome = f"read {rows} rows"
    except WorkbookError as error:
        outcome = str(error)
    print(json.dumps({"seconds": time.monotonic() - started, "outcome": outcome,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def worst_case_workbook() -> bytes:
    strings = 900_000  # two elements each: just under MAX_ELEMENTS
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="一覧" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        with archive.open("xl/sharedStrings.xml", "w") as part:
            part.write(f'<sst xmlns="{MAIN}">'.encode())
            for number in range(strings):
                part.write(f"<si><t>取組{number:09d}</t></si>".encode())
            part.write(b"</sst>")
        cells = "".join(f'<c t="s"><v>{number}</v></c>' for number in range(5))
        archive.writestr(SHEET_PATH, sheet_xml(
            "".join(f'<row r="{row}">{cells}</row>' for row in range(1, 128))
        ))
    return output.getvalue()


def test_the_worst_upload_within_the_bounds_is_read_in_seconds_and_little_memory() -> None:
    data = worst_case_workbook()
    assert len(data) <= xlsx_reading.MAX_UPLOAD_BYTES
    expanded = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert expanded > 25 * 1024 * 1024
    result = subprocess.run(
        [sys.executable, "-c", WORST_CASE], input=data, capture_output=True, check=True,
        timeout=60,
    )
    figures = json.loads(result.stdout)
    assert figures["outcome"] == "read 127 rows"
    assert figures["seconds"] < 15
    assert figures["peak_mb"] < 250
