"""Keyword search on /items/ as Japanese readers type (pledges.search, filters, the table).

Runs on whichever database the suite runs on (SQLite, and PostgreSQL in CI with DATABASE_URL):
the database folds the text, so each must find the same sub-items.
"""

from __future__ import annotations

import re

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from pledges import search
from pledges.models import Pledge, ProgressNote, Report, SubItem

from .lookups import assessment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]

# Text that folds in every way search folds: full/half width, case, kana, voiced marks.
AWKWARD = [
    "ＤＸ推進", "ｄｘ", "Dx", "ﾃﾞｼﾞﾀﾙ", "でじたる", "デジタル", "ｶﾞｲﾄﾞ", "ゔぃ", "ゝゞ", "①②",
    "ＳＤＧｓ", "Ä ß", "㍻", "ﾊﾟｰﾄﾅｰ", "（仮称）", "１０円", "\u3000全角空白",
]


def rows(client, **query: str) -> list[str]:
    """The /items/ rows (``<pledge>-<position>``) for ``query``, in order."""
    response = client.get("/items/", query)
    assert response.status_code == 200
    return re.findall(r'<tr id="row-(\d+-\d+)"', response.content.decode())


# -- what matches what -------------------------------------------------------------------------


def test_fold_makes_widths_cases_and_kana_alike() -> None:
    assert search.fold("ＤＸ") == search.fold("DX") == search.fold("dx") == "dx"
    assert search.fold("でじたる") == search.fold("ﾃﾞｼﾞﾀﾙ") == search.fold("デジタル") == "デジタル"
    assert search.fold("ゝゞ") == "ヽヾ"


@pytest.mark.parametrize("typed", ["DX", "dx", "ＤＸ", "ｄｘ", "Dx"])
def test_dx_in_any_width_and_case_finds_the_notes_that_say_dx(client, typed: str) -> None:
    found = rows(client, q=typed)
    assert found == rows(client, q="DX")
    assert {"1-1", "1-2", "29-1"} <= set(found)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("くれじっと", ["2-2"]),  # a note only: 「オンライン申請におけるクレジット決済を導入」
        ("ｸﾚｼﾞｯﾄ", ["2-2"]),  # half-width katakana, voiced marks apart
        ("こーちんぐの実施", ["29-2"]),  # a sub-item title
        ("ぶらいんど演習", ["6-2"]),  # pledge text (内容) only
        ("gigaすくーる", ["26-1", "26-2"]),  # the pledge title: both of its sub-items
        ("ｓｄｇｓ　ぱーとなー制度", ["28-2"]),  # two keywords, each folded
        ("ヒトリ取リ残サズ", ["28-1"]),  # katakana finds 「誰ひとり取り残さず」
    ],
)
def test_hiragana_and_half_width_find_what_is_written_in_katakana(
    client, typed: str, expected: list[str]
) -> None:
    assert rows(client, q=typed) == expected


def test_text_stored_in_full_width_is_found_by_half_width_keywords(
    client, report_2022: Report
) -> None:
    ProgressNote.objects.filter(assessment=assessment(report_2022, 5, 1)).update(
        text="ＡＩオンデマンド交通のﾃﾞﾓ運行を実施"
    )
    assert rows(client, q="ai でも運行") == ["5-1"]
    # The stored text is left as the city wrote it.
    assert ProgressNote.objects.filter(text="ＡＩオンデマンド交通のﾃﾞﾓ運行を実施").count() == 1


def test_keywords_are_literal_text_not_patterns(client) -> None:
    assert rows(client, q="42.04%") == ["2-1"]  # 「マイナンバーカード交付率 42.04%」
    assert rows(client, q="4_.04") == []
    assert rows(client, q="42%04") == []


def test_the_database_folds_every_text_of_the_real_table_as_python_does(
    report_2022: Report,
) -> None:
    # On SQLite the database calls search.fold itself; this holds PostgreSQL's own functions
    # to the same result, so that both databases find the same sub-items.
    stored = [
        *SubItem.objects.annotate(folded=search.Fold("title")).values_list("title", "folded"),
        *SubItem.objects.annotate(folded=search.Fold("content")).values_list("content", "folded"),
        *Pledge.objects.annotate(folded=search.Fold("title")).values_list("title", "folded"),
        *ProgressNote.objects.annotate(folded=search.Fold("text")).values_list("text", "folded"),
    ]
    assert len(stored) > 250
    typed = [
        (text, SubItem.objects.annotate(folded=search.folded(text)).values_list(
            "folded", flat=True)[0])
        for text in AWKWARD
    ]
    assert [(text, folded) for text, folded in stored + typed if folded != search.fold(text)] == []


# -- why a sub-item matched ----------------------------------------------------------------------


def test_a_keyword_search_shows_the_matching_note_with_the_keyword_marked(client) -> None:
    response = client.get("/items/", {"q": "くれじっと"})
    assertContains(response, "一致した箇所")
    assertContains(
        response,
        '<p class="match"><span class="match__field">取組状況</span> '
        "オンライン申請における<mark>クレジット</mark>決済を導入</p>",
        html=True,
    )


def test_a_long_text_is_cut_around_the_keyword(client) -> None:
    response = client.get("/items/", {"q": "ぶらいんど演習"})
    body = response.content.decode()
    (shown,) = re.findall(r'<span class="match__field">内容</span> (.*?)</p>', body)
    assert "<mark>ブラインド演習</mark>" in shown
    assert len(re.sub(r"<[^>]+>", "", shown)) <= search.EXCERPT_LENGTH + 2


def test_without_a_keyword_the_table_has_no_match_column(client) -> None:
    assertNotContains(client.get("/items/"), "一致した箇所")
    assertNotContains(client.get("/items/", {"chapter": "1"}), "<mark>")


def test_a_search_and_a_plain_table_built_together_keep_their_own_columns(rf) -> None:
    from pledges.tables import SortedIds, SubItemTable
    from pledges.views import item_queryset

    report = Report.objects.get()
    searched, plain = (
        SubItemTable(SortedIds(item_queryset(report)), report=report) for _ in range(2)
    )
    searched.before_render(rf.get("/items/", {"q": "くれじっと"}))
    plain.before_render(rf.get("/items/"))
    assert [column.name for column in searched.columns][-1] == "match"
    assert "match" not in [column.name for column in plain.columns]
    assert SubItemTable.base_columns["match"].visible  # the class's own column is untouched


def test_excerpt_escapes_the_text_and_marks_every_keyword() -> None:
    assert search.excerpt("<b>ＤＸ</b>とdx", ["dx"]) == (
        "&lt;b&gt;<mark>ＤＸ</mark>&lt;/b&gt;と<mark>dx</mark>"
    )
    assert search.excerpt("ﾃﾞｼﾞﾀﾙ化", ["でじたる"]) == "<mark>ﾃﾞｼﾞﾀﾙ</mark>化"
    assert search.excerpt("関係のない文", ["dx"]) is None
