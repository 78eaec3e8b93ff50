"""The report as a workbook in the city's layout, as CSV/JSON open data, and the workbook back in.

Export is two steps (STYLE rule 9): ``reading.read_report`` reads the report (or the sub-items a
filter chose) as plain ``Item``s; the renderers (``render_xlsx``, ``render_csv``,
``render_json``) only turn them into a format. ``render_csv`` serves both CSV downloads: the open
data of a report (/export/<month>.csv) and the filtered /items.csv.

Import is the way back for the ``一覧`` sheet only: ``plan_import`` reads an edited workbook,
matches its rows to the report strictly by position (the codes in column A), and returns an
``ImportPlan`` of the sub-items whose 評価 or 取組状況 changed, old → new — or raises
``WorkbookError`` listing every problem with its cell. Nothing is written until
``editing.apply_workbook`` applies a plan in one transaction with history, after checking that
nothing changed in the database since the plan was made.

The ``一覧`` sheet, row by row::

    1  title with the as-of month (merged A:E)
    2  legend: A 完了 B 実施中 C 着手 D 未着手 (merged A:E)
    3  番号 | 項目 | 内容 | 取組状況 | 評価          header, repeated on every printed page
    4… 第1章 | chapter title                          chapter row
       1     | 【分野】pledge title                     pledge row
       1①   | ①title | 内容 | ・note⏎・note | A 完了   sub-item row (E may be "※1 C 着手")
       (blank row, then the footnotes: ※1 | text)

Only 取組状況 (D) and 評価 (E) of sub-item rows may be edited; every other cell must come back
as exported. The ``集計`` sheet is output only: an uploaded workbook's totals are never read.

Every cell that comes from the data is written as a string (never a formula, whatever it starts
with), and characters XML cannot carry (a CR, control characters) use the OOXML ``_xHHHH_``
escape, which Excel decodes; ``cell_text`` decodes it when reading back.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from . import stats, table_format
from .editing import assessment_fingerprint, needs_every_rating
from .models import Footnote, Pledge, ProgressNote, Report, SubItem
from .reading import Item, ReportData, read_report
from .table_format import notes_cell, parse_notes_cell
from .xlsx_reading import BoundedWorkbook, Row, WorkbookError, quote

LIST_SHEET = "一覧"
SUMMARY_SHEET = "集計"
HEADER = ("番号", "項目", "内容", "取組状況", "評価")
HEADER_ROW = 3
HEADER_SEARCH_ROWS = 10  # the import finds the header within these, should rows move a little
COLUMN_WIDTHS = {"A": 7, "B": 32, "C": 58, "D": 64, "E": 14}
NOTES_COLUMN = "D"
RATING_COLUMN = "E"
FONT_NAME = "Yu Gothic"  # Excel maps it to 游ゴシック; charset 128 marks the font as Japanese
FONT_CHARSET = 128
# A very hidden sheet recording what the workbook was exported from: the report's month and,
# per sub-item, the fingerprint of its rating and notes then (``editing.assessment_fingerprint``).
EXPORT_SHEET = "書き出し元"
EXPORT_REPORT_LABEL = "報告"
EXPORT_HEADER_ROW = 3

CSV_HEADER = (
    _("章"),
    _("章名"),
    _("公約番号"),
    _("分野"),
    _("公約"),
    _("項目番号"),
    _("項目"),
    _("内容"),
    _("取組状況"),
    _("評価"),
    _("評価の意味"),
    _("注記"),
    _("最終更新"),
)


# --------------------------------------------------------------------------------------------
# Rows: the one read of a report every export and the import start from


def item_dict(item: Item) -> dict[str, Any]:
    """The item as open data (JSON)."""
    return {
        "chapter": item.chapter,
        "chapter_title": item.chapter_title,
        "pledge": item.pledge,
        "pledge_field": item.pledge_field,
        "pledge_title": item.pledge_title,
        "sub_item": item.position,
        "code": item.code,
        "title": item.title,
        "content": item.content,
        "notes": list(item.notes),
        "rating": item.rating or None,
        "rating_label": item.scale.label(item.rating) or None,
        "footnote": item.footnote or None,
    }


def csv_row(item: Item, footnote_texts: dict[str, str]) -> tuple[str | int, ...]:
    """The item under ``CSV_HEADER``, exact text (``render_csv`` makes it formula-safe)."""
    # As the page's 最終更新: the day of a staff edit, else the report's month (its first day).
    updated = (
        timezone.localtime(item.updated).date().isoformat() if item.updated else f"{item.month}-01"
    )
    footnote = item.footnote
    return (
        item.chapter,
        item.chapter_title,
        item.pledge,
        item.pledge_field,
        item.pledge_title,
        item.code,
        item.title,
        item.content,
        notes_cell(item.notes, item.notes_bulleted),
        item.rating,
        item.scale.label(item.rating),
        f"{footnote}：{footnote_texts.get(footnote, '')}" if footnote else "",
        updated,
    )


def rating_cell(item: Item) -> str:
    """What the 評価 column shows: ``A 完了`` or ``※1 C 着手`` (the marker alone if unrated)."""
    if not item.rating:
        return item.footnote
    return table_format.rating_cell(item.rating_text, item.footnote or None)


# --------------------------------------------------------------------------------------------
# Cell text: literal strings only, escaped so that every character survives


_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f]")  # all control characters but tab and LF
_ESCAPE_LOOKALIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell_text(value: str) -> str:
    """``value`` in OOXML string escaping: ``_xHHHH_`` for control characters, ``_x005F`` for
    text that would otherwise read as such an escape."""
    if "_x" in value:  # seldom so; the test costs far less than the expression on every cell
        value = _ESCAPE_LOOKALIKE.sub(r"_x005F_\1", value)
    return _UNSAFE_CHARS.sub(lambda match: f"_x{ord(match.group()):04X}_", value)


def cell_text(value: object) -> str:
    """A cell's value as the text it stands for ("" for an empty cell).

    Decodes ``_xHHHH_`` escapes (openpyxl leaves them as they are in the file); whole numbers
    typed into a text column come back without ``.0``.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, str):
        return str(value)
    if "_x" not in value:
        return value
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), value)


