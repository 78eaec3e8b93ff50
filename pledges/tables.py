"""The /items/ table: one row per sub-item, sortable by chapter, pledge, sub-item and rating."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import django_tables2 as tables
from django.db.models import Q
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from . import search
from .models import SubItem
from .reading import Item, read_reports

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

RATING_BADGE = '{% include "pledges/includes/rating_badge.html" with level=record.level %}'


def _labelled(label: StrOrPromise) -> dict:
    # data-label lets the phone layout print the column name beside each stacked cell.
    return {"td": {"data-label": label}}


class SubItemTable(tables.Table):
    """Expects ``pledge__chapter__report`` and ``assessment`` selected (no per-row query)."""

    chapter = tables.Column(
        verbose_name=_("章"), accessor="pledge__chapter__number",
        order_by=("pledge__chapter__number", "pledge__number", "position"),
        attrs=_labelled(_("章")), linkify=lambda record: record.pledge.chapter.get_absolute_url(),
    )
    pledge = tables.Column(
        verbose_name=_("公約"), accessor="pledge__number",
        order_by=("pledge__number", "position"), attrs=_labelled(_("公約")),
        linkify=lambda record: record.pledge.get_absolute_url(),
    )
    sub_item = tables.Column(
        verbose_name=_("項目"), accessor="title", order_by=("title", "pledge__number"),
        attrs=_labelled(_("項目")), linkify=lambda record: record.get_absolute_url(),
    )
    rating = tables.TemplateColumn(
        RATING_BADGE, verbose_name=_("評価"), accessor="assessment__rating",
        order_by=("assessment__rating", "pledge__number", "position"), attrs=_labelled(_("評価")),
    )

    # Shown only for a keyword search (``before_render``).
    match = tables.Column(
        verbose_name=_("一致した箇所"), empty_values=(), orderable=False,
        attrs=_labelled(_("一致した箇所")),
    )

    class Meta:
        template_name = "pledges/includes/items_table.html"
        attrs: ClassVar[dict] = {"class": "items-table"}
        empty_text = _("条件に合う項目はありません。")
        row_attrs: ClassVar[dict] = {
            "id": lambda record: f"row-{record.pledge.number}-{record.position}"
        }

    def render_chapter(self, record: SubItem) -> str:
        chapter = record.pledge.chapter
        return f"第{chapter.number}章 {chapter.title}"

    def render_pledge(self, record: SubItem) -> str:
        return f"{record.pledge.number} {record.pledge.title}"

    def render_sub_item(self, record: SubItem) -> str:
        return f"{record.marker}{record.title}"

    def before_render(self, request) -> None:
        self.keywords = search.keywords(request.GET.get("q", ""))
        if not self.keywords:
            self.columns.hide("match")
            return
        self.columns.show("match")
        page = getattr(self, "page", None)
        records = [row.record for row in (page.object_list if page else self.rows)]
        if not records:
            self.shown = {}
            return
        report = records[0].pledge.chapter.report
        # The page's sub-items with their notes: one query, whatever the page's size.
        data = read_reports([report], Q(pk__in=[record.pk for record in records]),
                            footnotes=False)[report.pk]
        self.shown = {item.sub_item_id: item for item in data.items}

    def render_match(self, record: SubItem) -> SafeString:
        item = self.shown.get(record.pk)
        return format_html_join(
            "", '<p class="match"><span class="match__field">{}</span> {}</p>',
            matched_texts(item, self.keywords) if item else (),
        )


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
