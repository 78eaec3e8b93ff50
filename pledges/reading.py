"""A report as one immutable shape, read in a fixed number of queries.

Every page, export and comparison reads sub-items through here, as ``Item``: the one shape of a
sub-item outside the models, with its code (``4①``), anchor and level computed once. The tree
(chapters → pledges → items) is built from the items in Python.

``read_reports`` reads several reports at once in the same two queries — sub-items joined to
their pledge, chapter, assessment, footnote marker and notes (a row per note); the footnotes —
whatever their number and size; ``read_report`` is that for one report, optionally narrowed to
one chapter, one pledge or chosen sub-items. The queries here are ``PreparedQuery``s: written
with the ORM, compiled once, run with each call's values (``prepared``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache, partial
from itertools import groupby
from typing import NamedTuple

from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, QuerySet, TextField, Value, When
from django.urls import get_script_prefix, get_urlconf, reverse

from .models import Footnote, ProgressNote, Report, SubItem
from .prepared import PreparedQuery
from .ratings import Level, Scale
from .table_format import circled_number, month_label

# (chapter number, pledge number, position): how a sub-item is recognised in another report.
Key = tuple[int, int, int]


def item_anchor(pledge: int, position: int) -> str:
    """The id of a sub-item on its chapter and pledge pages."""
    return f"item-{pledge}-{position}"


def page_path(name: str, *args: object, **kwargs: object) -> str:
    """``reverse(name, args=args, kwargs=kwargs)``, once per URL name, arguments, configuration
    and script prefix: every page's header, footer and links ask for the same few paths, and
    a ``reverse`` costs 20–30 µs."""
    return _reversed(
        name, args, tuple(sorted(kwargs.items())), get_script_prefix(),
        get_urlconf() or settings.ROOT_URLCONF,
    )


@lru_cache(maxsize=1024)
def _reversed(
    name: str, args: tuple, kwargs: tuple, script_prefix: str, urlconf: str
) -> str:
    return reverse(name, urlconf=urlconf, args=args, kwargs=dict(kwargs))


def numbered_paths(name: str) -> Callable[[int], str]:
    """``number → page_path(name, number)`` for the pages of chapters or pledges by number:
    the path is reversed once around a placeholder, then each number is formatted into it — a
    page of a large report links hundreds of pledges."""
    prefix, suffix = path_around_number(name)
    return lambda number: f"{prefix}{number}{suffix}"


def path_around_number(name: str) -> tuple[str, str]:
    """(before, after) the number in ``page_path(name, number)``."""
    prefix, _placeholder, suffix = page_path(name, _PLACEHOLDER).rpartition(str(_PLACEHOLDER))
    return prefix, suffix


# A number no URL holds elsewhere: its reversed path is cut around it.
_PLACEHOLDER = 9_876_543_210


def item_url(month: str, pledge: int, position: int) -> str:
    """The sub-item on its pledge page in report ``month``."""
    return item_url_in(numbered_paths("pledges:pledge"), month, pledge, position)


def item_url_in(pledge_paths: Callable[[int], str], month: str, pledge: int,
                position: int) -> str:
    """``item_url`` with the pledges' ``numbered_paths``, for a page that links many."""
    return f"{pledge_paths(pledge)}?report={month}#{item_anchor(pledge, position)}"


@dataclass(frozen=True, kw_only=True)
class SubItemState:
    """Where one sub-item of one report is, its title and its rating: what a comparison of
    reports needs (``sub_item_state``); ``Item`` is the sub-item with everything else."""

    report_id: int
    month: str
    sub_item_id: int
    chapter: int
    pledge: int
    position: int
    title: str
    rating: str  # a code of ``scale``, or "" while a draft leaves it open
    scale: Scale = field(compare=False, repr=False)

    @property
    def key(self) -> Key:
        return (self.chapter, self.pledge, self.position)

    @property
    def month_label(self) -> str:
        """``令和4年3月``: its report's month, when data as published was last changed."""
        year, month = self.month.split("-")
        return month_label(date(int(year), int(month), 1))

    @property
    def marker(self) -> str:
        """①, ②, …"""
        return circled_number(self.position)

    @property
    def code(self) -> str:
        """``4①``: how the city refers to a sub-item."""
        return f"{self.pledge}{self.marker}"

    @property
    def anchor(self) -> str:
        return item_anchor(self.pledge, self.position)

    @property
    def url(self) -> str:
        return item_url(self.month, self.pledge, self.position)

    @property
    def level(self) -> Level | None:
        return self.scale.level(self.rating)

    @property
    def rating_text(self) -> str:
        """``A 完了``, or "" when unrated."""
        return self.scale.text(self.rating)

    @property
    def chapter_code(self) -> str:
        return f"第{self.chapter}章"

    @property
    def item_label(self) -> str:
        """``①title``."""
        return self.marker + self.title


