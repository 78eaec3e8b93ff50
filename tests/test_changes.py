"""Reports over time on three reports: changes pages, trend chart, feed, timelines, overview.

The second (令和5年3月) and third (令和6年3月) reports are built from the real 2022 table in
``tests/later_reports.py``, which lists what moved. The three are imported once for this module
(``three_reports_for_module``); the first comparison alone (2022 → 2023) is in
``tests/test_changes_two_reports.py``, other histories in ``tests/test_changes_other_histories.py``.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from pledges import changes
from pledges.models import Pledge, ProgressNote, Report

from .later_reports import NOTE_17_1, NOTE_28_1
from .lookups import assessment, codes, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("three_reports_for_module")]


def test_sub_items_in_only_one_report_are_added_or_removed(three_reports: Report):
    newer, older = Report.objects.order_by("-as_of")[:2]
    comparison = changes.compare_reports(older, newer)
    assert [(c.current.code, c.before.rating) for c in comparison.removed] == [("4②", "B")]
    assert [(c.current.code, c.after.rating) for c in comparison.added] == [("30③", "D")]
    assert codes(comparison.completed) == ["28①"]
    assert codes(comparison.forward) == ["5①"]
    assert codes(comparison.back) == ["27①"]
    assert [(d.before, d.after) for d in comparison.ratings] == [
        (10, 11),
        (29, 28),
        (21, 19),
        (0, 2),
    ]


# --------------------------------------------------------------------------------------------
# Pages


def test_changes_page_compares_the_newest_report_with_the_one_before(client, three_reports):
    response = client.get("/changes/")
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert comparison.before.report.month == "2023-03"
    assert comparison.after.report.month == "2024-03"
    page = text_of(response.content.decode())
    assert "令和5年3月から令和6年3月への変化" in page
    assert "A 完了 10 11 +1" in page
    assert "D 未着手 0 2 +2" in page
    assert "評価が下がった項目が1件あります。" in page


def test_note_text_is_escaped_on_the_changes_page(client, three_reports):
    # A new note of a matched sub-item is shown on the page: one with markup must arrive as text.
    ProgressNote.objects.create(
        assessment=assessment(three_reports, 28, 1),
        position=99,
        text='<b onclick="x()">条例</b>を周知<script>alert(2)</script>',
    )
    html = client.get("/changes/2023-03/2024-03/").content.decode()
    assert (
        "新 &lt;b onclick=&quot;x()&quot;&gt;条例&lt;/b&gt;を周知"
        "&lt;script&gt;alert(2)&lt;/script&gt;"
    ) in text_of(html)
    assert "<script>" not in html and "<b onclick" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" not in html  # added items list no notes
    assert "30③ デジタル人材の育成" in text_of(html)
    assert "4② 実証実験フィールドの提供" in text_of(html)


# --------------------------------------------------------------------------------------------
# Trend chart


def test_trend_chart_is_inline_svg_with_the_same_numbers_as_its_table(client, three_reports):
    html = client.get("/changes/").content.decode()
    assert "<svg" in html and "<script" not in html and "style=" not in html
    assert 'role="img"' in html
    table = html[html.index('<table class="trend-table">') :]
    rows = [text_of(row).strip() for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:4]]
    assert rows == [
        "令和4年3月 8 (13.33%) 28 (46.67%) 24 (40.00%) 0 (0.00%) 60",
        "令和5年3月 10 (16.67%) 29 (48.33%) 21 (35.00%) 0 (0.00%) 60",
        "令和6年3月 11 (18.33%) 28 (46.67%) 19 (31.67%) 2 (3.33%) 60",
    ]
    for text in ("令和4年3月 A 完了: 8", "令和5年3月 C 着手: 21", "令和6年3月 D 未着手: 2"):
        assert f"<title>{text}</title>" in html


def test_trend_chart_puts_higher_counts_higher_and_later_reports_further_right(three_reports):
    chart = changes.trend().chart
    completed, in_progress = chart.lines[0], chart.lines[1]
    assert [m.count for m in completed.markers] == [8, 10, 11]
    xs = [m.x for m in completed.markers]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert completed.markers[2].y < completed.markers[0].y  # SVG y grows downwards
    assert in_progress.markers[0].y < completed.markers[0].y
    assert chart.y_ticks[0].label == "0" and chart.y_ticks[0].position == chart.bottom
    assert int(chart.y_ticks[-1].label) >= 29


# --------------------------------------------------------------------------------------------
# Atom feed


ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_has_one_entry_per_published_report_summarising_its_changes(
    client, three_reports, settings
):
    settings.SITE_URL = "https://pledges.example.jp"
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "いるま公約進捗"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "令和6年3月現在の進捗: 完了 10 → 11件 (+1)",
        "令和5年3月現在の進捗: 完了 8 → 10件 (+2)",
        "令和4年3月現在の進捗: 完了 8件",
    ]
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == [
        "https://pledges.example.jp/changes/2023-03/2024-03/",
        "https://pledges.example.jp/changes/2022-03/2023-03/",
        "https://pledges.example.jp/?report=2022-03",
    ]
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        "https://pledges.example.jp/?report=2024-03",
        "https://pledges.example.jp/?report=2023-03",
        "https://pledges.example.jp/?report=2022-03",
    ]
    newest = text_of(entries[0].findtext(f"{ATOM}summary"))
    assert "D 未着手: 0 → 2 (+2)" in newest
    assert "完了になった項目 1件、前進 1件、後退 1件" in newest
    assert "27① 海外友好都市への小中高校生の短期留学の推進: C 着手 → D 未着手" in newest
    oldest = text_of(entries[2].findtext(f"{ATOM}summary"))
    assert "A 完了: 8 (13.33%)" in oldest


@pytest.mark.parametrize(
    ("url", "queries"), [("/feed/", 4), ("/changes/", 4), ("/changes/2022-03/2024-03/", 4)]
)
def test_feed_and_changes_page_run_a_fixed_number_of_queries(
    client, three_reports, django_assert_num_queries, url, queries
):
    # The reports, their counts per rating (one grouped query, whatever each report's scale),
    # then every sub-item with its notes (the feed), or where each sub-item is and the notes
    # the later report added (a comparison): nothing per report. The pages share the published
    # reports the page cache has read to check their versions (the feed reads its own), which
    # is all a cached copy costs.
    with django_assert_num_queries(queries):
        client.get(url)
    with django_assert_num_queries(1):
        client.get(url)


# --------------------------------------------------------------------------------------------
# Pledge timelines and the overview


def test_pledge_timeline_lists_each_report_newest_first_with_new_notes_marked(three_reports):
    (first, second) = changes.pledge_timeline(28)
    assert first.code == "28①"
    assert [e.report.month for e in first.entries] == ["2024-03", "2023-03", "2022-03"]
    assert [e.state.rating for e in first.entries] == ["A", "B", "B"]
    assert [e.movement for e in first.entries] == ["completed", "unchanged", "unchanged"]
    newest = first.entries[0]
    assert [n.text for n in newest.notes if n.is_new] == [NOTE_28_1]
    assert newest.new_note_count == 1
    assert first.entries[2].new_note_count == 0  # the first report has nothing to compare with
    assert second.code == "28②"


def test_pledge_timeline_says_moves_back_added_items_and_title_changes(three_reports):
    moved = changes.pledge_timeline(5)[0]
    assert [(e.movement, e.previous_rating) for e in moved.entries] == [
        ("forward", "C"),
        ("back", "B"),
        ("unchanged", ""),
    ]
    renamed = changes.pledge_timeline(20)[1]
    assert [e.previous_title for e in renamed.entries] == [None, "空き家対策の充実", None]
    added = changes.pledge_timeline(30)[2]
    assert [(e.report.month, e.added) for e in added.entries] == [("2024-03", True)]
    removed = changes.pledge_timeline(4)[1]
    assert [e.report.month for e in removed.entries] == ["2023-03", "2022-03"]


def test_pledge_page_shows_the_timeline_of_each_sub_item(client, three_reports):
    response = client.get("/pledges/5/")
    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert "5①の経過" in page
    assert page.index("令和6年3月 B 実施中 前進(前回 着手)") < page.index(
        "令和5年3月 C 着手 後退(前回 実施中)"
    )
    page_20 = text_of(client.get("/pledges/20/").content.decode())
    assert "項目名が「空き家対策の充実」から「空き家対策のさらなる充実」に変わりました" in page_20
    # 17① gained a note in 令和5年: flagged 新 in that report's notes, printed once in the
    # newest report's page, where 令和5年's entry only points up to it.
    page_17_2023 = text_of(client.get("/pledges/17/?report=2023-03").content.decode())
    assert f"新 {NOTE_17_1}" in page_17_2023
    page_17 = text_of(client.get("/pledges/17/").content.decode())
    assert page_17.count(NOTE_17_1) == 1
    assert f"新 {NOTE_17_1}" not in page_17
    assert "令和5年3月 C 着手 新しい記述1件(上の取組状況に掲載)" in page_17


def test_overview_shows_each_rating_with_its_change_since_the_previous_report(
    client, three_reports
):
    html = client.get("/").content.decode()
    page = text_of(html)
    assert "A 完了 11 項目 18.33% 前回 10 → 11, +1" in page
    assert "B 実施中 28 項目 46.67% 前回 29 → 28, −1" in page
    assert "C 着手 19 項目 31.67% 前回 21 → 19, −2" in page
    assert "D 未着手 2 項目 3.33% 前回 0 → 2, +2" in page
    assert "「前回」は令和5年3月現在の報告です。 変化した項目を見る" in page
    assert 'href="/changes/2023-03/2024-03/"' in html
    assert '<table class="trend-table">' in html


def test_overview_of_an_older_report_compares_with_the_one_before_it(client, three_reports):
    page = text_of(client.get("/?report=2023-03").content.decode())
    assert "「前回」は令和4年3月現在の報告です。" in page
    assert "A 完了 10 項目 16.67% 前回 8 → 10, +2" in page


# --------------------------------------------------------------------------------------------
# Query counts at the real size and at three reports of 2,000 sub-items


REAL_PAGES = [
    "/changes/",
    "/changes/2022-03/2024-03/",
    "/api/changes/2022-03/2023-03.json",
    "/feed/",
    "/",
    "/pledges/3/",
    "/pledges/28/",  # footnote naming another sub-item: issue 4's most expensive pledge page
]


@pytest.mark.parametrize("url", REAL_PAGES)
def test_pages_run_a_bounded_number_of_queries_at_real_size(
    client, three_reports, url, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200


def test_changes_page_follows_the_report_parameter(client, three_reports):
    page = client.get("/changes/", {"report": "2023-03"}).content.decode()
    assert "令和4年3月から令和5年3月への変化" in page
    assert 'href="/export/2023-03.xlsx"' in page
    assert 'action="/changes/"' in page
    assert client.get("/changes/", {"report": "2021-03"}).status_code == 404
    oldest = client.get("/changes/", {"report": "2022-03"})
    assert oldest.status_code == 200
    first = "令和4年3月現在の報告は公約集「市長公約(政策宣言)」の最初の報告なので"
    assert first in oldest.content.decode()



# -- what moved, on / and on chapter pages ------------------------------------------------------


def test_overview_says_in_one_line_what_moved_since_the_previous_report(client, three_reports):
    html = client.get("/").content.decode()
    comparison = changes.compare_reports(
        Report.objects.get(as_of__year=2023), three_reports
    )
    line = (
        f"令和5年3月から: 完了 +{len(comparison.completed)}・前進 {len(comparison.forward)}"
        f"・後退 {len(comparison.back)}"
    )
    assert len(comparison.back) > 0
    assert line in text_of(html)
    assert f'<a href="/changes/2023-03/2024-03/">{line}</a>' in html


def test_move_counts_are_the_comparisons_groups_between_any_two_reports(three_reports):
    # Counted by the database per pair of ratings; added and removed sub-items never count.
    reports = list(Report.objects.order_by("as_of"))
    for before, after in itertools.permutations(reports, 2):
        comparison = changes.compare_reports(before, after)
        assert changes.move_counts(before, after) == {
            kind: len(getattr(comparison, kind)) for kind in changes.MOVES
        }, (before, after)


def test_the_first_report_has_no_line_of_moves(client, three_reports):
    page = text_of(client.get("/?report=2022-03").content.decode())
    assert "完了 +" not in page


def test_chapter_page_flags_the_items_that_moved(client, three_reports):
    # 5① went from 実施中 back to 着手 in 令和5年, and forward again in 令和6年.
    chapter = Pledge.objects.get(chapter__report=three_reports, number=5).chapter.number
    html_2023 = client.get(f"/chapters/{chapter}/?report=2023-03").content.decode()
    item = html_2023[html_2023.index('id="item-5-1"') : html_2023.index('id="item-5-2"')]
    assert '<strong class="flag-back">後退</strong>' in item
    html_2024 = client.get(f"/chapters/{chapter}/").content.decode()
    item = html_2024[html_2024.index('id="item-5-1"') : html_2024.index('id="item-5-2"')]
    assert '<span class="flag-forward">前進</span>' in item
    unmoved = html_2024[html_2024.index('id="item-5-2"') :]
    unmoved = unmoved[: unmoved.index("</article>")]
    assert "flag-" not in unmoved
    # The oldest report has nothing to move from.
    html_2022 = client.get(f"/chapters/{chapter}/?report=2022-03").content.decode()
    assert "flag-back" not in html_2022 and "flag-forward" not in html_2022


def test_a_comparison_finds_in_the_database_what_matching_whole_items_finds(three_reports):
    # compare() reads no notes but those the later report added; consecutive_comparisons()
    # reads every sub-item whole and compares the notes in Python. The same changes, all kinds.
    trend = changes.trend()
    whole = changes.consecutive_comparisons(trend.points)
    assert len(whole) == 2
    for expected in whole:
        found = changes.compare(expected.before, expected.after)

        def seen(comparison):
            return [(c.key, c.kind, c.new_notes, c.title_changed) for c in comparison.items]

        assert seen(found) == seen(expected)
    kinds = {c.kind for comparison in whole for c in comparison.items}
    assert {"completed", "forward", "back", "new_notes", "added", "removed"} <= kinds


def test_a_note_is_the_same_only_word_for_word(three_reports):
    # 1① has the same notes in 2023 and 2024; one space more makes a note the later report
    # added (the database compares the text exactly, as Python's == does).
    older, newer = Report.objects.order_by("-as_of")[1], three_reports
    before = changes.compare_reports(older, newer)
    assert "1①" not in codes(before.new_notes)
    note = ProgressNote.objects.filter(assessment=assessment(newer, 1, 1)).order_by("position")[0]
    original = note.text
    note.text = original + " "
    note.save()
    after = changes.compare_reports(older, newer)
    [change] = [c for c in after.new_notes if c.current.code == "1①"]
    assert change.new_notes == (original + " ",)
