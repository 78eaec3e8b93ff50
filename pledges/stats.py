"""Rating counts and percentages of a report, overall and per chapter, counted in the database.

Percent = count / number of sub-items × 100, rounded half-up to two decimals, as the city prints
it (8/60 → 13.33). Every rating appears, zero included. Figures are always recomputed from the
assessments, never copied from the totals the file states.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Assessment, Chapter, Report, StatedTotal, SubItem
from .prepared import PreparedQuery
from .ratings import Level, Scale
from .table_format import percent_of

if TYPE_CHECKING:
    from .reading import Item


@dataclass(frozen=True)
class RatingFigure:
    level: Level
    count: int
    percent: Decimal

    @property
    def code(self) -> str:
        return self.level.code

    @property
    def label(self) -> str:
        return self.level.label

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "count": self.count,
            "percent": f"{self.percent:.2f}",
        }


@dataclass(frozen=True)
class Breakdown:
    """How ``total`` sub-items split over the levels of a scale, every level shown (zero
    included), best first (``unrated`` only occurs in drafts)."""

    total: int
    ratings: tuple[RatingFigure, ...]
    unrated: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, int], total: int, scale: Scale) -> Breakdown:
        figures = tuple(
            RatingFigure(level, counts.get(level.code, 0),
                         percent_of(counts.get(level.code, 0), total))
            for level in scale
        )
        return cls(total=total, ratings=figures, unrated=total - sum(f.count for f in figures))

    @property
    def completed(self) -> int:
        """Sub-items at the scale's best level (完了)."""
        return self.ratings[0].count if self.ratings else 0

    def count_of(self, code: str) -> int:
        """Sub-items rated ``code``; 0 for a code not on this scale."""
        return next((figure.count for figure in self.ratings if figure.code == code), 0)

    def as_dict(self) -> dict:
        return {"total": self.total, "ratings": [figure.as_dict() for figure in self.ratings]}


@dataclass(frozen=True)
class ChapterBreakdown:
    number: int
    title: str
    breakdown: Breakdown

    def as_dict(self) -> dict:
        return {"number": self.number, "title": self.title, **self.breakdown.as_dict()}


@dataclass(frozen=True)
class ReportSummary:
    report: Report
    overall: Breakdown
    chapters: tuple[ChapterBreakdown, ...]

    def as_dict(self) -> dict:
        return {
            "report": self.report.month,
            "manifesto": self.report.manifesto.as_dict(),
            **self.overall.as_dict(),
            "chapters": [chapter.as_dict() for chapter in self.chapters],
        }


def counts_by_report(reports: Sequence[Report]) -> dict[int, dict[str, int]]:
    """{report id: {rating: sub-items}} for ``reports`` in one grouped query; unrated sub-items
    count under "". Scale-free: every code found is counted."""
    counts: dict[int, dict[str, int]] = {report.pk: {} for report in reports}
    for report_id, rating, count in _COUNTS.rows(reports=list(counts)):
        counts[report_id][rating] = count
    return counts


_COUNTS = PreparedQuery(
    lambda reports: Assessment.objects.filter(sub_item__pledge__chapter__report__in=reports)
    .values_list("sub_item__pledge__chapter__report_id", "rating")
    .annotate(count=Count("pk"))
    .order_by()
)


def rating_transitions(before: Report, after: Report) -> dict[tuple[str, str], int]:
    """{(rating in ``before``, rating in ``after``): sub-items} for the sub-items of ``after``
    that ``before`` has too (the same chapter, pledge and position), counted in one grouped
    query; unrated is ""."""
    return {
        (earlier, later): count
        for earlier, later, count in _TRANSITIONS.rows(before=before.pk, after=after.pk)
        if earlier is not None  # None: no such sub-item before
    }


def _transitions(before: int, after: int) -> QuerySet[SubItem, tuple]:
    earlier = SubItem.objects.filter(
        pledge__chapter__report=before,
        pledge__chapter__number=OuterRef("pledge__chapter__number"),
        pledge__number=OuterRef("pledge__number"),
        position=OuterRef("position"),
    ).values(rating=Coalesce("assessment__rating", Value("")))[:1]
    return (
        SubItem.objects.filter(pledge__chapter__report=after)
        .annotate(earlier=Subquery(earlier), later=Coalesce("assessment__rating", Value("")))
        .values_list("earlier", "later")
        .annotate(count=Count("pk"))
        .order_by()
    )


