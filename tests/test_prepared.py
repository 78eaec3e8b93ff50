"""A prepared query gives what its QuerySet gives, for any values, from SQL compiled once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from pledges import reading, stats
from pledges.models import Assessment, Report, SubItem
from pledges.prepared import PreparedQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_reports_for_module")]


@pytest.fixture
def reports(revised_2023) -> list[Report]:
    return list(Report.objects.order_by("as_of"))


def test_every_prepared_query_of_the_pages_gives_the_querysets_rows(reports):
    first, second = reports
    # A sub-item staff have changed: its row carries a time, which SQLite returns as text.
    changed = Assessment.objects.filter(sub_item__pledge__chapter__report=second).first()
    Assessment.objects.filter(pk=changed.pk).update(revision=1)
    some_ids = list(
        SubItem.objects.filter(pledge__chapter__report=second).values_list("pk", flat=True)[3:9]
    )
    calls = [
        (reading._ITEM_ROWS, {"reports": [first.pk, second.pk]}),
        (reading._ITEM_ROWS, {"reports": [second.pk], "chapter": 4}),
        (reading._ITEM_ROWS, {"reports": [first.pk, second.pk], "pledge": 2}),
        (reading._ITEM_ROWS, {"reports": [second.pk], "items": some_ids}),
        (reading._ITEM_ROWS_WITHOUT_NOTES, {"reports": [second.pk], "items": some_ids}),
        (reading._FOOTNOTES, {"reports": [first.pk, second.pk]}),
        (reading._SUB_ITEM_ROWS, {"reports": [first.pk, second.pk]}),
        (reading._KEYS_OF_PLEDGES, {"report": second.pk, "pledges": [4, 28, 99]}),
        (stats._TRANSITIONS, {"before": first.pk, "after": second.pk}),
        (stats._TRANSITIONS, {"before": second.pk, "after": first.pk}),
        (reading._NOTES_ADDED, {"before": first.pk, "after": second.pk}),
        (reading._NOTES_ADDED, {"before": second.pk, "after": first.pk}),
        (stats._COUNTS, {"reports": [first.pk, second.pk]}),
        (stats._CHAPTER_COUNTS, {"report": second.pk}),
        (stats._CHAPTER_COUNTS, {"report": first.pk, "number": 2}),
        (stats._STATED, {"report": first.pk}),
    ]
    for query, values in calls:
        expected = list(query.queryset(**values))
        assert expected, (query, values)  # each call reads something, or it proves little
        # Twice: once compiling, once from the kept SQL.
        assert query.rows(**values) == expected, values
        assert query.rows(**values) == expected, values
    # Converted as the ORM converts them, whatever the database returns.
    updated = [row[13] for row in reading._ITEM_ROWS.rows(reports=[second.pk])]
    assert any(isinstance(value, datetime) for value in updated)
    assert all(isinstance(row[2], Decimal) for row in stats._STATED.rows(report=first.pk))


def _counting(build):
    built = []

    def counted(**values):
        built.append(values)
        return build(**values)

    return counted, built


def test_the_sql_is_compiled_once_per_shape_and_each_call_brings_its_values(
    reports, django_assert_num_queries
):
    first, second = reports
    build, built = _counting(
        lambda report: SubItem.objects.filter(pledge__chapter__report=report)
        .order_by("pk").values_list("pk", flat=False)
    )
    query = PreparedQuery(build)
    with django_assert_num_queries(1):
        of_first = query.rows(report=first.pk)
    assert len(built) == 3  # once for its model, then compiled around two sets of stand-ins
    with django_assert_num_queries(1):
        of_second = query.rows(report=second.pk)
    assert len(built) == 3  # not built again
    assert of_first == list(query.queryset(report=first.pk))
    assert of_second == list(query.queryset(report=second.pk))
    assert set(of_first).isdisjoint(of_second)


def test_a_list_is_compiled_per_length_and_an_empty_list_reads_nothing(
    reports, django_assert_num_queries
):
    first, second = reports
    build, built = _counting(
        lambda reports: SubItem.objects.filter(pledge__chapter__report__in=reports)
        .values_list("pledge__chapter__report_id").distinct().order_by("pledge__chapter__report_id")
    )
    query = PreparedQuery(build)
    assert query.rows(reports=[first.pk]) == [(first.pk,)]
    assert query.rows(reports=[second.pk]) == [(second.pk,)]
    assert query.rows(reports=[first.pk, second.pk]) == [(first.pk,), (second.pk,)]
    assert len(built) == 5  # its model, then two lengths
    with django_assert_num_queries(0):
        assert query.rows(reports=[]) == []


def test_a_constant_of_the_query_equal_to_a_stand_in_stays_a_constant(reports):
    first, second = reports
    # 1 and 2 are also what the stand-ins are numbered from.
    query = PreparedQuery(
        lambda report: SubItem.objects.filter(
            pledge__chapter__report=report, position=1, pledge__number__gt=2
        ).order_by("pk").values_list("pk", "position")
    )
    for report in (first, second):
        rows = query.rows(report=report.pk)
        assert rows == list(query.queryset(report=report.pk))
        assert rows and all(position == 1 for _pk, position in rows)


def test_a_number_no_column_holds_matches_nothing_as_in_the_orm(report_2022):
    assert stats.chapter_summaries(report_2022, 10**20) == []
    assert stats.chapter_summaries(report_2022, 40_000) == []  # beyond a small integer


def test_a_long_list_goes_through_the_orm_and_a_short_one_is_padded(
    reports, django_assert_num_queries
):
    second = reports[-1]
    ids = list(SubItem.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 120
    build, built = _counting(reading._ITEM_ROWS.queryset)
    query = PreparedQuery(build)
    # 240 ids (each twice) and a report: more values than a prepared query takes.
    assert query.rows(reports=[second.pk], items=ids * 2) == list(
        query.queryset(reports=[second.pk], items=ids)
    )
    assert len(built) == 2  # the fallback's build and the comparison's: nothing compiled
    # 5, 7 and 8 ids are one shape (padded to 8 with the last id): compiled once.
    for count in (5, 7, 8):
        rows = query.rows(reports=[second.pk], items=ids[60 : 60 + count])
        assert rows == list(query.queryset(reports=[second.pk], items=ids[60 : 60 + count]))
        assert len({row[0] for row in rows}) == count
    assert len(built) == 2 + 1 + 2 + 3  # the model, the two compilations, the comparisons


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda report: SubItem.objects.filter(pledge__chapter__report=report), "values_list"),
        (lambda report: SubItem.objects.values_list("pk"), "not a parameter"),
        (lambda report: SubItem.objects.values_list("pk")[:report], "depends on its values"),
    ],
    ids=["model instances", "value unused", "value in the SQL"],
)
def test_a_query_that_cannot_be_prepared_says_why(report_2022, build, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        PreparedQuery(build).rows(report=report_2022.pk)
