"""Reports over time with histories each test builds: one report, reports imported out of order,
three reports of 2,000 sub-items; and the pure parts (movements, chart geometry)."""

from __future__ import annotations

from datetime import date

import pytest

from pledges import changes, loading
from pledges.models import Report
from pledges.ratings import IRUMA
from pledges.stats import Breakdown
from pledges.table_format import Table
from pledges.testing import generated_table

from .later_reports import revised
from .lookups import codes


def test_reports_imported_in_any_order_compare_by_month(
    db, client, real_bytes, table_2023, table_2024
):
    loading.load_table(table_2024)
    loading.load_file(real_bytes)
    loading.load_table(table_2023)
    comparison = client.get("/changes/").context["comparison"]
    assert (comparison.before.report.month, comparison.after.report.month) == ("2023-03", "2024-03")
    assert codes(comparison.back) == ["27①"]
    assert [p.report.month for p in changes.trend().points] == ["2022-03", "2023-03", "2024-03"]


def test_a_move_to_a_blank_rating_is_no_move():
    assert changes.movement("B", "", IRUMA) == changes.UNCHANGED
    assert changes.movement("D", "A", IRUMA) == changes.COMPLETED
    assert changes.movement("D", "B", IRUMA) == changes.FORWARD
    assert changes.movement("A", "B", IRUMA) == changes.BACK


def test_changes_page_with_one_report_says_there_is_nothing_to_compare(client, report_2022):
    response = client.get("/changes/")
    assert response.status_code == 200
    assert response.context["comparison"] is None
    page = response.content.decode()
    assert "令和4年3月現在の1回分だけなので、比べられるものがありません。" in page


def test_the_site_links_the_changes_page_and_the_feed(client, report_2022):
    html = client.get("/changes/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml" href="/feed/"' in html
    assert 'href="/changes/"' in html


def test_trend_chart_of_many_reports_labels_few_months_always_the_newest():
    points = [
        changes.ReportFigures(
            Report(as_of=date(2020 + year, 3, 1)),
            Breakdown.from_counts({"A": year, "B": 30 - year}, 60, IRUMA),
        )
        for year in range(12)
    ]
    chart = changes.trend_chart(points)
    assert len(chart.x_ticks) <= changes.MAX_X_LABELS
    assert chart.x_ticks[-1].label == "令和13年3月"
    assert chart.x_ticks[-1].position == chart.lines[0].markers[-1].x
    assert [m.count for m in chart.lines[0].markers] == list(range(12))


def test_trend_chart_of_one_report_puts_its_point_in_the_middle():
    (point,) = (
        changes.trend_chart(
            [changes.ReportFigures(
                Report(as_of=date(2022, 3, 1)), Breakdown.from_counts({}, 0, IRUMA)
            )]
        )
        .lines[0]
        .markers
    )
    assert point.x == (changes.PLOT_LEFT + changes.PLOT_RIGHT) / 2
    assert point.y == changes.PLOT_BOTTOM


def test_nice_step_gives_round_ticks():
    steps = [changes.nice_step(n) for n in (0, 3, 8, 29, 60, 520, 2000)]
    assert steps == [1, 1, 2, 10, 20, 200, 500]


def test_overview_of_the_only_report_shows_no_change_and_no_trend_yet(client, report_2022):
    html = client.get("/").content.decode()
    assert "前回" not in html
    assert "trend-chart" not in html


def with_moves(table: Table, as_of: date, step: int) -> Table:
    """A variant of a generated table: every ``step``-th sub-item re-rated, with a new note.

    D→C, C→B, B→A move forward; A→B moves back.
    """
    better = {"D": "C", "C": "B", "B": "A", "A": "B"}
    edits = {
        (pledge.number, s.position): {
            "rating": better[s.rating],
            "notes": (*s.notes, f"{as_of:%Y}年度の取組"),
        }
        for index, (pledge, s) in enumerate((p, s) for p in table.pledges for s in p.sub_items)
        if index % step == 0
    }
    return revised(table, as_of, edits)


@pytest.fixture
def three_big_reports(db) -> list[Table]:
    first = generated_table(sub_items=2000, as_of=date(2030, 3, 1))
    second = with_moves(first, date(2031, 3, 1), step=7)
    third = with_moves(second, date(2032, 3, 1), step=5)
    for table in (first, second, third):
        loading.load_table(table)
    return [first, second, third]


BIG_PAGES = [
    "/changes/",
    "/changes/2030-03/2032-03/",
    "/api/changes/2030-03/2031-03.json",
    "/feed/",
    "/",
    "/pledges/3/",
]


def test_three_reports_of_2000_sub_items_keep_the_query_bound_and_find_every_move(
    client, three_big_reports, django_assert_max_num_queries
):
    # One test for all pages: loading three reports of 2,000 sub-items is the slow part.
    for url in BIG_PAGES:
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200, url

    first, second, _ = three_big_reports
    older, newer = Report.objects.order_by("as_of")[:2]
    comparison = changes.compare_reports(older, newer)
    moved = len(comparison.completed) + len(comparison.forward) + len(comparison.back)
    assert moved == len(range(0, 2000, 7))
    assert [d.after for d in comparison.ratings] == list(second.rating_counts().values())
    assert [d.before for d in comparison.ratings] == list(first.rating_counts().values())

