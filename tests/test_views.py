"""The public pages (overview, chapter, pledge, /items/ and its CSV) on the real 2022 table."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import RequestFactory
from django.utils import timezone
from django.views.defaults import server_error
from pytest_django.asserts import assertContains, assertInHTML, assertNotContains

from pledges import editing, loading
from pledges.models import Assessment, ProgressNote, Report, SubItem
from pledges.testing import generated_table

from .lookups import assessments

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]


def item_rows(response) -> list[str]:
    """The ids of the /items/ table rows (``row-<pledge>-<position>``), in order."""
    return re.findall(r'<tr id="row-(\d+-\d+)"', response.content.decode())


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def set_rating(report: Report, pledge: int, position: int, rating: str) -> None:
    # update(): no signal, no history, as a bulk write by another tool would leave it.
    assessments(report, pledge, position).update(rating=rating)


# --------------------------------------------------------------------------------------------
# Overview


def test_overview_names_the_report_and_its_month_in_both_calendars(client, report_2022):
    response = client.get("/")
    assertContains(response, '<html lang="ja">')
    assertContains(response, "市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】")
    assertContains(response, "<strong>令和4年3月現在</strong>（2022年3月）", html=True)


def test_overview_shows_the_four_ratings_counted_from_the_data(client, report_2022):
    html = client.get("/").content.decode()
    figures = re.findall(
        r'data-rating="(\w)">.*?figure__number">(\d+)<.*?figure__percent">([\d.]+)%',
        html,
        flags=re.S,
    )
    assert figures == [
        ("A", "8", "13.33"),
        ("B", "28", "46.67"),
        ("C", "24", "40.00"),
        ("D", "0", "0.00"),
    ]
    assertContains(response := client.get("/"), "全60項目の評価")
    # Each rating is told by letter and label, not by colour alone.
    assertInHTML(
        '<span class="badge tone-3"><span class="badge__code">C</span> '
        '<span class="badge__label">着手</span></span>',
        response.content.decode(),
    )


def test_overview_links_each_counted_rating_to_its_items(client, report_2022):
    html = client.get("/").content.decode()
    links = re.findall(r'class="figure__more" href="([^"]+)"', html)
    assert links == [f"/items/?report=2022-03&amp;rating={code}" for code in "ABC"]  # no D


def test_overview_links_each_chapter_with_its_own_bar(client, report_2022):
    response = client.get("/")
    html = response.content.decode()
    links = re.findall(r'class="chapter-card__link" href="([^"]+)"', html)
    assert links == [f"/chapters/{n}/?report=2022-03" for n in range(1, 7)]
    # The overall bar plus one per chapter; segment widths are the recomputed percents.
    assert html.count('<svg class="bar') == 7
    assert '<rect class="bar__seg tone-0" x="0.00%" y="0" width="13.33%"' in html
    assert 'bar__seg tone-4"' not in html  # no sliver for a rating nobody has (D)
    assertContains(response, "第1章")
    assertContains(response, "デジタル未来都市")


def test_overview_confirms_stated_totals_when_they_match(client, report_2022):
    response = client.get("/")
    assertContains(response, "市が公表した集計と一致しています。")
    assertNotContains(response, "集計が違います")


def test_overview_warns_where_stated_totals_differ_from_the_data(client, report_2022):
    set_rating(report_2022, 4, 2, "A")  # 4② B → A after publication: A 9, B 27

    response = client.get("/")
    assertContains(response, "市が公表した集計と、いまのデータの集計が違います")
    rows = re.findall(
        r'<tr( class="differs")?>\s*<th scope="row">(\w \w+)</th>(.*?)</tr>',
        response.content.decode(),
        flags=re.S,
    )
    cells = [
        (bool(differs), label, re.sub(r"<[^>]+>|\s", "", body)) for differs, label, body in rows
    ]
    assert cells == [
        (True, "A 完了", "8（13.33%）9（15.00%）違い"),
        (True, "B 実施中", "28（46.67%）27（45.00%）違い"),
        (False, "C 着手", "24（40.00%）24（40.00%）"),
        (False, "D 未着手", "0（0.00%）0（0.00%）"),
    ]
    assertContains(response, '<span class="figure__number">9</span>', html=True)


def test_overview_shows_the_newest_report_unless_another_is_chosen(client, report_2023):
    newest = client.get("/")
    assertContains(newest, "<strong>令和5年3月現在</strong>（2023年3月）", html=True)
    assertContains(newest, '<span class="figure__number">9</span>', html=True)

    older = client.get("/?report=2022-03")
    assertContains(older, "<strong>令和4年3月現在</strong>（2022年3月）", html=True)
    assertContains(older, '<span class="figure__number">8</span>', html=True)
    assertContains(older, 'href="/chapters/1/?report=2022-03"')


def test_every_page_offers_the_published_months_to_switch_to(client, report_2023):
    Report.objects.create(
        manifesto=report_2023.manifesto, as_of="2024-03-01", title="下書き",
        status=Report.Status.DRAFT,
    )
    for url in ("/", "/chapters/1/", "/pledges/1/", "/items/"):
        html = client.get(url + "?report=2022-03").content.decode()
        options = re.findall(r'<option value="(\d{4}-\d{2})"( selected)?>([^<]+)</option>', html)
        assert options == [
            ("2023-03", "", "令和5年3月（2023年3月）"),
            ("2022-03", " selected", "令和4年3月（2022年3月）"),
        ], url


@pytest.mark.parametrize("month", ["1999-01", "2022-13", "2022-3", "march", ""])
def test_an_unknown_or_malformed_report_month_is_a_404_in_the_site_layout(
    client, report_2022, month
):
    for url in ("/", "/chapters/1/", "/pledges/1/", "/items/", "/items.csv"):
        response = client.get(url, {"report": month})
        assert response.status_code == 404, url
        assertContains(response, "ページが見つかりません", status_code=404)
        assertContains(response, 'class="site-name"', status_code=404)


def test_a_draft_report_is_not_shown_to_the_public(client, report_2023):
    Report.objects.filter(as_of__year=2023).update(status=Report.Status.DRAFT)
    assertContains(client.get("/"), "令和4年3月現在")
    assert client.get("/?report=2023-03").status_code == 404


# --------------------------------------------------------------------------------------------
# Chapter page


def test_chapter_page_shows_its_totals_pledges_and_sub_items(client, report_2022):
    response = client.get("/chapters/1/")
    html = response.content.decode()
    assertContains(response, "<h1>デジタル未来都市</h1>", html=True)
    # Chapter 1: 1①A 1②A 2①B 2②B 3①C 3②C 4①C 4②B.
    legend = re.findall(r"(\w) (完了|実施中|着手|未着手) <strong>(\d+)</strong>", html)
    assert legend == [
        ("A", "完了", "2"), ("B", "実施中", "3"), ("C", "着手", "3"), ("D", "未着手", "0"),
    ]
    assert re.findall(r'<section class="pledge" id="pledge-(\d+)"', html) == ["1", "2", "3", "4"]
    assert re.findall(r'<article class="item" id="item-(\d+-\d+)"', html) == [
        "1-1", "1-2", "2-1", "2-2", "3-1", "3-2", "4-1", "4-2",
    ]
    assertContains(response, "デジタル未来都市推進部門の設置")
    assertContains(response, "<li>令和4年4月にデジタル行政推進課を新設予定</li>", html=True)


def test_footnote_is_shown_on_the_item_it_marks_and_links_the_items_it_names(
    client, report_2022
):
    html = client.get("/chapters/1/").content.decode()
    item_4_1 = html[html.index('id="item-4-1"') : html.index('id="item-4-2"')]
    assert "注記 ※1" in item_4_1
    assert '<a href="/pledges/4/?report=2022-03#item-4-1">4①</a>' in item_4_1
    assert '<a href="/pledges/28/?report=2022-03#item-28-1">28①</a>' in item_4_1
    assert '<a href="/pledges/28/?report=2022-03#item-28-2">28②</a>' in item_4_1
    assert "に統合して実施することとしました。" in item_4_1
    item_4_2 = html[html.index('id="item-4-2"') :]
    assert "※1" not in item_4_2


def test_item_a_footnote_merges_others_into_shows_it_as_related(client, report_2022):
    html = client.get("/pledges/28/").content.decode()
    item_28_1 = html[html.index('id="item-28-1"') : html.index('id="item-28-2"')]
    item_28_2 = html[html.index('id="item-28-2"') :]
    assert "注記 ※1" in item_28_1 and "関連する注記" not in item_28_1
    assert "関連する注記 ※1" in item_28_2


def test_footnote_references_to_missing_items_stay_plain_text(client, report_2022):
    # No pledge 99; pledge 28 has no ⑨.
    report_2022.footnotes.update(text="4①及び99①、28⑨は28②に統合。")
    html = client.get("/chapters/1/").content.decode()
    assert "及び99①、28⑨は" in html
    assert "/pledges/99/" not in html and "item-28-9" not in html
    assert '<a href="/pledges/28/?report=2022-03#item-28-2">28②</a>' in html


def test_a_chapter_no_footnote_concerns_shows_none_and_looks_up_no_reference(
    client, report_2022, django_assert_num_queries
):
    # The published reports, its sub-items (the chapter's figures are counted from them), the
    # footnotes' texts; the sub-items ※1 names (4①, 28①, 28②) are looked up only on a page it
    # concerns.
    with django_assert_num_queries(3):
        html = client.get("/chapters/2/").content.decode()
    assert "※1" not in html
    with django_assert_num_queries(4):
        html = client.get("/chapters/1/").content.decode()
    assert "注記 ※1" in html


def test_unknown_chapter_is_a_404_in_the_site_layout(client, report_2022):
    response = client.get("/chapters/7/")
    assertContains(response, "ページが見つかりません", status_code=404)
    assertContains(response, "最新の概要へ戻る", status_code=404)


# --------------------------------------------------------------------------------------------
# Pledge page


def test_pledge_page_links_previous_next_and_its_chapter(client, report_2022):
    response = client.get("/pledges/5/")
    html = response.content.decode()
    assertInHTML('<a rel="prev" href="/pledges/4/?report=2022-03">← 公約4</a>', html)
    assertInHTML('<a rel="next" href="/pledges/6/?report=2022-03">公約6 →</a>', html)
    assertContains(response, '<a href="/chapters/2/?report=2022-03">第2章に戻る</a>', html=True)
    assertContains(response, "感染症対策本部(入間版CDC)の設置")


def test_first_and_last_pledges_have_no_link_past_the_ends(client, report_2022):
    assertNotContains(client.get("/pledges/1/"), 'rel="prev"')
    assertContains(client.get("/pledges/1/"), 'rel="next"')
    assertNotContains(client.get("/pledges/30/"), 'rel="next"')
    assertContains(client.get("/pledges/30/"), 'rel="prev"')


def test_pledge_page_shows_the_day_staff_last_changed_an_item(client, report_2022):
    Assessment.objects.filter(
        sub_item__pledge__number=5, sub_item__position=2
    ).update(updated_at="2022-04-01T09:00:00+09:00", revision=1)
    html = client.get("/pledges/5/").content.decode()
    item_5_2 = html[html.index('id="item-5-2"') :]
    assert '最終更新 <time datetime="2022-04-01T09:00:00+09:00">2022年4月1日</time>' in item_5_2


def test_data_as_published_was_last_updated_in_its_reports_month_not_on_import(
    client, report_2022
):
    # Imported today, never edited: the city's 令和4年3月 is when it last changed.
    html = client.get("/pledges/5/").content.decode()
    item_5_1 = html[html.index('id="item-5-1"') : html.index('id="item-5-2"')]
    assert '最終更新 <time datetime="2022-03">令和4年3月</time>' in item_5_1


def test_a_staff_edit_dates_the_item_from_that_day(client, report_2022):
    assessment = assessments(report_2022, 5, 1).get()
    assessment.rating = "A"
    editing.save_assessment(assessment)
    html = client.get("/pledges/5/").content.decode()
    item_5_1 = html[html.index('id="item-5-1"') : html.index('id="item-5-2"')]
    today = timezone.localdate()
    assert f"最終更新 <time datetime=\"{today:%Y-%m-%d}T" in item_5_1
    assert f">{today.year}年{today.month}月{today.day}日</time>" in item_5_1


def test_pledge_missing_from_the_chosen_report_is_a_404(client, report_2022):
    assertContains(client.get("/pledges/31/"), "ページが見つかりません", status_code=404)
    assert client.get("/pledges/0/").status_code == 404


def test_a_single_unbulleted_note_is_a_paragraph_not_a_list(client, report_2022):
    # 15②'s note was published without a leading ・.
    html = client.get("/pledges/15/").content.decode()
    item_15_2 = html[html.index('id="item-15-2"') :]
    assert "<p>入間ロケーションサービスとして" in item_15_2


def test_item_without_notes_says_so(client, report_2022):
    html = client.get("/pledges/4/").content.decode()
    item_4_2 = html[html.index('id="item-4-2"') :]
    assert "記載はありません。" in item_4_2


# --------------------------------------------------------------------------------------------
# Escaping


def test_text_from_the_data_is_escaped_on_every_page(client, report_2022):
    attack = '<script>alert("x")</script>'
    item = SubItem.objects.get(pledge__number=1, position=1)
    item.title = f"題{attack}"
    item.save()
    ProgressNote.objects.filter(assessment__sub_item=item).update(text=f"取組{attack}")
    report_2022.footnotes.update(text=f"4①{attack}")
    for url in ("/chapters/1/", "/pledges/1/", "/pledges/4/", "/items/", "/items/?q=script"):
        response = client.get(url)
        assertNotContains(response, "<script>")
        assertContains(response, "&lt;script&gt;")


# --------------------------------------------------------------------------------------------
# /items/


def test_items_lists_every_sub_item_in_order(client, report_2022):
    rows = item_rows(client.get("/items/"))
    assert len(rows) == 60
    assert rows[:3] == ["1-1", "1-2", "2-1"]
    assert rows[-1] == "30-2"


def test_items_row_links_its_chapter_pledge_and_sub_item_and_shows_its_badge(client, report_2022):
    response = client.get("/items/", {"rating": "C"})
    assertInHTML(
        '<tr id="row-3-1" class="even">'
        '<td data-label="章"><a href="/chapters/1/?report=2022-03">第1章 {}</a></td>'
        '<td data-label="公約"><a href="/pledges/3/?report=2022-03">3 {}</a></td>'
        '<td data-label="項目"><a href="/pledges/3/?report=2022-03#item-3-1">①{}</a></td>'
        '<td data-label="評価"><span class="badge tone-3"><span class="badge__code">C</span>'
        ' <span class="badge__label">着手</span></span></td></tr>'.format(
            *SubItem.objects.filter(pledge__chapter__report=report_2022, pledge__number=3,
                                    position=1)
            .values_list("pledge__chapter__title", "pledge__title", "title").get()
        ),
        response.content.decode(),
    )


def test_items_at_two_thousand_shows_a_page_of_a_hundred_and_pages_on(client, report_2022):
    loading.load_table(generated_table(sub_items=2000), same_manifesto=True)
    response = client.get("/items/", {"rating": "C"})
    # The pages keep the filter; the current one is marked.
    assertContains(response, '<a rel="next" href="?rating=C&amp;page=2">')
    assertContains(response, '<span aria-current="page">1</span>')
    first = item_rows(client.get("/items/"))
    assert len(first) == 100 and first[0] == "1-1"
    last = item_rows(client.get("/items/", {"page": "20", "sort": "-pledge"}))
    assert len(last) == 100 and last[-1] == "1-1"


def test_items_header_sorts_by_each_column_keeping_the_filters(client, report_2022):
    html = client.get("/items/", {"rating": "C", "sort": "rating"}).content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    assertInHTML(
        '<th scope="col" class="asc orderable" aria-sort="ascending">'
        '<a href="?rating=C&amp;sort=-rating">評価<span class="visually-hidden">で並べ替え</span>'
        "</a></th>",
        head,
    )
    assertInHTML(
        '<th scope="col" class="orderable"><a href="?rating=C&amp;sort=chapter">章'
        '<span class="visually-hidden">で並べ替え</span></a></th>',
        head,
    )
    assert head.count("aria-sort") == 1


def test_items_reads_the_notes_only_for_a_keyword_search(client, report_2022):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    notes_table = ProgressNote._meta.db_table
    with CaptureQueriesContext(connection) as plain:
        client.get("/items/")
    with CaptureQueriesContext(connection) as searched:
        response = client.get("/items/", {"q": "クレジット"})
    assert not any(notes_table in query["sql"] for query in plain.captured_queries)
    # The search and its excerpts need them.
    assert sum(notes_table in query["sql"] for query in searched.captured_queries) == 2
    assertContains(response, "<mark>クレジット</mark>")


def test_items_filter_by_rating(client, report_2022):
    response = client.get("/items/", {"rating": "C"})
    rows = item_rows(response)
    assert len(rows) == 24
    assertContains(response, "24件の項目")
    assert "3-1" in rows and "1-1" not in rows


def test_items_filter_by_chapter_and_rating_together(client, report_2022):
    assert item_rows(client.get("/items/", {"chapter": "1"})) == [
        "1-1", "1-2", "2-1", "2-2", "3-1", "3-2", "4-1", "4-2",
    ]
    assert item_rows(client.get("/items/", {"chapter": "1", "rating": "C"})) == [
        "3-1", "3-2", "4-1",
    ]


def test_items_filter_form_keeps_the_choices_made_and_describes_the_keyword_box(
    client, report_2022
):
    html = client.get("/items/", {"chapter": "2", "q": "ＤＸ"}).content.decode()
    start = html.index('<form class="filters"')
    form = html[start : html.index("</form>", start)]
    assert re.findall(r'<option value="(\d*)" selected>', form) == ["2", "", ""]
    assert '<option value="2" selected>第2章 命を守る危機管理</option>' in form
    assert re.findall(r'<select name="rating" id="id_rating">(.*?)</select>', form) == [
        '<option value="" selected>すべての評価</option><option value="A">A 完了</option>'
        '<option value="B">B 実施中</option><option value="C">C 着手</option>'
        '<option value="D">D 未着手</option>'
    ]
    assert 'value="ＤＸ"' in form
    described = re.search(r'<input[^>]*aria-describedby="([^"]+)"', form)[1]
    assert f'<p class="filters__help" id="{described}">' in form
    # A chapter that does not exist: no option is selected (nor made up).
    html = client.get("/items/", {"chapter": "99"}).content.decode()
    attributes, select = re.search(
        r'<select name="chapter" id="id_chapter"([^>]*)>(.*?)</select>', html
    ).groups()
    assert "selected" not in select and 'value="99"' not in select
    assert 'aria-invalid="true"' in attributes


def test_items_keyword_matches_titles_pledge_text_and_notes(client, report_2022):
    # Sub-item title.
    assert item_rows(client.get("/items/", {"q": "コーチングの実施"})) == ["29-2"]
    # Pledge text (内容) only.
    assert item_rows(client.get("/items/", {"q": "ブラインド演習"})) == ["6-2"]
    # A progress note only.
    assert item_rows(client.get("/items/", {"q": "朝日奈央"})) == ["14-2"]
    # Pledge title: both sub-items of pledge 26.
    assert item_rows(client.get("/items/", {"q": "GIGAスクール構想の推進"})) == ["26-1", "26-2"]


def test_items_keywords_separated_by_spaces_must_all_match(client, report_2022):
    assert set(item_rows(client.get("/items/", {"q": "SDGs"}))) >= {"28-1", "28-2"}
    assert item_rows(client.get("/items/", {"q": "SDGs　パートナー制度"})) == ["28-2"]


def test_items_rejects_an_unknown_rating_with_a_message_not_a_crash(client, report_2022):
    response = client.get("/items/", {"rating": "Z"})
    assert response.status_code == 200
    assert item_rows(response) == []
    assertContains(response, 'class="filters__error"')
    # The select says it is invalid and which message tells why.
    html = response.content.decode()
    select = re.search(r'<select name="rating" id="id_rating"([^>]*)>', html)[1]
    assert 'aria-invalid="true"' in select
    described = re.search(r'aria-describedby="([^"]+)"', select)[1]
    assert re.search(f'<p class="filters__error" id="{described}" role="alert">', html)
    assert client.get("/items/", {"chapter": "9"}).status_code == 200


def test_items_keyword_too_long_is_marked_invalid_with_its_help_and_error(client, report_2022):
    html = client.get("/items/", {"q": "あ" * 201}).content.decode()
    field = re.search(r'<input type="text" name="q"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field and 'maxlength="200"' in field
    assert 'aria-describedby="id_q_helptext id_q_error"' in field
    assert '<p class="filters__error" id="id_q_error" role="alert">' in html
    # Valid input is not marked.
    html = client.get("/items/", {"q": "DX"}).content.decode()
    assert "aria-invalid" not in html


def test_items_sort_by_rating_and_back(client, report_2022):
    ascending = item_rows(client.get("/items/", {"sort": "rating"}))
    assert ascending[:8] == ["1-1", "1-2", "13-2", "18-1", "18-2", "24-2", "26-2", "29-1"]
    descending = item_rows(client.get("/items/", {"sort": "-rating"}))
    assert descending[0] == "28-2"  # the last C
    pledge_desc = item_rows(client.get("/items/", {"sort": "-pledge"}))
    assert pledge_desc[:2] == ["30-2", "30-1"]


def test_items_filter_state_is_kept_when_switching_report(client, report_2023):
    html = client.get("/items/", {"rating": "C", "q": "SDGs", "report": "2022-03"}).content.decode()
    selector = html[html.index('class="report-selector"') : html.index("</form>")]
    assert '<input type="hidden" name="rating" value="C">' in selector
    assert '<input type="hidden" name="q" value="SDGs">' in selector


def test_items_csv_downloads_the_filtered_rows_with_a_bom(client, report_2022):
    page = client.get("/items/", {"rating": "C", "chapter": "1"})
    assertContains(page, 'href="/items.csv?chapter=1&amp;rating=C&amp;report=2022-03"')

    response = client.get("/items.csv", {"rating": "C", "chapter": "1"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="iruma-pledge-items-2022-03.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:7] == ["章", "章名", "公約番号", "分野", "公約", "項目番号", "項目"]
    assert [row[5] for row in rows[1:]] == ["3①", "3②", "4①"]
    four_one = rows[3]
    assert four_one[9:11] == ["C", "着手"]
    assert four_one[8].split("\n") == [
        "・高齢者向け交通と福祉を連携させた産官学連携「ASOVO事業」を実施",
        "・埼玉県AIコンソーシアム制度の研究",
    ]
    assert four_one[11].startswith("※1：4①産官学連携")


def test_items_csv_of_everything_has_sixty_rows(client, report_2022):
    assert len(csv_rows(client.get("/items.csv"))) == 61


def test_every_report_page_offers_the_shown_reports_downloads(client, report_2023):
    for url in ("/", "/chapters/1/", "/pledges/1/", "/items/"):
        response = client.get(url, {"report": "2022-03"})
        for href in ("/export/2022-03.xlsx", "/export/2022-03.csv", "/export/2022-03.json"):
            assertContains(response, f'href="{href}"')
    assertNotContains(client.get("/chapters/99/"), "/export/", status_code=404)


def test_items_csv_never_turns_a_cell_into_a_formula(client, report_2022):
    SubItem.objects.filter(pledge__number=1, position=1).update(title="=HYPERLINK(\"x\")")
    rows = csv_rows(client.get("/items.csv", {"chapter": "1"}))
    assert rows[1][6] == "'=HYPERLINK(\"x\")"


def test_items_csv_rejects_bad_filters_with_a_clear_message(client, report_2022):
    response = client.get("/items.csv", {"rating": "Z"})
    assert response.status_code == 400
    assert "rating" in response.content.decode()


# --------------------------------------------------------------------------------------------
# Markup a strict CSP and assistive technology can live with


MAIN_PAGES = ("/", "/chapters/1/", "/pledges/28/", "/items/", "/pledges/99/")


def test_pages_have_no_inline_style_or_script_and_no_foreign_assets(client, report_2022):
    for url in MAIN_PAGES:
        html = client.get(url).content.decode()
        assert " style=" not in html and "<style" not in html, url
        assert "<script" not in html, url
        assert re.findall(r'(?:href|src)="(https?:)?//', html) == [], url
        assert '<link rel="stylesheet" href="/static/pledges/site.css">' in html


def test_pages_have_landmarks_and_one_h1(client, report_2022):
    for url in MAIN_PAGES:
        html = client.get(url).content.decode()
        assert html.count("<h1") == 1, url
        for landmark in ('<header class="site-header">', '<main id="main"', "<footer", "<nav"):
            assert landmark in html, (url, landmark)
        assert '<a class="skip-link" href="#main">本文へ移動</a>' in html


# --------------------------------------------------------------------------------------------
# Error pages


def test_500_page_uses_the_site_layout_without_context():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "エラーが発生しました" in html
    assert 'class="site-name"' in html


def test_only_get_is_allowed(client, report_2022):
    for url in ("/", "/chapters/1/", "/pledges/1/", "/items/", "/items.csv"):
        assert client.post(url).status_code == 405, url


# --------------------------------------------------------------------------------------------
# Query counts


PAGES = ("/", "/chapters/1/", "/pledges/4/", "/pledges/28/", "/items/", "/items/?rating=C&q=取組")


def test_pages_run_at_most_six_queries_on_the_real_table(
    client, report_2022, django_assert_max_num_queries
):
    for url in PAGES:
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200


def test_pages_run_at_most_six_queries_at_two_thousand_sub_items(
    client, report_2022, django_assert_max_num_queries
):
    loading.load_table(generated_table(sub_items=2000), same_manifesto=True)
    assert SubItem.objects.filter(pledge__chapter__report__as_of__year=2030).count() == 2000
    for url in ("/", "/chapters/1/", "/pledges/4/", "/items/", "/items/?rating=C&q=テスト"):
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200
    # The newest report is the generated one: its chapter 1 holds 200 sub-items.
    assert client.get("/chapters/1/").content.decode().count('<article class="item"') == 200


def test_a_blank_rating_shows_as_unrated(client, report_2022):
    set_rating(report_2022, 1, 2, "")
    html = client.get("/pledges/1/").content.decode()
    assert '<span class="badge badge--none">未評価</span>' in html[html.index('id="item-1-2"') :]
    assertContains(client.get("/"), "未評価の項目が1件あります。")


def test_a_sub_item_without_assessment_does_not_break_the_pages(client, report_2022):
    Assessment.objects.filter(sub_item__pledge__number=1, sub_item__position=2).delete()
    for url in ("/", "/chapters/1/", "/pledges/1/", "/items/", "/items.csv"):
        assert client.get(url).status_code == 200, url
    html = client.get("/pledges/1/").content.decode()
    assert '<span class="badge badge--none">未評価</span>' in html[html.index('id="item-1-2"') :]


@pytest.mark.parametrize(
    "url",
    [
        "/chapters/99999999999999999999/",
        "/pledges/99999999999999999999/",
        "/items/?page=999",
        "/items/?page=abc",
        "/items/?sort=bogus",
        "/items/?chapter=abc",
        "/items/?q=%00",
        "/items.csv?q=%00",
    ],
)
def test_odd_input_never_crashes(client, report_2022, url):
    assert client.get(url).status_code in {200, 400, 404}



def test_a_crafted_keyword_query_is_answered_cheaply(client, report_2022,
                                                     django_assert_max_num_queries):
    many_words = " ".join(f"x{n}" for n in range(1200))
    assert client.get("/items/", {"q": many_words}).status_code == 200
    assert client.get("/items.csv", {"q": many_words}).status_code == 400
    eight_words = " ".join(["デジタル"] * 20)
    with django_assert_max_num_queries(6):
        response = client.get("/items/", {"q": eight_words})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/chapters/1/", "/pledges/1/", "/items/", "/changes/", "/api/summary.json",
             "/export/2022-03.csv"],
)
def test_pages_answer_head_requests_for_monitors_and_link_checkers(client, report_2022, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response["ETag"]
    assert response.content == b""


# --------------------------------------------------------------------------------------------
# Following updates


def test_menu_leads_to_a_page_explaining_the_feed_not_to_raw_xml(client, report_2022):
    html = client.get("/").content.decode()
    assert '<a href="/follow/">更新を受け取る</a>' in html
    assert 'href="/feed/" type="application/atom+xml">' not in html.split("<main")[0]
    # Browsers and readers still discover the feed itself.
    assert '<link rel="alternate" type="application/atom+xml" href="/feed/"' in html


def test_follow_page_gives_the_absolute_feed_address_from_site_url(client, report_2022, settings):
    settings.SITE_URL = "https://pledges.example.jp"
    response = client.get("/follow/", HTTP_HOST="localhost")
    assertContains(response, 'value="https://pledges.example.jp/feed/" readonly')
    assertContains(response, "フィードリーダー")
    assert client.get("/feed/")["Content-Type"].startswith("application/atom+xml")


def test_items_can_be_sorted_from_the_form_as_on_a_phone(client, report_2022):
    page = client.get("/items/", {"sort": "-rating"}).content.decode()
    assert '<label for="id_sort">並べ替え</label>' in page
    assert '<option value="-rating" selected>評価の逆順</option>' in page
    descending = item_rows(client.get("/items/", {"sort": "-rating"}))
    assert descending == item_rows(client.get("/items/", {"sort": "rating"}))[::-1]
    assert descending[0] == "28-2"  # the last C (the least advanced rating of 2022) by pledge