_TRANSITIONS = PreparedQuery(_transitions)


def chapter_summaries(report: Report, number: int | None = None) -> list[ChapterBreakdown]:
    """The report's chapters in order (or only chapter ``number``) with their figures, in one
    grouped query: a row per chapter and rating, counting assessments (a chapter without
    sub-items has one row and counts nothing). Scale-free like ``counts_by_report``: a code not
    on the scale counts in the total only."""
    chosen = {"report": report.pk} if number is None else {"report": report.pk, "number": number}
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for chapter_number, title, rating, count in _CHAPTER_COUNTS.rows(**chosen):
        counts.setdefault((chapter_number, title), {})[rating or ""] = count
    scale = report.scale
    return [
        ChapterBreakdown(
            number=chapter_number,
            title=title,
            breakdown=Breakdown.from_counts(by_rating, sum(by_rating.values()), scale),
        )
        for (chapter_number, title), by_rating in counts.items()
    ]


def _chapter_counts(report: int, number: int | None = None) -> QuerySet[Chapter, tuple]:
    chapters = Chapter.objects.filter(report=report)
    if number is not None:
        chapters = chapters.filter(number=number)
    return (
        chapters.values_list("number", "title", "pledges__sub_items__assessment__rating")
        .annotate(count=Count("pledges__sub_items__assessment"))
        .order_by("number")
    )


_CHAPTER_COUNTS = PreparedQuery(_chapter_counts)


def chapter_breakdown(
    report: Report, number: int, items: Sequence[Item]
) -> ChapterBreakdown | None:
    """Chapter ``number`` of published ``report`` with its figures, counted from ``items``: its
    sub-items, as the page showing them has read them. Every sub-item of a published report
    has its assessment (``editing.publish``), so they count as ``chapter_summaries`` counts;
    its query is left for a chapter without sub-items. None when there is no such chapter."""
    if not items:
        found = chapter_summaries(report, number)
        return found[0] if found else None
    counts = Counter(item.rating for item in items)
    return ChapterBreakdown(
        number=number,
        title=items[0].chapter_title,
        breakdown=Breakdown.from_counts(counts, len(items), report.scale),
    )


def report_summary(report: Report) -> ReportSummary:
    """Overall and per-chapter figures of ``report`` in one query."""
    scale = report.scale
    chapters = chapter_summaries(report)
    overall_counts = {
        code: sum(chapter.breakdown.count_of(code) for chapter in chapters)
        for code in scale.codes
    }
    overall_total = sum(chapter.breakdown.total for chapter in chapters)
    return ReportSummary(
        report=report,
        overall=Breakdown.from_counts(overall_counts, overall_total, scale),
        chapters=tuple(chapters),
    )


@dataclass(frozen=True)
class StatedComparison:
    """What the file printed for one rating next to what the data counts now."""

    code: str
    label: str
    stated_count: int
    stated_percent: Decimal
    count: int
    percent: Decimal

    @property
    def differs(self) -> bool:
        return self.stated_count != self.count or self.stated_percent != self.percent


def compare_stated_totals(summary: ReportSummary) -> list[StatedComparison]:
    """The report's StatedTotal rows beside the recomputed overall figures, in the scale's order;
    one query.

    Empty when the file stated no totals. Staff edits after the import are the usual cause of a
    difference (the importer refuses files whose totals do not add up).
    """
    stated = {rating: (count, percent) for rating, count, percent in _STATED.rows(
        report=summary.report.pk
    )}
    return [
        StatedComparison(
            code=figure.code,
            label=figure.label,
            stated_count=stated[figure.code][0],
            stated_percent=stated[figure.code][1],
            count=figure.count,
            percent=figure.percent,
        )
        for figure in summary.overall.ratings
        if figure.code in stated
    ]


_STATED = PreparedQuery(
    lambda report: StatedTotal.objects.filter(report=report).values_list(
        "rating", "count", "percent"
    )
)