@dataclass(frozen=True, kw_only=True)
class Item(SubItemState):
    """One sub-item of one report, with its chapter, pledge, rating and notes, as plain values."""

    chapter_title: str
    pledge_field: str
    pledge_title: str
    content: str
    notes: tuple[str, ...]
    notes_bulleted: bool
    footnote: str  # its marker (※1), or ""
    footnote_id: int | None
    # When staff last changed its rating, footnote or notes; None while they are as the city
    # published them (a fresh import or copy, revision 0), whatever day they were loaded.
    updated: datetime | None

    @property
    def chapter_label(self) -> str:
        return f"{self.chapter_code} {self.chapter_title}"

    @property
    def pledge_label(self) -> str:
        """``【分野】title``."""
        return f"【{self.pledge_field}】{self.pledge_title}"


@dataclass(frozen=True)
class FootnoteText:
    """A ※N note under the table."""

    id: int
    marker: str
    text: str


@dataclass(frozen=True)
class Pledge:
    number: int
    field: str
    title: str
    chapter: int
    chapter_title: str
    items: tuple[Item, ...]

    @property
    def label(self) -> str:
        return f"【{self.field}】{self.title}"


@dataclass(frozen=True)
class Chapter:
    number: int
    title: str
    pledges: tuple[Pledge, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for pledge in self.pledges for item in pledge.items)


@dataclass(frozen=True)
class ReportData:
    """What a report holds: its items in table order and its footnotes, and the tree of both.

    Narrowed reads (one chapter or pledge) hold only those items; the footnotes are always all.
    """

    report: Report
    items: tuple[Item, ...]
    footnotes: tuple[FootnoteText, ...]

    @cached_property
    def chapters(self) -> tuple[Chapter, ...]:
        chapters = []
        for number, chapter_items in groupby(self.items, key=lambda item: item.chapter):
            items = list(chapter_items)
            pledges = tuple(
                Pledge(number=pledge, field=first.pledge_field, title=first.pledge_title,
                       chapter=number, chapter_title=first.chapter_title,
                       items=(first, *rest))
                for pledge, (first, *rest) in groupby(items, key=lambda item: item.pledge)
            )
            chapters.append(Chapter(number, items[0].chapter_title, pledges))
        return tuple(chapters)

    @property
    def pledges(self) -> tuple[Pledge, ...]:
        return tuple(pledge for chapter in self.chapters for pledge in chapter.pledges)

    def chapter(self, number: int) -> Chapter | None:
        return next((chapter for chapter in self.chapters if chapter.number == number), None)

    def pledge(self, number: int) -> Pledge | None:
        return next((pledge for pledge in self.pledges if pledge.number == number), None)

    @cached_property
    def by_key(self) -> dict[Key, Item]:
        return {item.key: item for item in self.items}


def read_report(report: Report, *, chapter: int | None = None, pledge: int | None = None,
                items: Iterable[int] | None = None) -> ReportData:
    """``report``, or only its chapter ``chapter``, pledge ``pledge`` or the sub-items with the
    ids ``items``, with its footnotes: two queries."""
    return read_reports([report], chapter=chapter, pledge=pledge, items=items)[report.pk]


