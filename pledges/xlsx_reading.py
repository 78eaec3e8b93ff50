"""A bounded reader of uploaded .xlsx workbooks: every limit is checked before the work it bounds.

An .xlsx is a zip of XML parts. A small upload can expand to gigabytes (one 400 MB note compresses
to half a megabyte), and a sheet can claim millions of rows that all say they are row 3; a general
reader such as openpyxl reads all of it before anyone can say no. This module reads only what the
workbook import needs — the cell text of a few columns of named sheets — and refuses, with a
Japanese message naming the part, row or cell:

- a zip whose parts would expand past ``MAX_EXPANDED_BYTES`` in all (the sizes are checked in the
  zip's directory before anything is decompressed; Python's zipfile never inflates a part past
  its declared size, and a part that lies about it fails its CRC check);
- a row number that goes backwards or repeats, and a cell outside its row;
- a sheet with more rows than the caller allows (the table it expects, plus a margin);
- a cell longer than the caller's limit for its column.

XML is parsed with defusedxml (no DTDs, no entities) as a stream of SAX events: no tree is built,
so memory stays flat whatever the part holds, and parsing stops at the end of the sheet's data.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, feature_namespaces

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from openpyxl.utils import column_index_from_string

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A 10,000-sub-item export expands to about 9.5 MB (openpyxl with lxml writes each non-ASCII
# character as a reference like &#24066;); a real table of 60 sub-items to 0.1 MB.
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
MAX_PARTS = 1000
# How much of a refused value a message quotes.
QUOTE_LENGTH = 30

_OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class WorkbookError(Exception):
    """The workbook cannot be used; ``errors`` lists each problem, in Japanese, with its cell
    (``一覧!E14: …``)."""

    def __init__(self, errors: list[str] | tuple[str, ...]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def quote(value: str, length: int = QUOTE_LENGTH) -> str:
    """``value`` for a message: at most ``length`` characters, then how long it really was."""
    if len(value) <= length:
        return f"「{value}」"
    return f"「{value[:length]}…」({len(value):,}文字)"


@dataclass(frozen=True)
class Cell:
    text: str
    is_formula: bool = False


@dataclass(frozen=True)
class Row:
    number: int
    cells: Mapping[str, Cell]  # column letter → cell, only the columns asked for

    def text(self, column: str) -> str:
        cell = self.cells.get(column)
        return cell.text.strip() if cell is not None else ""

    def is_formula(self, column: str) -> bool:
        cell = self.cells.get(column)
        return cell is not None and cell.is_formula

    @property
    def empty(self) -> bool:
        return not any(cell.text.strip() for cell in self.cells.values())


WRONG_FORMAT = (
    "このファイルはExcelブック(.xlsx)として読めません。"
    "Excel または LibreOffice で「Excel ブック (.xlsx)」形式で保存し直してから"
    "アップロードしてください(.xls・.ods・.csv は受け付けません)。"
)


class BoundedWorkbook:
    """An uploaded workbook opened for reading within the limits above.

    ``sheet_names`` lists its sheets; ``rows(name, …)`` streams one sheet's rows. Raises
    ``WorkbookError`` from the constructor when the file is not an .xlsx or expands too far.
    """

    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_UPLOAD_BYTES:
            raise WorkbookError(
                [f"ファイルが大きすぎます({len(data) / 1024 / 1024:.1f} MB、上限 "
                 f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB)。"]
            )
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            members = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise WorkbookError([WRONG_FORMAT]) from None
        if len(members) > MAX_PARTS:
            raise WorkbookError(
                [f"ブックの部品が多すぎます({len(members):,}個、上限 {MAX_PARTS:,}個)。"]
            )
        expanded = sum(member.file_size for member in members)
        if expanded > MAX_EXPANDED_BYTES:
            raise WorkbookError(
                [f"ブックを展開すると {expanded / 1024 / 1024:,.0f} MB になり、上限の "
                 f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MB を超えます。"
                 "書き出したブックの取組状況と評価だけを編集してください。"]
            )
        self._names = {member.filename for member in members}
        self._sheets = self._read_sheet_paths()
        self._shared: list[str] | None = None

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    def rows(self, sheet: str, *, max_rows: int, limits: Mapping[str, int]) -> Iterator[Row]:
        """Rows of ``sheet`` that have cells in the columns of ``limits``, in order.

        ``limits`` maps a column letter to the longest text accepted there. More than
        ``max_rows`` rows (by number), a row number going backwards or repeating, a cell outside
        its row, a cell over its limit and a sheet of far more XML than such a table needs raise
        ``WorkbookError``.
        """
        handler = _SheetHandler(sheet, max_rows, limits, self._shared_strings())
        yield from _stream(self._zip, self._sheets[sheet], handler, handler.rows)

    def _read_sheet_paths(self) -> dict[str, str]:
        """Sheet name → zip path of its XML, from the workbook and its relationships."""
        workbook = _WorkbookHandler()
        for _ in _stream(self._zip, self._need("xl/workbook.xml"), workbook, []):
            pass
        relationships = _RelationshipsHandler()
        for _ in _stream(self._zip, self._need("xl/_rels/workbook.xml.rels"), relationships, []):
            pass
        paths = {}
        for name, relationship in workbook.sheets:
            target = relationships.targets.get(relationship, "")
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join("xl", target))
            if path in self._names:
                paths[name] = path
        return paths

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            handler = _SharedStringsHandler()
            if SHARED_STRINGS in self._names:
                for _ in _stream(self._zip, SHARED_STRINGS, handler, []):
                    pass
            self._shared = handler.strings
        return self._shared

    def _need(self, path: str) -> str:
        if path not in self._names:
            raise WorkbookError([WRONG_FORMAT])
        return path


SHARED_STRINGS = "xl/sharedStrings.xml"
# Elements a part may hold before it is refused, whatever its size in bytes: parsing costs per
# element. A 10,000-sub-item export has about 200,000 in its sheet, 90,000 in its strings.
MAX_ELEMENTS = 2_000_000
_CHUNK = 64 * 1024


class _Stop(Exception):
    """Raised by a handler when it has read all it needs (the end of sheetData)."""


def _stream(archive: zipfile.ZipFile, path: str, handler: _BoundedHandler, ready: list) -> Iterator:
    """Feed ``path`` to ``handler`` in chunks, yielding what it appends to ``ready`` as it goes."""
    parser = make_parser()
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        with archive.open(path) as source:
            while chunk := source.read(_CHUNK):
                parser.feed(chunk)
                yield from ready
                ready.clear()
            parser.close()
    except _Stop:
        pass
    except (DefusedXmlException, SAXException, zipfile.BadZipFile, OSError, EOFError,
            ValueError):
        raise WorkbookError([f"{path}: 部品が壊れています。{WRONG_FORMAT}"]) from None
    yield from ready
    ready.clear()


class _BoundedHandler(ContentHandler):
    """Counts elements and refuses a part that has too many."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.elements = 0

    def startElementNS(self, name: tuple[str | None, str], qname, attrs) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise WorkbookError(
                [f"{self.where}: 要素が多すぎます(上限 {MAX_ELEMENTS:,})。"
                 "書き出したブックの取組状況と評価だけを編集してください。"]
            )
        self.start(name[1], attrs)

    def start(self, local: str, attrs) -> None:
        pass


