"""Filters of the /items/ table: ``?chapter=1``, ``?rating=C`` and ``?q=keyword``."""

from __future__ import annotations

from functools import reduce
from operator import and_
from typing import Any, ClassVar

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.lookups import Contains
from django.utils.translation import gettext_lazy as _

from .models import Chapter, ProgressNote, Report, SubItem
from .search import Fold, folded, kana_of, keywords


def keyword_match(term: str) -> Q:
    """Sub-items whose title, pledge text, pledge title or any progress note contains ``term``,
    compared as ``search.fold`` folds them (ＤＸ = dx, でじたる = デジタル)."""
    term_folded, kana = folded(term), kana_of(term)

    def contains(field: str) -> Contains:
        return Contains(Fold(field, kana=kana), term_folded)

    in_notes = Exists(
        ProgressNote.objects.filter(assessment__sub_item=OuterRef("pk")).filter(contains("text"))
    )
    return (
        Q(contains("title"))
        | Q(contains("content"))
        | Q(contains("pledge__title"))
        | Q(contains("pledge__field"))
        | Q(in_notes)
    )


MAX_KEYWORD_LENGTH = 200


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
        help_text=_(
            "項目名・内容・公約名・取組状況から探します。空白で区切るとすべてを含むものに絞ります。"
            "全角・半角、大文字・小文字、ひらがな・カタカナは区別しません。"
        ),
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
        terms = keywords(value)
        if not terms:
            return queryset
        return queryset.filter(reduce(and_, (keyword_match(term) for term in terms)))
