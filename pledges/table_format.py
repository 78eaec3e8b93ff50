"""The city's published progress table (市長公約 進捗状況一覧表) as tab-separated text.

Pure: text in, frozen dataclasses out (``parse_table``), and back (``write_table``). Nothing here
knows about Django, so the format's rules are tested with plain strings.

The format, as the city publishes it every March::

    市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】      title, with the as-of month
    - A 完了                                            legend: the rating levels, best first
    第1章 デジタル未来都市                               chapter, numbered 1, 2, …
    1:【デジタル】デジタル未来都市推進部門の設置 …       pledge, numbered 1, 2, … across chapters
    内容 <TAB> 取組状況 <TAB> 評価                        column header (may start with a tab)
    ①title <TAB> pledge text <TAB> notes <TAB> rating    sub-item, ①②… within its pledge
    ※1：footnote text                                   footnotes, under the table
    <TAB> 評価 <TAB> 公約数                               the city's own totals
    13.33% <TAB> A 完了 <TAB> 8                           one row per level

The legend defines the table's rating scale (``ratings.Scale``): Iruma's A 完了 … D 未着手, or
any other city's levels (``- ◎ 達成済``, five numbered levels …). Rating cells and the totals must
use exactly its levels, each code with its own label.

Cells are stripped of surrounding white space and trailing empty cells are ignored; blank lines
mean nothing. Anything else is a ``ParseError`` naming the line, the value and what was expected.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .ratings import IRUMA, Scale

HEADER_CELLS = ("内容", "取組状況", "評価")
TOTALS_HEADER_CELLS = ("評価", "公約数")
NOTE_BULLET = "・"
FOOTNOTE_SEPARATOR = "："

# Circled numbers as the city numbers sub-items: ①–⑳, then ㉑–㉟ and ㊱–㊿.
CIRCLED_NUMBERS = (
    [chr(c) for c in range(0x2460, 0x2474)]
    + [chr(c) for c in range(0x3251, 0x3260)]
    + [chr(c) for c in range(0x32B1, 0x32C0)]
)
_CIRCLED_POSITION = {char: index for index, char in enumerate(CIRCLED_NUMBERS, start=1)}

ERAS = {"令和": 2018, "平成": 1988}
# A level's code is a letter, a symbol or a short number (A, ◎, 5); the database holds 8.
MAX_LEVEL_CODE_LENGTH = 8

_TITLE_MONTH = re.compile(r"【(?P<era>令和|平成)(?P<year>元|\d{1,2})年(?P<month>\d{1,2})月現在】")
# Chapter and pledge numbers and counts are bounded in length: Python refuses to turn more than
# 4,300 digits into an int, and no real table needs more than a few.
_CHAPTER = re.compile(r"^第(?P<number>\d{1,6})章[ \u3000]*(?P<title>.*)$")
_PLEDGE = re.compile(
    r"^(?P<number>\d{1,6})[:：][ \u3000]*【(?P<field>[^】]+)】[ \u3000]*(?P<title>.*)$"
)
_LEGEND = re.compile(r"^[-‐－・][ \u3000]*(?P<code>\S+)[ \u3000]+(?P<label>\S+)$")
_FOOTNOTE_MARKER = re.compile(r"※\d+")
_FOOTNOTE = re.compile(r"^(?P<marker>※\d+)[：:][ \u3000]*(?P<text>.*)$")
_RATING = re.compile(r"^(?P<code>\S+)[ \u3000]+(?P<label>\S+)$")
_PERCENT = re.compile(r"^(?P<value>\d{1,3}(?:\.\d+)?)[%％]$")
_COUNT = re.compile(r"^\d{1,9}$")
# A note starts at a bullet that opens the field or follows white space; a bullet inside a
# phrase (自治体DX・行政改革) is part of the note's text.
_NOTE_SPLIT = re.compile(r"\s+(?=・)")


# How much of an offending value an error message quotes: enough to find it in the file, while a
# 20 MB cell still makes a one-line message.
QUOTED_VALUE_LENGTH = 40


def quoted(value: str) -> str:
    """``value`` in quotes, or its first characters, ``…`` and its length when it is long."""
    if len(value) <= QUOTED_VALUE_LENGTH:
        return repr(value)
    return f"{value[:QUOTED_VALUE_LENGTH]!r}… ({len(value):,} characters)"


class ParseError(ValueError):
    """The text is not a progress table; says where, what was found and what was expected.

    ``value`` keeps the whole offending text; messages quote only its start (``quoted``).
    """

    def __init__(self, line: int, message: str, *, value: str | None = None) -> None:
        self.line = line
        self.message = message
        self.value = value
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"line {self.line}: {self.detail}"

    @property
    def detail(self) -> str:
        """The message with the offending value, without the line."""
        if self.value is None:
            return self.message
        return f"{self.message} (found {quoted(self.value)})"

    def located(self, source: str) -> str:
        """``FILE:LINE: message``, the way compilers report errors."""
        return f"{source}:{self.line}: {self.detail}"


@dataclass(frozen=True)
class SubItemEntry:
    """One row ①②…: what was promised, what was done, and the rating."""

    position: int
    title: str
    content: str
    notes: tuple[str, ...]
    rating: str
    footnote: str | None = None
    # False only for a single note the city published without a leading ・.
    notes_bulleted: bool = True
    line: int = field(default=0, compare=False)

    @property
    def marker(self) -> str:
        return circled_number(self.position)


@dataclass(frozen=True)
class PledgeEntry:
    number: int
    field: str
    title: str
    sub_items: tuple[SubItemEntry, ...]
    line: int = dataclasses.field(default=0, compare=False)  # ``field`` is the pledge's, above


@dataclass(frozen=True)
class ChapterEntry:
    number: int
    title: str
    pledges: tuple[PledgeEntry, ...]
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FootnoteEntry:
    marker: str
    text: str
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class TotalEntry:
    """One row of the totals the city states under the table (count and percent)."""

    rating: str
    count: int
    percent: Decimal
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Table:
    title: str
    as_of: date
    chapters: tuple[ChapterEntry, ...]
    footnotes: tuple[FootnoteEntry, ...]
    stated_totals: tuple[TotalEntry, ...]
    line: int = field(default=0, compare=False)  # of the title
    scale: Scale = IRUMA  # the levels its ratings use, best first (from its legend)
    legend_line: int = field(default=0, compare=False)

    @property
    def pledges(self) -> list[PledgeEntry]:
        return [pledge for chapter in self.chapters for pledge in chapter.pledges]

    @property
    def sub_items(self) -> list[SubItemEntry]:
        return [item for pledge in self.pledges for item in pledge.sub_items]

    def rating_counts(self) -> dict[str, int]:
        """Sub-items per level, every level present (zero included), in the scale's order."""
        counted = Counter(item.rating for item in self.sub_items)
        return {code: counted.get(code, 0) for code in self.scale.codes}


