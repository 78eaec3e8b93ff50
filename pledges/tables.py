"""The /items/ table: one row per sub-item, sortable by chapter, pledge, sub-item and rating."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import SubItem

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
