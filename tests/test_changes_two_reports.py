"""The first comparison, 令和4年3月 → 令和5年3月, while those two are the only reports.

The second report is built from the real 2022 table in ``tests/later_reports.py``, which lists
what moved; both are imported once for this module (``two_reports_for_module``).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from pledges import changes
from pledges.models import Report

from .later_reports import NEW_TITLE_20_2, NOTE_2_1, NOTE_17_1
from .lookups import codes, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_reports_for_module")]


def test_the_derived_reports_count_what_was_changed(revised_2023: Report, report_2022: Report):
    trend = changes.trend()
    assert [p.report.month for p in trend.points] == ["2022-03", "2023-03"]
    assert [[f.count for f in p.breakdown.ratings] for p in trend.points] == [
        [8, 28, 24, 0],
        [10, 29, 21, 0],
    ]


def test_comparison_counts_each_rating_in_both_reports_and_the_difference(
    report_2022: Report, revised_2023: Report
):
    comparison = changes.compare_reports(report_2022, revised_2023)
    assert [(d.code, d.before, d.after, d.difference) for d in comparison.ratings] == [
        ("A", 8, 10, 2),
        ("B", 28, 29, 1),
        ("C", 24, 21, -3),
        ("D", 0, 0, 0),
    ]
    assert [d.signed_difference for d in comparison.ratings] == ["+2", "+1", "−3", "±0"]
    assert comparison.total_difference == 0


def test_comparison_groups_matched_sub_items_by_how_they_moved(
    report_2022: Report, revised_2023: Report
):
    comparison = changes.compare_reports(report_2022, revised_2023)
    assert codes(comparison.completed) == ["2①", "3①"]
    assert codes(comparison.forward) == ["9①", "10②", "11①"]
    assert codes(comparison.back) == ["5①"]
    assert codes(comparison.new_notes) == ["17①"]
    assert codes(comparison.retitled) == ["20②"]
    assert comparison.added == comparison.removed == ()


def test_a_changed_note_counts_as_new_and_kept_notes_do_not(report_2022, revised_2023):
    comparison = changes.compare_reports(report_2022, revised_2023)
    reached = {change.current.code: change for change in comparison.completed}
    assert reached["2①"].new_notes == (NOTE_2_1,)
    assert reached["3①"].new_notes == ()
    assert comparison.new_notes[0].new_notes == (NOTE_17_1,)


def test_a_renamed_sub_item_keeps_its_place_and_says_its_old_title(report_2022, revised_2023):
    (renamed,) = changes.compare_reports(report_2022, revised_2023).retitled
    assert renamed.kind == changes.UNCHANGED
    assert renamed.before.title == "空き家対策の充実"
    assert renamed.after.title == NEW_TITLE_20_2


def test_changes_page_between_two_months_shows_counts_groups_and_links(client, revised_2023):
    response = client.get("/changes/2022-03/2023-03/")
    assert response.status_code == 200
    html = response.content.decode()
    page = text_of(html)
    assert "A 完了 8 10 +2" in page
    assert "B 実施中 28 29 +1" in page
    assert "C 着手 24 21 −3" in page
    assert "D 未着手 0 0 ±0" in page
    assert "項目数 60 60 ±0" in page
    assert "完了になった (2件)" in page
    assert "前進した (3件)" in page
    assert "後退した (1件)" in page
    assert "評価は同じで取組が増えた (1件)" in page
    assert "5① 入間版疾病対策センター(CDC)の設置 B 実施中 → C 着手 後退" in page
    assert f"新 {NOTE_17_1}" in page
    assert "項目名が変わりました(前回:「空き家対策の充実」)" in page
    assert 'href="/pledges/5/?report=2023-03#item-5-1"' in html
    assert 'id="changes-back"' in html


def test_moved_back_items_are_flagged_at_the_top_of_the_page(client, revised_2023):
    html = client.get("/changes/2022-03/2023-03/").content.decode()
    alert = html.index('class="changes-alert"')
    assert alert < html.index('id="changes-counts"')
    assert html.index('class="flag-back"') > alert


@pytest.mark.parametrize(
    "url",
    [
        "/changes/2021-03/2023-03/",
        "/changes/2022-03/2025-03/",
        "/changes/2022-13/2023-03/",
        "/changes/2023-03/2023-03/",
        "/api/changes/2022-03/2030-03.json",
    ],
)
def test_unknown_months_are_404(client, revised_2023, url):
    assert client.get(url).status_code == 404


def test_draft_reports_are_not_compared(client, revised_2023):
    Report.objects.filter(as_of=date(2023, 3, 1)).update(status=Report.Status.DRAFT)
    assert client.get("/changes/2022-03/2023-03/").status_code == 404
    assert client.get("/changes/").context["comparison"] is None


def test_months_the_wrong_way_round_redirect_to_the_right_order(client, revised_2023):
    response = client.get("/changes/2023-03/2022-03/")
    assert response.status_code == 302
    assert response["Location"] == "/changes/2022-03/2023-03/"
    assert client.get("/api/changes/2023-03/2022-03.json")["Location"] == (
        "/api/changes/2022-03/2023-03.json"
    )


def test_changes_api_has_the_same_content_as_the_page(client, revised_2023):
    response = client.get("/api/changes/2022-03/2023-03.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["from"]["month"] == "2022-03" and data["to"]["label"] == "令和5年3月"
    assert data["ratings"][0] == {
        "code": "A",
        "label": "完了",
        "from": 8,
        "to": 10,
        "difference": 2,
    }
    assert [d["difference"] for d in data["ratings"]] == [2, 1, -3, 0]
    assert [i["code"] for i in data["completed"]] == ["2①", "3①"]
    assert [i["code"] for i in data["forward"]] == ["9①", "10②", "11①"]
    assert data["back"] == [
        {
            "code": "5①",
            "chapter": 2,
            "pledge": 5,
            "position": 1,
            "title": "入間版疾病対策センター(CDC)の設置",
            "previous_title": None,
            "from": "B",
            "to": "C",
            "change": "back",
            "new_notes": [],
            "url": "/pledges/5/?report=2023-03#item-5-1",
        }
    ]
    assert data["new_notes"][0]["new_notes"] == [NOTE_17_1]
    assert data["retitled"][0]["previous_title"] == "空き家対策の充実"
    assert data["added"] == data["removed"] == []


def test_overview_shows_the_trend_once_there_are_two_reports(client, revised_2023):
    html = client.get("/").content.decode()
    assert html.count('<svg class="trend-chart"') == 1
    assert '<table class="trend-table">' in html



# -- the pledge page prints each note once -------------------------------------------------------


def notes_of(real_table, pledge: int, position: int) -> tuple[str, ...]:
    return next(
        s.notes
        for p in real_table.pledges
        if p.number == pledge
        for s in p.sub_items
        if s.position == position
    )


def test_an_unchanged_item_prints_its_notes_once_and_says_nothing_changed(
    client, revised_2023: Report, real_table
):
    page = text_of(client.get("/pledges/4/").content.decode())
    notes = notes_of(real_table, 4, 1)
    assert notes
    for note in notes:
        assert page.count(note) == 1
    assert "表示中の報告 前回から変更なし 令和4年3月" in page
    assert f"令和4年3月 C 着手 記述{len(notes)}件(上の取組状況に掲載)" in page


def test_a_new_note_is_flagged_above_and_counted_in_its_report(
    client, revised_2023: Report, real_table
):
    page = text_of(client.get("/pledges/17/").content.decode())
    assert page.count(NOTE_17_1) == 1
    assert f"新 {NOTE_17_1}" in page
    assert "新しい記述1件(上の取組状況に掲載) ほか" in page
    for note in notes_of(real_table, 17, 1):
        assert page.count(note) == 1


def test_an_older_report_lists_the_notes_it_no_longer_has(client, revised_2023: Report):
    # 2① replaced its first note in 令和5年: on 令和4年's page the replacement is not above,
    # so 令和5年's entry prints it, flagged 新.
    page = text_of(client.get("/pledges/2/?report=2022-03").content.decode())
    assert f"新 {NOTE_2_1}" in page
    assert page.count(NOTE_2_1) == 1
