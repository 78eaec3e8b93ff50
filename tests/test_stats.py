"""Statistics are recomputed in the database, overall and per chapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pledges import loading, stats
from pledges.models import Assessment, Chapter
from pledges.reading import read_reports
from pledges.testing import generated_table

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]


def test_overall_counts_and_percents_of_the_real_table(report_2022):
    summary = stats.report_summary(report_2022)
    assert summary.overall.total == 60
    assert [(f.code, f.label, f.count, f.percent) for f in summary.overall.ratings] == [
        ("A", "完了", 8, Decimal("13.33")),
        ("B", "実施中", 28, Decimal("46.67")),
        ("C", "着手", 24, Decimal("40.00")),
        ("D", "未着手", 0, Decimal("0.00")),
    ]


def test_per_chapter_counts_add_up_to_the_total(report_2022):
    summary = stats.report_summary(report_2022)
    assert [c.number for c in summary.chapters] == [1, 2, 3, 4, 5, 6]
    assert [c.breakdown.total for c in summary.chapters] == [8, 6, 6, 12, 14, 14]
    first = summary.chapters[0]
    assert first.title == "デジタル未来都市"
    assert [(f.code, f.count) for f in first.breakdown.ratings] == [
        ("A", 2),
        ("B", 3),
        ("C", 3),
        ("D", 0),
    ]
    for code in "ABCD":
        assert sum(
            c.breakdown.count_of(code) for c in summary.chapters
        ) == summary.overall.count_of(code)


def test_figures_follow_an_edit(report_2022):
    assessment = Assessment.objects.filter(
        sub_item__pledge__chapter__report=report_2022, rating="C"
    ).first()
    assessment.rating = "A"
    assessment.save()
    summary = stats.report_summary(report_2022)
    assert (summary.overall.count_of("A"), summary.overall.count_of("C")) == (9, 23)


def test_summary_is_one_query_whatever_the_size(django_assert_num_queries, report_2022):
    loading.load_table(generated_table(sub_items=2000), same_manifesto=True)
    with django_assert_num_queries(1):
        stats.report_summary(report_2022)


def test_a_chapters_figures_from_its_read_sub_items_are_the_databases(
    django_assert_num_queries, report_2022
):
    counted = {c.number: c for c in stats.chapter_summaries(report_2022)}
    for number, expected in counted.items():
        items = read_reports([report_2022], chapter=number)[
            report_2022.pk
        ].items
        with django_assert_num_queries(0):
            found = stats.chapter_breakdown(report_2022, number, items)
        assert found == expected
    # The real chapter 1: A 2, B 3, C 3 of 8.
    assert [(f.code, f.count) for f in counted[1].breakdown.ratings][:3] == [
        ("A", 2), ("B", 3), ("C", 3),
    ]


def test_a_chapter_without_sub_items_is_counted_in_the_database(report_2022):
    Chapter.objects.create(report=report_2022, number=7, title="空の章")
    empty = stats.chapter_breakdown(report_2022, 7, ())
    assert (empty.title, empty.breakdown.total) == ("空の章", 0)
    assert stats.chapter_breakdown(report_2022, 8, ()) is None