def formula_safe(value: object) -> object:
    """``value``, with a leading apostrophe on text a spreadsheet would run as a formula (OWASP's
    advice for CSV); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def set_text(cell, value: str) -> None:
    """Write ``value`` as a literal string, never a formula.

    openpyxl turns a string starting with ``=`` into a formula, so the type is forced back to
    string; a value Excel would read as a formula when edited also gets the quote prefix.
    """
    cell.value = escape_cell_text(value)
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


# --------------------------------------------------------------------------------------------
# Rendering


def sheet_lines(items: Sequence[Item]) -> Iterator[tuple[str, Item]]:
    """The ``一覧`` table rows in order: ("chapter", first item of the chapter), ("pledge", …),
    ("item", item). Shared by the renderer and the import so both agree on the layout."""
    chapter = pledge = None
    for item in items:
        if item.chapter != chapter:
            chapter = item.chapter
            yield "chapter", item
        if item.pledge != pledge:
            pledge = item.pledge
            yield "pledge", item
        yield "item", item


def line_code(kind: str, item: Item) -> str:
    """Column A of a table row: ``第1章``, ``1`` or ``1①``."""
    return {"chapter": item.chapter_code, "pledge": str(item.pledge), "item": item.code}[
        kind
    ]


def _fixed_cells(kind: str, item: Item) -> dict[str, str]:
    """The cells of a table row that the import must find unchanged."""
    if kind == "chapter":
        return {"A": item.chapter_code, "B": item.chapter_title}
    if kind == "pledge":
        return {"A": str(item.pledge), "B": item.pledge_label}
    return {"A": item.code, "B": item.item_label, "C": item.content}


def display_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-pitch rendering: full-width characters count two."""
    return len(text) + sum(1 for char in text if _is_wide(char))


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


