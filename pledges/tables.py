"""The /items/ table: one row per sub-item, sortable by chapter, pledge, sub-item and rating.

django-tables2 keeps the columns, sorting and pagination (the database sorts the sub-items' ids,
``SortedIds`` reads them once for the count and the page). The header and rows are written in
Python from its columns (``header_html``, ``body_html``): the rows shown are ``reading.Item``s
(the read model every page uses), each row one ``format_html`` of its ``cell_<column>``s instead
of a template per cell (about 1 ms a row).
"""

from __future__ import annotations

import copy
from itertools import chain
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlencode

import django_tables2 as tables
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

from . import search
from .fragments import badge, format_html, format_html_join
from .models import Report
from .reading import Item, path_around_number, read_reports

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SortedIds(TableQuerysetData):
    """A table's QuerySet, sorted by the database as django-tables2 orders it, read as the
    list of its ids in one query: the count and the page are taken from that list.

    Instead of a ``COUNT`` query and a page query, each of which costs more to build than to
    run; the list is a few kilobytes even for a report of thousands of sub-items.
    """

    @cached_property
    def ids(self) -> list[int]:
        return list(self.data.values_list("pk", flat=True))

    def order_by(self, aliases) -> None:
        super().order_by(aliases)
        self.__dict__.pop("ids", None)  # read again, in the new order

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, key):
        return self.ids[key]

    def __iter__(self):
        return iter(self.ids)


def _link_fragment(name: str, month: str) -> str:
    """The link to a numbered page (a chapter's or pledge's) of report ``month`` as a
    ``format_html`` fragment with a ``{}`` for the number: escaped, braces doubled."""
    prefix, suffix = (
        escape(part).replace("{", "{{").replace("}", "}}")
        for part in path_around_number(name)
    )
    return f"{prefix}{{}}{suffix}?report={escape(month)}"


class Column(tables.Column):
    """A column of ``SubItemTable``. Each table deep-copies its class's columns so that what it
    changes (``columns.hide``) stays its own; these hold only settings no table changes, so a
    shallow copy keeps that promise at a third of the cost (about 0.1 ms a page)."""

    def __deepcopy__(self, memo: dict) -> Column:
        return copy.copy(self)


def _labelled(label: StrOrPromise) -> dict:
    # data-label lets the phone layout print the column name beside each stacked cell.
    return {"td": {"data-label": label}}


