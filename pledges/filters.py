"""Filters of the /items/ table: ``?chapter=1``, ``?rating=C`` and ``?q=keyword``."""

from __future__ import annotations

import re
from functools import reduce
from operator import and_
from typing import Any, ClassVar

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Chapter, ProgressNote, Report, SubItem

# Keywords are separated by ASCII or ideographic (全角) spaces.
_KEYWORD_SEPARATOR = re.compile(r"[\s\u3000]+")


def keyword_match(term: str) -> Q:
    """Sub-items whose title, pledge text, pledge title or any progress note contains ``term``."""
    in_notes = Exists(
        ProgressNote.objects.filter(assessment__sub_item=OuterRef("pk"), text__icontains=term)
    )
    return (
        Q(title__icontains=term)
        | Q(content__icontains=term)
        | Q(pledge__title__icontains=term)
        | Q(pledge__field__icontains=term)
        | Q(in_notes)
    )


MAX_KEYWORD_LENGTH = 200
MAX_KEYWORDS = 8


class SubItemFilter(django_filters.FilterSet):
    """Filters one report's sub-items; ``report`` gives the chapter choices (one query)."""

    chapter = django_filters.ChoiceFilter(
        field_name="pledge__chapter__number", label=_("章"), empty_label=_("すべての章")
    )
    rating = django_filters.ChoiceFilter(
        field_name="assessment__rating", label=_("評価"),
        empty_label=_("すべての評価"),
    )
    q = django_filters.CharFilter(
        method="filter_keywords", label=_("キーワード"), max_length=MAX_KEYWORD_LENGTH,
        help_text=_("項目名・内容・公約名・取組状況から探します。空白で区切るとすべてを含むものに絞ります。"),
    )

    class Meta:
        model = SubItem
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The report's own levels, each with its code: "A 完了", as the badges show it.
        self.filters["rating"].extra["choices"] = [
            (level.code, level.text) for level in report.scale
        ]
        self.filters["chapter"].extra["choices"] = [
            (str(number), _("第%(number)s章 %(title)s") % {"number": number, "title": title})
            for number, title in Chapter.objects.filter(report=report)
            .order_by("number")
            .values_list("number", "title")
        ]

    def filter_keywords(self, queryset: QuerySet[SubItem], name: str, value: str) -> QuerySet:
        # Each word costs a subquery: a bounded number keeps a crafted URL cheap.
        terms = [term for term in _KEYWORD_SEPARATOR.split(value) if term][:MAX_KEYWORDS]
        if not terms:
            return queryset
        return queryset.filter(reduce(and_, (keyword_match(term) for term in terms)))