# Row heights. Neither LibreOffice nor Excel reliably fits a wrapped row's height to its text on
# opening a file written without heights: LibreOffice keeps the default one-line height, and
# prints only each cell's first line. So the renderer sets every wrapped row's height itself.
# A line of 10 pt Yu Gothic takes about 17 pt in Excel (its default row for 11 pt is 18.75 pt);
# LibreOffice, with Noto Sans CJK in its place, needs less, so 17 suits both.
LINE_HEIGHT = 17.0
ROW_PADDING = 3.0
MAX_ROW_HEIGHT = 409.0  # the largest height Excel accepts; a taller row is cut on paper
# Room a column's width (in characters of the default font) leaves for text: the cell's own
# margins, and one wide character for the line breaking rules that keep 。、」 off the start of a
# line and move the character before them down instead.
_WRAP_SLACK = 3
# An ASCII word wraps as a whole; any other character may start a new line.
_WRAP_UNIT = re.compile(r"[!-~]+|.")


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` fills in a wrapped cell ``width`` characters wide (``COLUMN_WIDTHS``).

    Each line of the text (the notes' line breaks too) starts a new line; within it, units
    are laid greedily as a spreadsheet does, full-width characters counting two.
    """
    room = max(width - _WRAP_SLACK, 2)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        if 2 * len(paragraph) <= room:
            continue  # fits even were every character full-width, as most cells do
        used = 0
        for unit in _WRAP_UNIT.findall(paragraph):
            # A unit longer than one character is an ASCII word: all narrow.
            size = len(unit) if len(unit) > 1 else 1 + _is_wide(unit)
            if used and used + size > room:
                lines += 1
                used = 0
            used += size
            while used > room:  # a word longer than the column breaks inside
                lines += 1
                used -= room
    return lines


def row_height(cells: Mapping[str, str], widths: Mapping[str, float]) -> float:
    """The height in points a row needs to show every line of its wrapped ``cells``
    (column → text) at ``widths``, at most ``MAX_ROW_HEIGHT``."""
    lines = max((wrapped_lines(text, widths[column]) for column, text in cells.items()), default=1)
    return min(lines * LINE_HEIGHT + ROW_PADDING, MAX_ROW_HEIGHT)


def _styles() -> dict[str, NamedStyle]:
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def style(
        name: str, *, size: int = 10, bold: bool = False, wrap: bool = True,
        fill: str | None = None, boxed: bool = True, horizontal: str = "general",
    ) -> NamedStyle:
        named = NamedStyle(name=f"pledges_{name}")
        named.font = Font(name=FONT_NAME, charset=FONT_CHARSET, size=size, bold=bold)
        named.alignment = Alignment(vertical="top", wrap_text=wrap, horizontal=horizontal)
        if boxed:
            named.border = border
        if fill:
            named.fill = PatternFill("solid", fgColor=fill)
        return named

    return {
        "title": style("title", size=14, bold=True, wrap=False, boxed=False),
        "legend": style("legend", wrap=False, boxed=False),
        "header": style("header", bold=True, fill="D9E1F2", horizontal="center"),
        "chapter": style("chapter", size=11, bold=True, wrap=False, fill="FCE4D6"),
        "pledge": style("pledge", bold=True, wrap=False, fill="F2F2F2"),
        "text": style("text"),
        "rating": style("rating", horizontal="center"),
        "footnote": style("footnote", boxed=False),
        "number": style("number", wrap=False),
        "percent": style("percent", wrap=False),
    }


# A sheet of a write-only workbook (openpyxl's ``WriteOnlyWorksheet``). It has a Worksheet's
# settings (dimensions, page setup, validations, merged cells), but its stubs declare few of them.
WriteOnlySheet = Any


def render_xlsx(rows: ReportData, summary: stats.ReportSummary) -> bytes:
    """The workbook (``一覧``, ``集計`` and the hidden ``書き出し元``) as .xlsx bytes. Pure: no
    queries."""
    # Write-only: each row is written out as it is appended, instead of all cells (60,000 at
    # 10,000 sub-items) being kept, then sorted, then written. In exchange a sheet's properties,
    # size, views and columns must be set before its first row (``_declare_size``).
    workbook = Workbook(write_only=True)
    styles = _styles()
    for named in styles.values():
        workbook.add_named_style(named)
    _write_list(_cell_sheet(workbook, LIST_SHEET), rows, styles)
    _write_summary(_cell_sheet(workbook, SUMMARY_SHEET), rows.report, summary, styles)
    _write_export_record(_cell_sheet(workbook, EXPORT_SHEET), rows)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _cell_sheet(workbook: Workbook, title: str) -> WriteOnlySheet:
    """A write-only sheet whose rows are appended as Cells (``_cell``) or plain values, each put
    in its place as it comes.

    openpyxl's write-only ``append`` first assigns each value to a cell of its own, and takes a
    Cell it was given only once that assignment has failed: a ValueError, with the Cell's
    ``repr`` in its message, for every cell — about 0.3 s of an export of 10,000 sub-items.
    """
    sheet = workbook.create_sheet(title)

    def cells_to_row(values: Sequence[Any], row: int) -> Iterator[Cell]:
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
            cell.column, cell.row = column, row
            if cell.hyperlink is not None:  # as openpyxl's own
                cell.hyperlink.ref = cell.coordinate
            yield cell

    sheet._values_to_row = cells_to_row
    return sheet


def _declare_size(sheet: WriteOnlySheet, size: str) -> None:
    """Declare the range ``size`` (``A1:E120``) that a write-only ``sheet`` will fill.

    openpyxl writes a normal sheet's used range as ``<dimension>``, which readers such as its
    own read-only mode take as the sheet's size; it asks the sheet through
    ``calculate_dimension``, which a write-only sheet lacks. Call this, and set the views,
    columns and sheet properties, before the first row: they precede the rows in the file.
    """
    sheet.calculate_dimension = lambda: size


def _cell(sheet: WriteOnlySheet, style: NamedStyle | None, text: str | None = None) -> Cell:
    """A cell in ``style`` holding ``text`` (``set_text``), to append to ``sheet``."""
    # The named style's array, as ``cell.style = name`` would copy it after looking the name
    # up among the workbook's named styles, which cost 0.2 s over 60,000 cells. Row and column
    # are set by ``append``.
    cell = Cell(sheet, row=1, column=1, style_array=style.as_tuple() if style else None)
    if text is not None:
        set_text(cell, text)
    return cell


def _write_list(sheet: WriteOnlySheet, rows: ReportData, styles: dict[str, NamedStyle]) -> None:
    report = rows.report
    lines = list(sheet_lines(rows.items))
    last_column = get_column_letter(len(HEADER))
    last_row = HEADER_ROW + len(lines)
    # Under the table a blank row, then the footnotes; the print area takes in the blank row
    # even when there are none.
    print_end = last_row + 1 + len(rows.footnotes)
    _declare_size(sheet, f"A1:{last_column}{print_end if rows.footnotes else last_row}")
    for column, width in COLUMN_WIDTHS.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    _page_setup(sheet)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{last_column}{print_end}"

    # Rows are numbered as they are appended: title, legend, then the header as HEADER_ROW.
    sheet.append([_cell(sheet, styles["title"], report.title)])
    sheet.merged_cells.add(f"A1:{last_column}1")
    legend = report.scale.legend("　")
    sheet.append([_cell(sheet, styles["legend"], f"評価　{legend}")])
    sheet.merged_cells.add(f"A2:{last_column}2")
    sheet.append([_cell(sheet, styles["header"], label) for label in HEADER])

    row = HEADER_ROW
    rating_rows: dict[str, list[int]] = defaultdict(list)  # footnote marker → rows
    for kind, item in lines:
        row += 1
        values = _fixed_cells(kind, item)
        style = styles["text" if kind == "item" else kind]
        if kind == "item":
            values |= {
                NOTES_COLUMN: notes_cell(item.notes, item.notes_bulleted),
                RATING_COLUMN: rating_cell(item),
            }
            rating_rows[item.footnote].append(row)
            sheet.row_dimensions[row].height = row_height(values, COLUMN_WIDTHS)
        sheet.append(
            [
                _cell(
                    sheet,
                    styles["rating"] if kind == "item" and column == RATING_COLUMN else style,
                    values.get(column),
                )
                for column in "ABCDE"
            ]
        )

    for footnote, ratings_rows in rating_rows.items():
        sheet.data_validations.append(_rating_validation(footnote, ratings_rows, report))

    if rows.footnotes:
        sheet.append([])
        row += 1
    merged_width = {"B": sum(COLUMN_WIDTHS[column] for column in "BCDE")}
    for footnote in rows.footnotes:
        row += 1
        sheet.row_dimensions[row].height = row_height({"B": footnote.text}, merged_width)
        sheet.append(
            [
                _cell(sheet, styles["footnote"], footnote.marker),
                _cell(sheet, styles["footnote"], footnote.text),
            ]
        )
        sheet.merged_cells.add(f"B{row}:{last_column}{row}")


def _write_export_record(sheet: WriteOnlySheet, rows: ReportData) -> None:
    """What this workbook was exported from, for the upload to tell its own edits from others'.

    Very hidden: Excel and LibreOffice keep it when saving but show it in no menu.
    """
    sheet.sheet_state = "veryHidden"
    _declare_size(sheet, f"A1:B{EXPORT_HEADER_ROW + len(rows.items)}")
    sheet.append([_cell(sheet, None, EXPORT_REPORT_LABEL), _cell(sheet, None, rows.report.month)])
    sheet.append(
        [_cell(sheet, None, "アップロードの際に、他の人の変更を守るために使う非表示のシートです。")]
    )
    # EXPORT_HEADER_ROW, the third row:
    sheet.append([_cell(sheet, None, "項目"), _cell(sheet, None, "書き出し時の評価・取組状況")])
    for item in rows.items:
        fingerprint = assessment_fingerprint(item.rating, item.notes, item.notes_bulleted)
        # A code (4①) and a hex digest can be neither a formula nor need escaping: appended as
        # plain strings, they spare building 20,000 cells at 10,000 sub-items.
        sheet.append([item.code, fingerprint])


def _rating_validation(footnote: str, rows: list[int], report: Report) -> DataValidation:
    """A drop-down of the four ratings for ``rows``, keeping their footnote marker."""
    prefix = f"{footnote} " if footnote else ""
    choices = ",".join(f"{prefix}{level.text}" for level in report.scale)
    validation = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=not needs_every_rating(report),
        showErrorMessage=True,
        errorTitle="評価",
        error=f"評価は {report.scale.legend()} から選んでください。",
    )
    # One MultiCellRange built at once: DataValidation.add checks each new range against all
    # the others, which is quadratic in the number of pledges.
    validation.sqref = MultiCellRange(
        " ".join(f"{RATING_COLUMN}{start}:{RATING_COLUMN}{end}" for start, end in _runs(rows))
    )
    return validation


def _runs(numbers: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of ascending ``numbers`` as (first, last): [4, 5, 7] → (4, 5), (7, 7)."""
    start = previous = numbers[0]
    for number in numbers[1:]:
        if number != previous + 1:
            yield start, previous
            start = number
        previous = number
    yield start, previous


def _page_setup(sheet: WriteOnlySheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    footer = sheet.oddFooter
    assert footer is not None  # openpyxl makes a sheet with its headers and footers
    footer.center.text = "&P / &N"


def _write_summary(
    sheet: WriteOnlySheet,
    report: Report,
    summary: stats.ReportSummary,
    styles: dict[str, NamedStyle],
) -> None:
    """Counts and percents per rating, overall then per chapter, as values (never formulas)."""
    show_unrated = summary.overall.unrated > 0
    header = ["区分", "項目数"]
    for level in report.scale:
        header += [level.text, "割合"]
    if show_unrated:
        header.append("未評価")
    lines = [("全体", summary.overall)] + [
        (f"第{chapter.number}章 {chapter.title}", chapter.breakdown) for chapter in summary.chapters
    ]
    _declare_size(sheet, f"A1:{get_column_letter(len(header))}{4 + len(lines)}")
    sheet.column_dimensions["A"].width = 34
    for column in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 10
    sheet.freeze_panes = "B5"
    _page_setup(sheet)

    sheet.append([_cell(sheet, styles["title"], f"評価の集計【{report.month_label}現在】")])
    sheet.append([_cell(sheet, styles["legend"], "一覧の評価から計算した値です。")])
    sheet.append([])
    sheet.append([_cell(sheet, styles["header"], label) for label in header])
    for label, breakdown in lines:
        values: list[tuple[int | float, str]] = [(breakdown.total, "0")]
        for figure in breakdown.ratings:
            # The percent the city prints (rounded half-up to 0.01 %), so 8/60 shows 13.33%.
            values += [(figure.count, "0"), (float(figure.percent / 100), "0.00%")]
        if show_unrated:
            values.append((breakdown.unrated, "0"))
        cells = [_cell(sheet, styles["text"], label)]
        for value, number_format in values:
            cell = _cell(sheet, styles["number" if number_format == "0" else "percent"])
            cell.value = value
            cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)


def render_csv(rows: ReportData) -> bytes:
    """UTF-8 with BOM (so Excel reads the Japanese), CRLF lines: ``CSV_HEADER``, then one line
    per item.

    A CSV is opened in Excel more often than anywhere else, so text a spreadsheet would run as a
    formula gets a leading apostrophe (``formula_safe``); the JSON keeps the exact text.
    """
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([str(header) for header in CSV_HEADER])
    texts = {footnote.marker: footnote.text for footnote in rows.footnotes}
    writer.writerows(
        [formula_safe(value) for value in csv_row(item, texts)] for item in rows.items
    )
    return ("\ufeff" + output.getvalue()).encode("utf-8")


def render_json(rows: ReportData, summary: stats.ReportSummary) -> dict[str, Any]:
    """The whole report as one JSON-ready dict: metadata, recomputed summary, footnotes, items."""
    report = rows.report
    return {
        "report": report.month,
        "title": report.title,
        "as_of": report.as_of.isoformat(),
        "month_label": report.month_label,
        "manifesto": report.manifesto.as_dict(),
        "status": report.status,
        "summary": {key: value for key, value in summary.as_dict().items() if key != "report"},
        "footnotes": [{"marker": f.marker, "text": f.text} for f in rows.footnotes],
        "items": [item_dict(item) for item in rows.items],
    }


def export_xlsx(report: Report) -> bytes:
    """``render_xlsx`` of the whole report: four queries."""
    return render_xlsx(read_report(report), stats.report_summary(report))


def download_name(report: Report, extension: str) -> tuple[str, str]:
    """(ASCII fallback, Japanese name) for a download: iruma-pledges-2022-03.xlsx and
    入間市公約進捗_2022-03.xlsx."""
    return (
        f"iruma-pledges-{report.month}.{extension}",
        f"入間市公約進捗_{report.month}.{extension}",
    )


# --------------------------------------------------------------------------------------------
# Import: an edited 一覧 back into a plan


@dataclass(frozen=True)
class Change:
    """One sub-item whose 評価 or 取組状況 differs in the workbook, old → new.

    ``conflict``: someone else changed the sub-item too since the workbook was exported (or the
    workbook does not say what it was exported from), so applying it would overwrite their edit.
    """

    sub_item_id: int
    code: str
    title: str
    row: int
    old_rating: str
    new_rating: str
    old_notes: tuple[str, ...]
    new_notes: tuple[str, ...]
    old_bulleted: bool = True
    new_bulleted: bool = True
    conflict: bool = False
    old_rating_text: str = ""  # A 完了, as shown
    new_rating_text: str = ""

    @property
    def rating_changed(self) -> bool:
        return self.old_rating != self.new_rating

    @property
    def notes_changed(self) -> bool:
        return self.old_notes != self.new_notes or (
            bool(self.new_notes) and self.old_bulleted != self.new_bulleted
        )

    @property
    def old_notes_text(self) -> str:
        return notes_cell(self.old_notes, self.old_bulleted)

    @property
    def new_notes_text(self) -> str:
        return notes_cell(self.new_notes, self.new_bulleted)


@dataclass(frozen=True)
class ImportPlan:
    """What applying a workbook would change in a report; ``changes`` may be empty.

    ``kept``: sub-items others changed since the export that the workbook left as exported —
    their current values stay. ``from_export``: the workbook says what it was exported from
    (without it every difference is treated as a conflict).
    """

    report_id: int
    month: str
    sub_items: int
    changes: tuple[Change, ...] = field(default=())
    kept: tuple[str, ...] = field(default=())
    from_export: bool = True

    @property
    def conflicts(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.conflict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for the session between preview and confirm)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportPlan:
        changes = tuple(
            Change(
                **{
                    **change,
                    "old_notes": tuple(change["old_notes"]),
                    "new_notes": tuple(change["new_notes"]),
                }
            )
            for change in data["changes"]
        )
        return cls(data["report_id"], data["month"], data["sub_items"], changes,
                   tuple(data["kept"]), data["from_export"])


_FOOTNOTE_PREFIX = re.compile(r"^(※\s*\d+)[ \u3000]*")
_SPACES = re.compile(r"[ \u3000]+")


def _column_limits() -> dict[str, int]:
    """The longest text each 一覧 column can hold, from the models' limits: anything longer
    cannot be a cell this product wrote or could store, and is refused before it is kept."""

    def longest(model: type[Model], name: str) -> int:
        column = model._meta.get_field(name)
        assert isinstance(column, Field) and column.max_length is not None, name
        return column.max_length

    # Excel holds at most 32,767 characters in a cell; 50 notes of 1,000 would not fit.
    notes = min(ProgressNote.MAX_PER_ASSESSMENT * (longest(ProgressNote, "text") + 2), 32_767)
    return {
        "A": longest(Report, "title"),  # the title in A1; below it codes like 123④
        "B": max(longest(Footnote, "text"), longest(SubItem, "title") + 2,
                 longest(Pledge, "field") + longest(Pledge, "title") + 2),
        "C": longest(SubItem, "content"),
        NOTES_COLUMN: notes,
        RATING_COLUMN: 40,
    }


def plan_import(data: bytes, report: Report) -> ImportPlan:
    """Read an edited ``一覧`` sheet against ``report``; raise ``WorkbookError`` on any problem.

    Rows are matched by position and must carry the codes the export gave them; a row added,
    removed or reordered, or a changed fixed cell (番号, 項目, 内容), is refused, not guessed.
    The workbook is read within the bounds of ``xlsx_reading`` (size, expansion, rows, cell
    length) before anything else. Three queries (the report's rows), no writes.
    """
    rows = read_report(report)
    workbook = BoundedWorkbook(data)
    if LIST_SHEET not in workbook.sheet_names:
        found = "、".join(name for name in workbook.sheet_names if name != EXPORT_SHEET) or "なし"
        raise WorkbookError(
            [f"シート「{LIST_SHEET}」がありません(あるシート: {found})。"
             "このページの「Excelをダウンロード」で書き出したブックを使ってください。"]
        )
    lines = len(list(sheet_lines(rows.items)))
    # The header, every table row, the blank row and the footnotes, with room for a few blank
    # rows a clerk may leave; a row of content past that is an addition and refused.
    max_row = HEADER_SEARCH_ROWS + lines + len(rows.footnotes) + 20
    table = list(workbook.rows(LIST_SHEET, max_rows=max_row, limits=_column_limits()))
    exported = None
    if EXPORT_SHEET in workbook.sheet_names:
        exported = _exported_fingerprints(workbook, rows)
    return _plan(table, rows, exported)


def _exported_fingerprints(workbook: BoundedWorkbook, rows: ReportData) -> dict[str, str]:
    """Sub-item code → fingerprint of its rating and notes when the workbook was exported."""
    found = list(
        workbook.rows(EXPORT_SHEET, max_rows=len(rows.items) + 10, limits={"A": 100, "B": 64})
    )
    month = next((row.text("B") for row in found if row.text("A") == EXPORT_REPORT_LABEL), "")
    if month != rows.report.month:
        raise WorkbookError(
            [f"このブックは {quote(month)} の報告から書き出されたものです。"
             f"{rows.report.month} の報告から書き出したブックを使ってください。"]
        )
    return {row.text("A"): row.text("B") for row in found if row.number > EXPORT_HEADER_ROW}


def _plan(table: list[Row], rows: ReportData, exported: dict[str, str] | None) -> ImportPlan:
    header_at = next(
        (
            index
            for index, row in enumerate(table)
            if row.number <= HEADER_SEARCH_ROWS
            and tuple(row.text(column) for column in "ABCDE") == HEADER
        ),
        None,
    )
    if header_at is None:
        raise WorkbookError(
            [f"{LIST_SHEET}: 見出しの行「{' | '.join(HEADER)}」がありません"
             f"(書き出したブックでは {HEADER_ROW} 行目)。"]
        )
    expected = list(sheet_lines(rows.items))
    body = _table_rows(table[header_at + 1 :], table[header_at].number, expected, rows.report)

    errors: list[str] = []
    changes: list[Change] = []
    kept: list[str] = []
    rating_required = needs_every_rating(rows.report)
    for row, (kind, item) in zip(body, expected, strict=True):
        for column, value in _fixed_cells(kind, item).items():
            if row.is_formula(column) or row.text(column) != value.strip():
                name = HEADER["ABCDE".index(column)]
                errors.append(
                    f"{LIST_SHEET}!{column}{row.number}: {line_code(kind, item)} の{name}が"
                    f"変えられています。編集できるのは取組状況 ({NOTES_COLUMN}列) と評価 "
                    f"({RATING_COLUMN}列) だけです。"
                )
        if kind != "item":
            errors += [
                f"{LIST_SHEET}!{column}{row.number}: {line_code(kind, item)} の行の "
                f"{column}列は空欄のままにしてください ({quote(row.text(column))} があります)。"
                for column in "CDE"
                if column not in _fixed_cells(kind, item) and row.text(column)
            ]
            continue
        formulas = [column for column in (NOTES_COLUMN, RATING_COLUMN) if row.is_formula(column)]
        errors += [
            f"{LIST_SHEET}!{column}{row.number}: 数式は使えません。文字をそのまま入力してください。"
            for column in formulas
        ]
        if formulas:
            continue
        notes, bulleted = parse_notes_cell(row.text(NOTES_COLUMN))
        rating, problem = _read_rating(row.text(RATING_COLUMN), item, rating_required)
        if problem:
            errors.append(f"{LIST_SHEET}!{RATING_COLUMN}{row.number}: {problem}")
            continue
        if problem := _notes_problem(notes):
            errors.append(f"{LIST_SHEET}!{NOTES_COLUMN}{row.number}: {problem}")
            continue
        change = Change(
            sub_item_id=item.sub_item_id,
            code=item.code,
            title=item.title,
            row=row.number,
            old_rating=item.rating,
            new_rating=rating,
            old_notes=item.notes,
            new_notes=notes,
            old_bulleted=item.notes_bulleted,
            new_bulleted=bulleted,
            old_rating_text=item.scale.text(item.rating),
            new_rating_text=item.scale.text(rating),
        )
        if not (change.rating_changed or change.notes_changed):
            continue
        base = exported.get(item.code) if exported is not None else None
        if base is not None and assessment_fingerprint(rating, notes, bulleted) == base:
            kept.append(item.code)  # changed by others since; the workbook left it alone
            continue
        current = assessment_fingerprint(item.rating, item.notes, item.notes_bulleted)
        changes.append(replace(change, conflict=base is None or current != base))
    if errors:
        raise WorkbookError(errors)
    return ImportPlan(
        report_id=rows.report.pk,
        month=rows.report.month,
        sub_items=len(rows.items),
        changes=tuple(changes),
        kept=tuple(kept),
        from_export=exported is not None,
    )


def _table_rows(
    rows: list[Row], header_number: int, expected: list[tuple[str, Item]], report: Report
) -> list[Row]:
    """The sheet's rows under the header, one per line of the report's table; a row added,
    removed, emptied or reordered raises ``WorkbookError`` naming the first row that departs."""
    codes = [line_code(kind, item) for kind, item in expected]
    if not codes:
        raise WorkbookError([f"{report.month} の報告には更新できる項目がありません。"])
    body = []
    for row in rows:
        if row.text("A").startswith("※"):
            break  # the footnotes under the table
        body.append(row)
    while body and body[-1].empty:
        body.pop()  # the blank row above the footnotes
    known = set(codes)
    for index, code in enumerate(codes):
        number = header_number + 1 + index
        if index >= len(body):
            raise WorkbookError(
                [f"{LIST_SHEET}!A{number}: 表がここで終わっていますが、{code} から "
                 f"{len(codes) - index} 行がありません。行は削除できません。"]
            )
        row = body[index]
        found = row.text("A")
        if row.number != number or (not found and row.empty):
            problem = (
                f"{code} があるはずの行が空です。"
                "空の行を挿入したり行を削除したりはできません。"
            )
        elif found == code:
            continue
        elif not found:
            problem = f"{code} があるはずの行の番号 (A列) が空です。行は追加できません。"
        elif found not in known:
            problem = (
                f"{quote(found)} は {report.month} の報告にありません"
                f"({code} があるはずの行です)。"
            )
        else:
            problem = (
                f"{code} があるはずの行に {found} があります。"
                "行の追加・削除・並べ替えはできません。"
            )
        raise WorkbookError([f"{LIST_SHEET}!A{number}: {problem}"])
    if len(body) > len(codes):
        row = body[len(codes)]
        found = f"番号 {quote(row.text('A'))} の行" if row.text("A") else "番号のない行"
        raise WorkbookError(
            [f"{LIST_SHEET}!A{row.number}: 最後の項目 {codes[-1]} の後に {found} があります。"
             "行は追加できません。"]
        )
    return body


def _read_rating(text: str, item: Item, required: bool) -> tuple[str, str | None]:
    """(rating, None) or ("", what is wrong) for a 評価 cell like ``A 完了`` / ``※1 C 着手``.

    The rating is read as clerks type it (``ratings.Scale.read``: ``a``, ``Ａ``, ``A完了``,
    ``完了`` …) as long as it names exactly one level; a label must be its code's own.
    """
    scale = item.scale
    typed = unicodedata.normalize("NFKC", text).strip()
    footnote = ""
    if match := _FOOTNOTE_PREFIX.match(typed):
        footnote = re.sub(r"\s", "", match[1])
        typed = typed[match.end() :]
    if footnote != item.footnote:
        return "", (
            f"注記の記号「{footnote or 'なし'}」が報告の「{item.footnote or 'なし'}」と違います。"
            "注記は管理画面で変更します(アップロードでは変えられません)。"
        )
    if not typed:
        if required:
            return "", (
                f"評価が空欄です。公開中の報告では {scale.legend()} のどれかを入力してください。"
            )
        return "", None
    if (level := scale.read(typed)) is not None:
        return level.code, None
    if (code := scale.read_code(typed)) is not None:
        label = typed[len(code):].strip()
        return "", (
            f"評価 {quote(text)}: 「{label}」は {code} の意味ではありません"
            f"({code} は「{scale.text(code)}」)。"
        )
    return "", f"評価 {quote(text)} は {scale.legend()} のどれでもありません。"


def _notes_problem(notes: tuple[str, ...]) -> str | None:
    """What makes ``notes`` impossible to store, or None."""
    limit = ProgressNote.MAX_PER_ASSESSMENT
    if len(notes) > limit:
        return f"取組状況が {len(notes)} 件あります。1項目に {limit} 件までです。"
    longest = ProgressNote._meta.get_field("text").max_length
    assert longest is not None  # a BoundedTextField
    for note in notes:
        if len(note) > longest:
            return (
                f"取組状況の1件が {len(note):,}文字あります。"
                f"1件 {longest:,}文字までです ({quote(note)})。"
            )
    return None