# --------------------------------------------------------------------------------------------
# Small shared rules


def circled_number(position: int) -> str:
    """① for 1 … ㊿ for 50."""
    if not 1 <= position <= len(CIRCLED_NUMBERS):
        raise ValueError(f"no circled number for {position}")
    return CIRCLED_NUMBERS[position - 1]


def percent_of(count: int, total: int) -> Decimal:
    """count / total × 100, rounded half-up to two decimals, as the city prints it."""
    if total == 0:
        return Decimal("0.00")
    return (Decimal(count) * 100 / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def month_label(as_of: date) -> str:
    """令和4年3月 for 2022-03 (令和元年5月 for 2019-05, 平成31年4月 for 2019-04)."""
    era = "令和" if as_of >= date(2019, 5, 1) else "平成"
    year = as_of.year - ERAS[era]
    return f"{era}{'元' if year == 1 else year}年{as_of.month}月"


def split_notes(cell: str) -> tuple[tuple[str, ...], bool]:
    """The progress notes of a 取組状況 cell and whether they were bulleted.

    ``・a ・b`` is two notes; ``(自治体DX・行政改革)`` stays inside its note; a cell that does not
    open with ・ is one note; an empty cell is no note.
    """
    cell = cell.strip()
    if not cell:
        return (), True
    if not cell.startswith(NOTE_BULLET):
        return (cell,), False
    notes = tuple(part[len(NOTE_BULLET) :].strip() for part in _NOTE_SPLIT.split(cell))
    return tuple(note for note in notes if note), True


def join_notes(notes: tuple[str, ...] | list[str], bulleted: bool = True) -> str:
    """The 取組状況 cell for these notes; the inverse of ``split_notes``."""
    if len(notes) == 1 and not bulleted:
        return notes[0]
    return " ".join(NOTE_BULLET + note for note in notes)


def notes_cell(notes: Sequence[str], bulleted: bool = True) -> str:
    """The 取組状況 cell of a workbook: one note per line, each with its ・ unless the city
    printed none. (In the text table the notes share one line: ``join_notes``.)"""
    prefix = NOTE_BULLET if bulleted else ""
    return "\n".join(prefix + note for note in notes)


def parse_notes_cell(text: str) -> tuple[tuple[str, ...], bool]:
    """(notes, bulleted) of a 取組状況 cell; the inverse of ``notes_cell``.

    One note per non-blank line; a leading ・ is the bullet, not text. Lines without any ・ are
    unbulleted notes (as the city printed a few); a line added without ・ among bulleted ones is
    taken as one more bulleted note.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return (), True
    bulleted = any(line.startswith(NOTE_BULLET) for line in lines)
    if not bulleted:
        return tuple(lines), False
    return tuple(line.removeprefix(NOTE_BULLET).strip() for line in lines), True


def rating_cell(text: str, footnote: str | None = None) -> str:
    """``A 完了`` (a level's text), or ``※1 C 着手`` with a footnote marker, as printed in the
    評価 column."""
    return f"{footnote} {text}" if footnote else text


# --------------------------------------------------------------------------------------------
# Parsing


def decode(data: bytes) -> str:
    """UTF-8 text without BOM; a ParseError naming the line of the first undecodable byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        raise ParseError(line, f"not UTF-8 text: byte 0x{byte} cannot be decoded") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ParseError(line, "not a text file: contains a NUL byte")
    return text.removeprefix("\ufeff")


def parse_bytes(data: bytes) -> Table:
    return parse_table(decode(data))


def parse_table(text: str) -> Table:
    """Parse the whole table or raise ParseError; never returns a partial table."""
    return _Parser(text).parse()


def _cells(line: str) -> list[str]:
    cells = [cell.strip() for cell in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


class _Parser:
    def __init__(self, text: str) -> None:
        self.scale = IRUMA  # until the legend is read
        self.legend_line = 0
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        self.lines = text.split("\n")
        self.position = 0  # index into self.lines of the next line to read

    # -- line reading ------------------------------------------------------------------------

    def _next(self) -> tuple[int, list[str]] | None:
        """The next non-blank line as (line number, cells), or None at the end."""
        while self.position < len(self.lines):
            self.position += 1
            cells = _cells(self.lines[self.position - 1])
            if cells:
                return self.position, cells
        return None

    def _peek(self) -> tuple[int, list[str]] | None:
        saved = self.position
        try:
            return self._next()
        finally:
            self.position = saved

    # -- the table ---------------------------------------------------------------------------

    def parse(self) -> Table:
        first = self._next()
        if first is None:
            raise ParseError(1, "empty file: expected the title line with 【令和N年M月現在】")
        title, as_of = self._title(*first)
        self._legend()
        chapters = self._chapters()
        footnotes = self._footnotes()
        totals = self._totals()
        trailing = self._next()
        if trailing is not None:
            number, cells = trailing
            raise ParseError(
                number, "unexpected line after the totals table", value="\t".join(cells)
            )
        table = Table(
            title, as_of, chapters, footnotes, totals, line=first[0], scale=self.scale,
            legend_line=self.legend_line,
        )
        _check_footnotes(table)
        _check_totals(table)
        return table

    def _title(self, number: int, cells: list[str]) -> tuple[str, date]:
        title = " ".join(cells)
        match = _TITLE_MONTH.search(title)
        if len(cells) != 1 or not match:
            raise ParseError(
                number,
                "expected the title line with the as-of month 【令和N年M月現在】",
                value=title,
            )
        year = 1 if match["year"] == "元" else int(match["year"])
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ParseError(number, "month in the title is not 1–12", value=match.group(0))
        return title, date(ERAS[match["era"]] + year, month, 1)

    def _legend(self) -> None:
        """The ``- A 完了`` lines under the title: the scale of every rating below, best first."""
        pairs: list[tuple[str, str]] = []
        while (peeked := self._peek()) is not None:
            number, cells = peeked
            match = _LEGEND.match(cells[0]) if len(cells) == 1 else None
            if not match:
                break
            self._next()
            code, label = match["code"], match["label"]
            if len(code) > MAX_LEVEL_CODE_LENGTH:
                raise ParseError(
                    number, f"a level's code has at most {MAX_LEVEL_CODE_LENGTH} characters",
                    value=code,
                )
            if any(code == known or label == known_label for known, known_label in pairs):
                raise ParseError(number, "the legend lists a code or label twice", value=cells[0])
            pairs.append((code, label))
            self.legend_line = self.legend_line or number
        if len(pairs) < 2:
            found = self._peek()
            raise ParseError(
                found[0] if found else len(self.lines),
                "expected the legend under the title: the rating levels, best first, one per "
                "line like '- A 完了' (at least two)",
                value="\t".join(found[1]) if found else None,
            )
        self.scale = Scale.of(pairs)

    def _chapters(self) -> tuple[ChapterEntry, ...]:
        chapters: list[ChapterEntry] = []
        next_pledge = 1
        while (peeked := self._peek()) is not None:
            number, cells = peeked
            match = _CHAPTER.match(cells[0])
            if not match:
                break
            self._next()
            self._single_cell(number, cells, "chapter line")
            expected = len(chapters) + 1
            if int(match["number"]) != expected:
                raise ParseError(
                    number, f"chapter out of order: expected 第{expected}章", value=cells[0]
                )
            if not match["title"]:
                raise ParseError(number, "chapter has no title", value=cells[0])
            pledges = self._pledges(next_pledge)
            if not pledges:
                raise self._unexpected(
                    f"expected pledge {next_pledge} ('{next_pledge}:【分野】title') "
                    f"after 第{expected}章"
                )
            next_pledge += len(pledges)
            chapters.append(ChapterEntry(expected, match["title"], tuple(pledges), line=number))
        if not chapters:
            found = self._peek()
            line, cells = found if found else (len(self.lines), [""])
            raise ParseError(
                line, "expected the first chapter line '第1章 …'", value="\t".join(cells)
            )
        return tuple(chapters)

    def _pledges(self, next_number: int) -> list[PledgeEntry]:
        pledges: list[PledgeEntry] = []
        while (peeked := self._peek()) is not None:
            number, cells = peeked
            match = _PLEDGE.match(cells[0])
            if not match:
                if _CIRCLED_POSITION.get(cells[0][:1]) or _is_header(cells):
                    raise ParseError(
                        number, "sub-item before any pledge line 'N:【分野】title'", value=cells[0]
                    )
                break
            self._next()
            self._single_cell(number, cells, "pledge line")
            expected = next_number + len(pledges)
            if int(match["number"]) != expected:
                raise ParseError(
                    number, f"pledge out of order: expected pledge {expected}", value=cells[0]
                )
            if not match["title"]:
                raise ParseError(number, "pledge has no title", value=cells[0])
            sub_items = self._sub_items(expected)
            if not sub_items:
                raise self._unexpected(f"expected sub-item ① of pledge {expected}")
            pledges.append(
                PledgeEntry(expected, match["field"], match["title"], tuple(sub_items), line=number)
            )
        return pledges

    def _sub_items(self, pledge: int) -> list[SubItemEntry]:
        items: list[SubItemEntry] = []
        while (peeked := self._peek()) is not None:
            number, cells = peeked
            if _is_header(cells):
                if items:
                    raise ParseError(
                        number,
                        "column header after the sub-items of a pledge",
                        value="\t".join(cells),
                    )
                self._next()
                continue
            position = _CIRCLED_POSITION.get(cells[0][:1])
            if position is None:
                break
            self._next()
            expected = len(items) + 1
            if position != expected:
                raise ParseError(
                    number,
                    f"sub-item out of order in pledge {pledge}: expected "
                    f"{circled_number(expected)}",
                    value=cells[0],
                )
            items.append(self._sub_item(number, cells, position))
        return items

    def _sub_item(self, number: int, cells: list[str], position: int) -> SubItemEntry:
        if len(cells) < 4:
            missing = ["title", "内容 (pledge text)", "取組状況 (notes)", "評価 (rating)"][
                len(cells)
            ]
            raise ParseError(
                number,
                f"sub-item row has {len(cells)} of 4 fields: {missing} is missing",
                value="\t".join(cells),
            )
        if len(cells) > 4:
            raise ParseError(
                number,
                "sub-item row has more than 4 fields (title, 内容, 取組状況, 評価)",
                value=cells[4],
            )
        title_cell, content, notes_cell, rating = cells
        title = title_cell[1:].strip()
        if not title:
            raise ParseError(number, "sub-item has no title", value=title_cell)
        if not content:
            raise ParseError(number, "sub-item has no pledge text (内容)", value="\t".join(cells))
        markers = _FOOTNOTE_MARKER.findall(rating)
        if len(markers) > 1:
            raise ParseError(number, "more than one footnote marker on a rating", value=rating)
        rating_text = _FOOTNOTE_MARKER.sub(" ", rating).strip()
        code = self._rating(number, rating_text, what="rating")
        notes, bulleted = split_notes(notes_cell)
        return SubItemEntry(
            position=position,
            title=title,
            content=content,
            notes=notes,
            rating=code,
            footnote=markers[0] if markers else None,
            notes_bulleted=bulleted,
            line=number,
        )

    def _rating(self, number: int, text: str, *, what: str) -> str:
        """The code of a rating cell like ``C 着手``; the label must be the code's own."""
        match = _RATING.match(text)
        level = self.scale.level(match["code"]) if match else None
        if match is None or level is None:
            raise ParseError(
                number, f"{what} is not one of {self.scale.legend(', ')}", value=text
            )
        if match["label"] != level.label:
            raise ParseError(
                number,
                f"{what} label does not match its letter: expected '{level.text}'",
                value=text,
            )
        return level.code

    def _footnotes(self) -> tuple[FootnoteEntry, ...]:
        footnotes: list[FootnoteEntry] = []
        while (peeked := self._peek()) is not None:
            number, cells = peeked
            match = _FOOTNOTE.match(cells[0])
            if not match:
                break
            self._next()
            self._single_cell(number, cells, "footnote")
            if not match["text"]:
                raise ParseError(number, "footnote has no text", value=cells[0])
            if any(existing.marker == match["marker"] for existing in footnotes):
                raise ParseError(number, "footnote marker used twice", value=match["marker"])
            footnotes.append(FootnoteEntry(match["marker"], match["text"], line=number))
        return tuple(footnotes)

    def _totals(self) -> tuple[TotalEntry, ...]:
        peeked = self._next()
        if peeked is None:
            raise ParseError(len(self.lines), "file ends before the totals table (評価 / 公約数)")
        number, cells = peeked
        if tuple(cell for cell in cells if cell) != TOTALS_HEADER_CELLS:
            raise ParseError(
                number,
                "expected a chapter, pledge, sub-item, footnote or the totals header "
                "'評価 <TAB> 公約数'",
                value="\t".join(cells),
            )
        totals: list[TotalEntry] = []
        while (peeked := self._peek()) is not None and len(totals) < len(self.scale):
            number, cells = peeked
            self._next()
            if len(cells) != 3:
                raise ParseError(
                    number,
                    "totals row needs 3 fields: percent, rating, count",
                    value="\t".join(cells),
                )
            percent, rating, count = cells
            code = self._rating(number, rating, what="totals rating")
            if any(total.rating == code for total in totals):
                raise ParseError(number, "rating listed twice in the totals", value=rating)
            percent_match = _PERCENT.match(percent)
            if not percent_match:
                raise ParseError(number, "percent must look like 13.33%", value=percent)
            if not _COUNT.match(count):
                raise ParseError(number, "count must be a whole number", value=count)
            totals.append(
                TotalEntry(code, int(count), Decimal(percent_match["value"]), line=number)
            )
        if len(totals) < len(self.scale):
            missing = [code for code in self.scale.codes if code not in {t.rating for t in totals}]
            raise ParseError(
                len(self.lines), f"totals table is missing rating(s) {', '.join(missing)}"
            )
        return tuple(totals)

    def _unexpected(self, expectation: str) -> ParseError:
        """An error at the next non-blank line (or the end of the file)."""
        found = self._peek()
        if found is None:
            return ParseError(len(self.lines), f"file ends early: {expectation}")
        number, cells = found
        return ParseError(number, expectation, value="\t".join(cells))

    @staticmethod
    def _single_cell(number: int, cells: list[str], what: str) -> None:
        if len(cells) > 1:
            raise ParseError(number, f"{what} must be a single field", value="\t".join(cells))


def _is_header(cells: list[str]) -> bool:
    return tuple(cell for cell in cells if cell) == HEADER_CELLS


def _check_footnotes(table: Table) -> None:
    defined = {footnote.marker for footnote in table.footnotes}
    for item in table.sub_items:
        if item.footnote and item.footnote not in defined:
            raise ParseError(
                item.line,
                f"footnote marker {item.footnote} has no footnote text under the table",
                value=item.footnote,
            )


def _check_totals(table: Table) -> None:
    """The totals the city states must be the ratings counted in the file."""
    counted = table.rating_counts()
    total = sum(counted.values())
    for stated in table.stated_totals:
        label = table.scale.text(stated.rating)
        if stated.count != counted[stated.rating]:
            raise ParseError(
                stated.line,
                f"stated total for {label} is {stated.count} but the table has "
                f"{counted[stated.rating]} sub-items rated {stated.rating}",
                value=str(stated.count),
            )
        expected = percent_of(counted[stated.rating], total)
        if stated.percent.quantize(Decimal("0.01"), ROUND_HALF_UP) != expected:
            raise ParseError(
                stated.line,
                f"stated percent for {label} is {stated.percent}% but "
                f"{counted[stated.rating]}/{total} is {expected}%",
                value=f"{stated.percent}%",
            )


# --------------------------------------------------------------------------------------------
# Writing


def write_table(table: Table) -> str:
    """The table as the city's text format; ``parse_table(write_table(t)) == t``."""
    lines = [table.title, ""]
    lines += [f"- {level.text}" for level in table.scale]
    lines.append("")
    for chapter in table.chapters:
        lines.append(f"第{chapter.number}章 {chapter.title}")
        for pledge in chapter.pledges:
            lines.append(f"{pledge.number}:【{pledge.field}】{pledge.title}")
            lines.append("\t".join(HEADER_CELLS))
            for item in pledge.sub_items:
                lines.append(
                    "\t".join(
                        [
                            item.marker + item.title,
                            item.content,
                            join_notes(item.notes, item.notes_bulleted),
                            rating_cell(table.scale.text(item.rating), item.footnote),
                        ]
                    )
                )
    lines.append("")
    for footnote in table.footnotes:
        lines.append(f"{footnote.marker}{FOOTNOTE_SEPARATOR}{footnote.text}")
    lines.append("")
    lines.append("\t" + "\t".join(TOTALS_HEADER_CELLS))
    for total in table.stated_totals:
        lines.append(f"{total.percent:.2f}%\t{table.scale.text(total.rating)}\t{total.count}")
    return "\n".join(lines) + "\n"