class SubItemTable(tables.Table):
    """The data is a QuerySet of one report's sub-items (their ids are enough): the database
    sorts and pages it, and ``body_html`` reads the page's rows as ``reading.Item``s with
    their notes (for the keyword excerpts) in one query."""

    chapter = Column(
        verbose_name=_("章"), accessor="pledge__chapter__number",
        order_by=("pledge__chapter__number", "pledge__number", "position"),
        attrs=_labelled(_("章")),
    )
    pledge = Column(
        verbose_name=_("公約"), accessor="pledge__number", order_by=("pledge__number", "position"),
        attrs=_labelled(_("公約")),
    )
    sub_item = Column(
        verbose_name=_("項目"), accessor="title", order_by=("title", "pledge__number"),
        attrs=_labelled(_("項目")),
    )
    rating = Column(
        verbose_name=_("評価"), accessor="assessment__rating",
        order_by=("assessment__rating", "pledge__number", "position"), attrs=_labelled(_("評価")),
    )

    # Shown only for a keyword search (``before_render``).
    match = Column(
        verbose_name=_("一致した箇所"), empty_values=(), orderable=False,
        attrs=_labelled(_("一致した箇所")),
    )

    class Meta:
        template_name = "pledges/includes/items_table.html"
        attrs: ClassVar[dict] = {"class": "items-table"}
        empty_text = _("条件に合う項目はありません。")

    def __init__(self, *args: object, report: Report, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        self.keywords: list[str] = []
        # What every row's links share, written into the cells' fragments once.
        self._chapter_link = _link_fragment("pledges:chapter", report.month)
        self._pledge_link = _link_fragment("pledges:pledge", report.month)
        # A page shows a few ratings many times: each badge once a table, without asking
        # ``badge`` (the language, then its cache) for every row.
        self._badges: dict[str, SafeString] = {}

    # Each column's cell: ``fragments[<column>]``, a ``format_html`` fragment the same in every
    # row (made once a table), and ``cell_<column>(item)``, its arguments for one row.

    @cached_property
    def fragments(self) -> dict[str, str]:
        chapter, pledge = self._chapter_link, self._pledge_link
        return {
            "chapter": f'<a href="{chapter}">{{}}</a>',
            "pledge": f'<a href="{pledge}">{{}} {{}}</a>',
            "sub_item": f'<a href="{pledge}#{{}}">{{}}</a>',
            "rating": "{}",
            "match": "{}",
        }

    def cell_chapter(self, item: Item) -> tuple[object, ...]:
        return item.chapter, item.chapter_label

    def cell_pledge(self, item: Item) -> tuple[object, ...]:
        return item.pledge, item.pledge, item.pledge_title

    def cell_sub_item(self, item: Item) -> tuple[object, ...]:
        return item.pledge, item.anchor, item.item_label

    def cell_rating(self, item: Item) -> tuple[object, ...]:
        shown = self._badges.get(item.rating)
        if shown is None:
            shown = self._badges[item.rating] = badge(item.level)
        return (shown,)

    def cell_match(self, item: Item) -> tuple[object, ...]:
        return (format_html_join(
            "", '<p class="match"><span class="match__field">{}</span> {}</p>',
            matched_texts(item, self.keywords),
        ),)

    def order_rating(self, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        """Sorting by rating follows the scale, best first (``-rating``: worst first), not the
        codes' order: ◎○△ sort as △, ○, ◎ by code, 5–1 levels the wrong way round."""
        scale = self.report.scale
        rank = Case(
            *(When(assessment__rating=level.code, then=Value(level.rank)) for level in scale),
            default=Value(len(scale)),  # unrated last
            output_field=IntegerField(),
        )
        if is_descending:  # the ascending order reversed, as for the other columns
            return queryset.order_by(rank.desc(), "-pledge__number", "-position"), True
        return queryset.order_by(rank.asc(), "pledge__number", "position"), True

    def header_html(self) -> SafeString:
        """The header's cells: each column's name, as a link that sorts by it (the same query
        with ``sort`` replaced, as django-tables2's ``querystring_replace`` writes it), marked
        with ``aria-sort`` when the rows are sorted by it."""
        query = dict(self.request.GET)
        sorts = _("で並べ替え")
        cells = []
        for column in self.columns:
            header: object = column.header
            if column.orderable:
                query[self.prefixed_order_by_field] = [column.order_by_alias.next]
                header = format_html(
                    '<a href="?{}">{}<span class="visually-hidden">{}</span></a>',
                    urlencode(query, doseq=True), header, sorts,
                )
            ordered = (
                format_html(' aria-sort="{}"', "descending"
                            if column.order_by_alias.is_descending else "ascending")
                if column.is_ordered else ""
            )
            cells.append(format_html(
                '<th scope="col" {}{}>{}</th>', column.attrs["th"].as_html(), ordered, header,
            ))
        return SafeString("\n".join(cells))

    def body_html(self) -> SafeString:
        """The page's rows, one ``format_html`` a row from the ``cell_<column>``s; a row
        saying so when nothing matches.

        Replaces django-tables2's per-cell machinery (a signature inspection, an attribute
        dictionary and a template loop for each cell); sorting and pagination stay
        django-tables2's. The page's sub-items are read as ``reading.Item``s in one query.
        """
        # The page's ids (``SortedIds``), without a BoundRow each.
        ids = list(self.paginated_rows.data)
        if not ids:
            return format_html(
                '<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text
            )
        # The notes only for a keyword search, whose excerpts quote them.
        data = read_reports(
            [self.report], items=ids, footnotes=False, notes=bool(self.keywords)
        )[self.report.pk]
        by_id = {item.sub_item_id: item for item in data.items}
        cells = [getattr(self, f"cell_{column.name}") for column in self.columns]
        items = [by_id[id] for id in ids]
        row = "".join(
            # The attributes are HTML already; braces doubled for str.format.
            f'<td {column.attrs["td"].as_html().replace("{", "{{").replace("}", "}}")}>'
            f"{self.fragments[column.name]}</td>"
            for column in self.columns
        )
        template = f'<tr id="row-{{}}-{{}}" class="{{}}">{row}</tr>'
        return format_html_join("\n", template, (
            (item.pledge, item.position, "odd" if index % 2 else "even",
             *chain.from_iterable(cell(item) for cell in cells))
            for index, item in enumerate(items)
        ))

    def before_render(self, request) -> None:
        self.keywords = search.keywords(request.GET.get("q", ""))
        if self.keywords:
            self.columns.show("match")
        else:
            self.columns.hide("match")


MAX_MATCHES_SHOWN = 3


def matched_texts(item: Item, keywords: list[str]) -> list[tuple[StrOrPromise, SafeString]]:
    """(what, excerpt with the keywords marked) of the texts of ``item`` that contain a
    keyword — the texts ``filters.keyword_match`` searches — at most ``MAX_MATCHES_SHOWN``."""
    # The notes first: the title is in the row already, and the notes are what a search for
    # what was done is after.
    texts = [
        *((_("取組状況"), note) for note in item.notes),
        (_("内容"), item.content),
        (_("公約"), f"【{item.pledge_field}】{item.pledge_title}"),
        (_("項目名"), item.title),
    ]
    found: list[tuple[StrOrPromise, SafeString]] = []
    for label, text in texts:
        if (marked := search.excerpt(text, keywords)) is not None:
            found.append((label, marked))
    return found[:MAX_MATCHES_SHOWN]