def read_reports(
    reports: Sequence[Report], *, chapter: int | None = None, pledge: int | None = None,
    items: Iterable[int] | None = None, footnotes: bool = True, notes: bool = True,
) -> dict[int, ReportData]:
    """{report id: ReportData} for ``reports`` (narrowed to chapter ``chapter``, pledge
    ``pledge`` or the sub-items with the ids ``items``, as ``read_report``): one query for the
    sub-items with their notes (a row per note), one for the footnotes unless
    ``footnotes=False`` — whatever the number and size of the reports. ``notes=False``, for a
    page that shows no notes, reads a row per sub-item and leaves each ``Item.notes`` empty."""
    by_id = {report.pk: report for report in reports}
    narrowed: dict[str, int | list[int]] = {"reports": list(by_id)}
    if chapter is not None:
        narrowed["chapter"] = chapter
    if pledge is not None:
        narrowed["pledge"] = pledge
    if items is not None:
        narrowed["items"] = list(items)
    rows = (_ITEM_ROWS if notes else _ITEM_ROWS_WITHOUT_NOTES).rows(**narrowed)
    items_by_report: dict[int, list[Item]] = defaultdict(list)
    # A report's month and scale once, not once per sub-item (each is computed on access).
    months = {pk: report.month for pk, report in by_id.items()}
    scales = {pk: report.scale for pk, report in by_id.items()}
    for _pk, group in groupby(rows, key=lambda row: row[0]):
        first, *others = group
        (pk, report_id, chapter, chapter_title, pledge, pledge_field, pledge_title, position,
         title, content, rating, footnote_id, marker, updated, bulleted,
         note) = first
        item_notes = [note, *(row[-1] for row in others)] if note is not None else []
        items_by_report[report_id].append(
            Item(
                report_id=report_id,
                month=months[report_id],
                sub_item_id=pk,
                chapter=chapter,
                chapter_title=chapter_title,
                pledge=pledge,
                pledge_field=pledge_field,
                pledge_title=pledge_title,
                position=position,
                title=title,
                content=content,
                rating=rating or "",
                notes=tuple(item_notes),
                notes_bulleted=bulleted is not False,  # True for a sub-item without assessment
                footnote=marker or "",
                footnote_id=footnote_id,
                updated=updated,
                scale=scales[report_id],
            )
        )
    texts: dict[int, list[FootnoteText]] = defaultdict(list)
    if footnotes:
        for footnote_id, report_id, marker, text in _FOOTNOTES.rows(reports=list(by_id)):
            texts[report_id].append(FootnoteText(footnote_id, marker, text))
    return {
        report.pk: ReportData(report, tuple(items_by_report[report.pk]), tuple(texts[report.pk]))
        for report in reports
    }


def _item_rows(
    reports: list[int], chapter: int | None = None, pledge: int | None = None,
    items: list[int] | None = None, *, notes: bool = True,
) -> QuerySet[SubItem, tuple]:
    sub_items = SubItem.objects.filter(pledge__chapter__report__in=reports)
    if chapter is not None:
        sub_items = sub_items.filter(pledge__chapter__number=chapter)
    if pledge is not None:
        sub_items = sub_items.filter(pledge__number=pledge)
    if items is not None:
        sub_items = sub_items.filter(pk__in=items)
    in_order = ("pledge__chapter__report_id", "pledge__chapter__number", "pledge__number",
                "position")
    return sub_items.order_by(
        *in_order, *(("assessment__notes__position", "assessment__notes__id") if notes else ())
    ).values_list(
        "pk", "pledge__chapter__report_id", "pledge__chapter__number", "pledge__chapter__title",
        "pledge__number", "pledge__field", "pledge__title", "position", "title", "content",
        "assessment__rating", "assessment__footnote_id", "assessment__footnote__marker",
        # Only a sub-item staff have changed has a day to show; the others' timestamps
        # would be parsed for nothing, once per note row.
        Case(When(assessment__revision__gt=0, then=F("assessment__updated_at"))),
        "assessment__notes_bulleted",
        "assessment__notes__text" if notes else Value(None, output_field=TextField()),
    )


