"""Rating counts and percentages of a report, overall and per chapter, counted in the database.

Percent = count / number of sub-items × 100, rounded half-up to two decimals, as the city prints
it (8/60 → 13.33). Every rating appears, zero included. Figures are always recomputed from the
assessments, never copied from the totals the file states.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from .models import Chapter, Rating, Report, StatedTotal
from .table_format import percent_of


@dataclass(frozen=True)
class RatingFigure:
    code: str
    label: str
    count: int
    percent: Decimal

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": str(self.label),
            "count": self.count,
            "percent": f"{self.percent:.2f}",
        }


@dataclass(frozen=True)
class Breakdown:
    """How ``total`` sub-items split over the ratings (``unrated`` only occurs in drafts)."""

    total: int
    ratings: tuple[RatingFigure, ...]
    unrated: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, int], total: int) -> Breakdown:
        figures = tuple(
            RatingFigure(code, label, counts.get(code, 0), percent_of(counts.get(code, 0), total))
            for code, label in Rating.choices
        )
        return cls(total=total, ratings=figures, unrated=total - sum(f.count for f in figures))

    def count_of(self, code: str) -> int:
        return next(figure.count for figure in self.ratings if figure.code == code)

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
            **self.overall.as_dict(),
            "chapters": [chapter.as_dict() for chapter in self.chapters],
        }


def rating_count_annotations(path: str) -> dict[str, Count]:
    """``Count`` expressions for the sub-items below ``path`` (the lookup to ``Assessment``).

    Gives ``total`` and one ``rating_<code>`` per rating; e.g. from Chapter the path is
    ``pledges__sub_items__assessment``.
    """
    annotations = {"total": Count(path, distinct=True)}
    for code in Rating.values:
        annotations[f"rating_{code}"] = Count(
            path, filter=Q(**{f"{path}__rating": code}), distinct=True
        )
    return annotations


def counts_from(row) -> dict[str, int]:
    """The ``rating_<code>`` annotations of ``row`` (an object or a dict) as {code: count}."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return {code: get(f"rating_{code}") for code in Rating.values}


def chapters_with_counts(report: Report) -> QuerySet[Chapter]:
    """The report's chapters in order, each annotated with ``total`` and ``rating_<code>``."""
    return (
        Chapter.objects.filter(report=report)
        .annotate(**rating_count_annotations("pledges__sub_items__assessment"))
        .order_by("number")
    )


def report_summary(report: Report) -> ReportSummary:
    """Overall and per-chapter figures of ``report`` in one query."""
    chapters = [
        ChapterBreakdown(
            number=chapter.number,
            title=chapter.title,
            breakdown=Breakdown.from_counts(counts_from(chapter), chapter.total),
        )
        for chapter in chapters_with_counts(report)
    ]
    overall_counts = {
        code: sum(chapter.breakdown.count_of(code) for chapter in chapters)
        for code in Rating.values
    }
    overall_total = sum(chapter.breakdown.total for chapter in chapters)
    return ReportSummary(
        report=report,
        overall=Breakdown.from_counts(overall_counts, overall_total),
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
    """The report's StatedTotal rows beside the recomputed overall figures, in A–D order; one query.

    Empty when the file stated no totals. Staff edits after the import are the usual cause of a
    difference (the importer refuses files whose totals do not add up).
    """
    figures = {figure.code: figure for figure in summary.overall.ratings}
    return [
        StatedComparison(
            code=stated.rating,
            label=figures[stated.rating].label,
            stated_count=stated.count,
            stated_percent=stated.percent,
            count=figures[stated.rating].count,
            percent=figures[stated.rating].percent,
        )
        for stated in StatedTotal.objects.filter(report=summary.report).order_by("rating")
        if stated.rating in figures
    ]
