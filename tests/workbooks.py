"""Helpers for tests that read and edit exported workbooks with openpyxl."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from pledges import excel


def open_workbook(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def row_of(sheet: Worksheet, code: str) -> int:
    """The row whose column A is ``code`` (``4①``, ``4``, ``第1章``)."""
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if excel.cell_text(cell.value) == code:
            return cell.row
    raise AssertionError(f"no row {code} in {sheet.title}")


def edited(data: bytes, edit: Callable[[Workbook], None]) -> bytes:
    """``data`` with ``edit`` applied to the workbook and saved again, as Excel would."""
    workbook = open_workbook(data)
    edit(workbook)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def edit_cells(**cells: str | None) -> Callable[[Workbook], None]:
    """An edit that sets ``一覧`` cells by coordinate ({"E6": "B 実施中"})."""

    def edit(workbook: Workbook) -> None:
        for coordinate, value in cells.items():
            workbook[excel.LIST_SHEET][coordinate] = value

    return edit


def sub_item_rows(sheet: Worksheet) -> list[tuple]:
    """(code, 項目, 内容, 取組状況, 評価) of every sub-item row."""
    return [
        tuple(excel.cell_text(value) for value in row)
        for row in sheet.iter_rows(min_row=excel.HEADER_ROW + 1, max_col=5, values_only=True)
        if row[0] and str(row[0])[-1] in "①②③④⑤⑥⑦⑧⑨⑩"
    ]


def with_ratings(data: bytes, **ratings: str) -> bytes:
    """``data`` with the 評価 of sub-items set by code: ``with_ratings(data, **{"1①": "D"})``."""

    def edit(workbook: Workbook) -> None:
        sheet = workbook[excel.LIST_SHEET]
        for code, value in ratings.items():
            sheet[f"E{row_of(sheet, code)}"] = value

    return edited(data, edit)