class _WorkbookHandler(_BoundedHandler):
    def __init__(self) -> None:
        super().__init__("xl/workbook.xml")
        self.sheets: list[tuple[str, str]] = []

    def start(self, local: str, attrs) -> None:
        if local == "sheet":
            self.sheets.append(
                (attrs.get((None, "name"), ""), attrs.get((_OFFICE_RELS, "id"), ""))
            )


class _RelationshipsHandler(_BoundedHandler):
    def __init__(self) -> None:
        super().__init__("xl/_rels/workbook.xml.rels")
        self.targets: dict[str, str] = {}

    def start(self, local: str, attrs) -> None:
        if local == "Relationship":
            self.targets[attrs.get((None, "Id"), "")] = attrs.get((None, "Target"), "")


class _TextCollector(_BoundedHandler):
    """Collects the text of string items (``si`` or ``is``): their ``t`` runs, skipping the
    phonetic guides (``rPh``) Japanese Excel adds."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.parts: list[str] | None = None  # inside a string item
        self.collecting = False
        self.phonetic = 0

    def begin_text(self) -> None:
        self.parts, self.phonetic = [], 0

    def text_start(self, local: str) -> None:
        if local == "rPh":
            self.phonetic += 1
        elif local == "t" and self.parts is not None and not self.phonetic:
            self.collecting = True

    def endElementNS(self, name: tuple[str | None, str], qname) -> None:
        local = name[1]
        if local == "t":
            self.collecting = False
        elif local == "rPh":
            self.phonetic -= 1
        self.end(local)

    def end(self, local: str) -> None:
        pass

    def characters(self, content: str) -> None:
        if self.collecting and self.parts is not None:
            self.parts.append(content)


class _SharedStringsHandler(_TextCollector):
    def __init__(self) -> None:
        super().__init__(SHARED_STRINGS)
        self.strings: list[str] = []

    def start(self, local: str, attrs) -> None:
        if local == "si":
            self.begin_text()
        else:
            self.text_start(local)

    def end(self, local: str) -> None:
        if local == "si" and self.parts is not None:
            self.strings.append("".join(self.parts))
            self.parts = None


class _SheetHandler(_TextCollector):
    def __init__(self, sheet: str, max_rows: int, limits: Mapping[str, int],
                 shared: list[str]) -> None:
        super().__init__(sheet)
        self.max_rows = max_rows
        self.limits = limits
        self.wanted = {column_index_from_string(column): column for column in limits}
        self.shared = shared
        self.rows: list[Row] = []
        self.number = 0  # the current row's
        self.cells: dict[str, Cell] = {}
        self.column: str | None = None  # the current cell's, when it is one we read
        self.position = 0
        self.kind = "n"
        self.value: list[str] | None = None
        self.formula = False
        self.length = 0

    def start(self, local: str, attrs) -> None:
        if local == "row":
            self.start_row(attrs.get((None, "r")))
        elif local == "c":
            self.start_cell(attrs.get((None, "r")), attrs.get((None, "t"), "n"))
        elif self.column is None:
            return
        elif local == "f":
            self.formula = True
        elif local == "v":
            self.value = []
        elif local == "is":
            self.begin_text()
        else:
            self.text_start(local)

    def start_row(self, raw: str | None) -> None:
        if raw is None:  # optional in the format: the row after the previous one
            number = self.number + 1
        elif raw.isdigit() and len(raw) <= 7:
            number = int(raw)
        else:
            raise WorkbookError([f"{self.where}: 行番号 {quote(raw)} が読めません。"])
        if number <= self.number:
            raise WorkbookError(
                [f"{self.where}: 行番号 {number} が {self.number} 行目の後に出てきます。"
                 "行の順序が壊れたファイルは読み込めません。"]
            )
        if number > self.max_rows:
            raise WorkbookError(
                [f"{self.where}!A{number}: 表が {self.max_rows} 行目より後まで続いています。"
                 "行を追加したファイルは読み込めません。"]
            )
        self.number, self.cells, self.position = number, {}, 0

    def start_cell(self, reference: str | None, kind: str) -> None:
        if reference is None:
            self.position += 1
        else:
            match = _CELL_REFERENCE.fullmatch(reference)
            if match is None or int(match[2]) != self.number:
                raise WorkbookError(
                    [f"{self.where}: {self.number} 行目に別の行のセル {quote(reference)} "
                     "があります。"]
                )
            self.position = column_index_from_string(match[1])
        self.column = self.wanted.get(self.position)
        if self.column in self.cells:
            raise WorkbookError(
                [f"{self.where}!{self.column}{self.number}: 同じセルが二度書かれています。"]
            )
        self.kind, self.value, self.formula, self.length = kind, None, False, 0
        self.parts = None

    def characters(self, content: str) -> None:
        if self.column is None:
            return
        if self.value is not None:
            self.value.append(content)
        elif self.collecting and self.parts is not None:
            self.parts.append(content)
        else:
            return
        # Refuse a huge inline value while it streams in, not after holding all of it.
        self.length += len(content)
        if self.length > self.limits[self.column] * 2 + 100:
            self.refuse_length("".join(self.value or self.parts or []), complete=False)

    def end(self, local: str) -> None:
        if local == "v" and self.value is not None:
            self.value = ["".join(self.value)]
        elif local == "c" and self.column is not None:
            text = self.cell_text()
            if len(text) > self.limits[self.column]:
                self.refuse_length(text, complete=True)
            self.cells[self.column] = Cell(text, self.formula)
            self.column = None
        elif local == "row":
            if self.cells:
                self.rows.append(Row(self.number, self.cells))
        elif local == "sheetData":
            raise _Stop

    def cell_text(self) -> str:
        if self.kind == "inlineStr":
            return _unescape("".join(self.parts or []))
        if self.value is None:
            return ""
        value = "".join(self.value)
        if self.kind == "s":
            if not value.isdigit() or int(value) >= len(self.shared):
                raise WorkbookError(
                    [f"{self.where}!{self.column}{self.number}: 共有文字列 {quote(value)} "
                     "がありません。"]
                )
            return _unescape(self.shared[int(value)])
        if self.kind in ("str", "e"):
            return _unescape(value)
        if self.kind == "b":
            return "TRUE" if value == "1" else "FALSE"
        return _number_text(value)

    def refuse_length(self, text: str, *, complete: bool) -> None:
        """Refuse the current cell; ``complete`` is False when it was cut off mid-stream, its
        full length unknown (and not worth reading to learn)."""
        limit = self.limits[self.column or ""]
        size = f"{len(text):,}文字あり、" if complete else ""
        shown = quote(text) if complete else f"「{text[:QUOTE_LENGTH]}…」"
        raise WorkbookError(
            [f"{self.where}!{self.column}{self.number}: {size}この列の上限 "
             f"{limit:,}文字を超えています ({shown})。"]
        )


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(value: str) -> str:
    """Decode OOXML's ``_xHHHH_`` escapes (how control characters and CRs are stored)."""
    if "_x" not in value:
        return value
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), value)


def _number_text(value: str) -> str:
    """A number as typed: ``1`` rather than ``1.0``."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return value