_ITEM_ROWS = PreparedQuery(_item_rows)
_ITEM_ROWS_WITHOUT_NOTES = PreparedQuery(partial(_item_rows, notes=False))
_FOOTNOTES = PreparedQuery(
    lambda reports: Footnote.objects.filter(report__in=reports)
    .order_by("report_id", "number")
    .values_list("pk", "report_id", "marker", "text")
)


def existing_keys(report: Report, keys: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of ``keys`` — (pledge number, position), as footnotes name sub-items — are
    sub-items of ``report``: one query."""
    wanted = set(keys)
    if not wanted:
        return set()
    pledges = sorted({pledge for pledge, _position in wanted})
    return wanted & set(_KEYS_OF_PLEDGES.rows(report=report.pk, pledges=pledges))


_KEYS_OF_PLEDGES = PreparedQuery(
    lambda report, pledges: SubItem.objects.filter(
        pledge__chapter__report=report, pledge__number__in=pledges
    ).values_list("pledge__number", "position")
)


class SubItemRow(NamedTuple):
    """What a comparison reads of one sub-item first (``sub_item_rows``): enough to tell
    whether it changed; ``sub_item_state`` makes it the SubItemState it stands for."""

    sub_item_id: int
    title: str
    rating: str  # "" while a draft leaves it open


def sub_item_rows(reports: Sequence[Report]) -> dict[int, dict[Key, SubItemRow]]:
    """{report id: {key: row}} for every sub-item of ``reports``: one query of a row per
    sub-item (no text but the title, no notes), whatever their number."""
    rows: dict[int, dict[Key, SubItemRow]] = {report.pk: {} for report in reports}
    for pk, report_id, chapter, pledge, position, title, rating in _SUB_ITEM_ROWS.rows(
        reports=list(rows)
    ):
        rows[report_id][chapter, pledge, position] = SubItemRow(pk, title, rating or "")
    return rows


def sub_item_state(report: Report, key: Key, row: SubItemRow) -> SubItemState:
    """The sub-item ``key`` of ``report`` read as ``row``."""
    chapter, pledge, position = key
    return SubItemState(
        report_id=report.pk, month=report.month, sub_item_id=row.sub_item_id, chapter=chapter,
        pledge=pledge, position=position, title=row.title, rating=row.rating,
        scale=report.scale,
    )


_SUB_ITEM_ROWS = PreparedQuery(
    lambda reports: SubItem.objects.filter(pledge__chapter__report__in=reports)
    .order_by("pledge__chapter__report_id", "pledge__chapter__number", "pledge__number",
              "position")
    .values_list("pk", "pledge__chapter__report_id", "pledge__chapter__number",
                 "pledge__number", "position", "title", "assessment__rating")
)


def notes_added(before: Report, after: Report) -> dict[int, tuple[str, ...]]:
    """{sub-item id in ``after``: its notes whose exact text the sub-item of the same key in
    ``before`` lacks (all its notes when ``before`` has no such sub-item)}, in their order.

    One query: the database compares the notes, so a comparison does not read the notes both
    reports have — most of them, year after year.
    """
    added: dict[int, list[str]] = defaultdict(list)
    for sub_item_id, text in _NOTES_ADDED.rows(before=before.pk, after=after.pk):
        added[sub_item_id].append(text)
    return {sub_item_id: tuple(notes) for sub_item_id, notes in added.items()}


def _notes_added(before: int, after: int) -> QuerySet[ProgressNote, tuple]:
    of = "assessment__sub_item__"
    in_before = ProgressNote.objects.filter(
        assessment__sub_item__pledge__chapter__report=before,
        assessment__sub_item__pledge__chapter__number=OuterRef(f"{of}pledge__chapter__number"),
        assessment__sub_item__pledge__number=OuterRef(f"{of}pledge__number"),
        assessment__sub_item__position=OuterRef(f"{of}position"),
        text=OuterRef("text"),
    )
    return (
        ProgressNote.objects.filter(assessment__sub_item__pledge__chapter__report=after)
        .exclude(Exists(in_before))
        .order_by(f"{of}id", "position", "id")
        .values_list(f"{of}id", "text")
    )


_NOTES_ADDED = PreparedQuery(_notes_added)
