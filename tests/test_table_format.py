"""The published table's text format: what the parser accepts, refuses, and writes back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledges.ratings import IRUMA
from pledges.table_format import (
    ChapterEntry,
    FootnoteEntry,
    ParseError,
    PledgeEntry,
    SubItemEntry,
    Table,
    TotalEntry,
    join_notes,
    month_label,
    parse_bytes,
    parse_table,
    percent_of,
    split_notes,
    write_table,
)


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def with_line(text: str, number: int, new: str | None) -> str:
    """``text`` with line ``number`` (1-based) replaced, or removed when ``new`` is None."""
    lines = lines_of(text)
    if new is None:
        del lines[number - 1]
    else:
        lines[number - 1] = new
    return "\n".join(lines)


def line_number(text: str, startswith: str) -> int:
    return next(i for i, line in enumerate(lines_of(text), 1) if line.startswith(startswith))


def item(table: Table, pledge: int, position: int) -> SubItemEntry:
    return table.pledges[pledge - 1].sub_items[position - 1]


class TestRealTable:
    def test_has_six_chapters_thirty_pledges_sixty_sub_items(self, real_table):
        assert len(real_table.chapters) == 6
        assert len(real_table.pledges) == 30
        assert len(real_table.sub_items) == 60
        assert [c.number for c in real_table.chapters] == [1, 2, 3, 4, 5, 6]
        assert [p.number for p in real_table.pledges] == list(range(1, 31))

    def test_title_and_as_of_month(self, real_table):
        assert real_table.title == "市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】"
        assert real_table.as_of == date(2022, 3, 1)

    def test_counts_per_rating(self, real_table):
        assert real_table.rating_counts() == {"A": 8, "B": 28, "C": 24, "D": 0}

    def test_stated_totals_as_printed(self, real_table):
        assert [(t.rating, t.count, t.percent) for t in real_table.stated_totals] == [
            ("A", 8, Decimal("13.33")),
            ("B", 28, Decimal("46.67")),
            ("C", 24, Decimal("40.00")),
            ("D", 0, Decimal("0.00")),
        ]

    def test_chapters_with_a_leading_tab_header_and_no_tabs_parse_alike(self, real_table):
        chapter_4 = real_table.chapters[3]
        assert chapter_4.title == "活力ある地域づくり"
        assert [p.number for p in chapter_4.pledges] == list(range(11, 17))

    def test_pledge_field_and_title(self, real_table):
        first = real_table.pledges[0]
        assert first.field == "デジタル"
        assert first.title == "デジタル未来都市推進部門の設置 & 特命人材の公募"

    def test_footnote_marker_on_4_1_and_28_1_with_its_text(self, real_table):
        marked = [
            (pledge.number, sub.position)
            for pledge in real_table.pledges
            for sub in pledge.sub_items
            if sub.footnote
        ]
        assert marked == [(4, 1), (28, 1)]
        assert item(real_table, 4, 1).footnote == "※1"
        assert item(real_table, 4, 1).rating == "C"
        assert item(real_table, 28, 1).rating == "B"
        (footnote,) = real_table.footnotes
        assert footnote.marker == "※1"
        assert footnote.text.startswith("4①産官学連携「入間市IoT共創コンソーシアム」の創設及び28①")
        assert footnote.text.endswith(
            "28②入間SDGsパートナー制度の創設に統合して実施することとしました。"
        )

    def test_empty_notes_on_4_2_and_10_2(self, real_table):
        assert item(real_table, 4, 2).notes == ()
        assert item(real_table, 10, 2).notes == ()

    def test_four_notes_on_2_1(self, real_table):
        assert item(real_table, 2, 1).notes == (
            "マイナンバーカード交付率 42.04%(3月31日現在)",
            "令和3年8月にマイナンバーカードセンターを設置し、交付窓口を拡大",
            "令和3年8月から、本庁舎及び支所において申請時に来庁すれば郵便でカードを受け取れる"
            "「おうち受取プラン(申請時来庁方式)」を開始",
            "令和4年2月から、コンビニ交付サービスの発行手数料10円",
        )

    def test_three_notes_on_2_2_keep_an_inner_bullet_inside_its_note(self, real_table):
        notes = item(real_table, 2, 2).notes
        assert len(notes) == 3
        assert "財務会計システム・文書管理システム・庶務事務システム" in notes[1]

    def test_one_note_on_1_2_with_its_inner_bullet(self, real_table):
        assert item(real_table, 1, 2).notes == (
            "外部人材として政策参与(自治体DX・行政改革)を令和3年4月から登用",
        )

    def test_notes_without_a_bullet_are_one_unbulleted_note(self, real_table):
        sub = item(real_table, 15, 2)
        assert len(sub.notes) == 1
        assert sub.notes[0].startswith("入間ロケーションサービスとして")
        assert sub.notes_bulleted is False

    def test_japanese_text_is_kept_exactly(self, real_text, real_table):
        sub = item(real_table, 1, 1)
        assert sub.marker == "①"
        assert sub.title == "デジタル未来都市推進部門の設置"
        assert f"①{sub.title}\t{sub.content}\t" in real_text


class TestAcceptedVariations:
    def test_crlf_line_endings_and_a_bom(self, real_bytes, real_table):
        data = b"\xef\xbb\xbf" + real_bytes.replace(b"\n", b"\r\n")
        assert parse_bytes(data) == real_table

    def test_trailing_tabs_blank_lines_and_leading_header_tabs(self, real_text, real_table):
        text = real_text.replace("\n", "\n\t\t\n").replace(
            "内容\t取組状況\t評価", "\t内容\t取組状況\t評価\t"
        )
        assert parse_table(text) == real_table

    def test_marker_after_the_rating(self, real_text):
        text = real_text.replace("※1 C 着手", "C 着手 ※1")
        table = parse_table(text)
        assert (item(table, 4, 1).rating, item(table, 4, 1).footnote) == ("C", "※1")

    def test_reiwa_gannen_and_a_later_year(self, real_text):
        assert parse_table(real_text.replace("令和4年3月", "令和5年3月")).as_of == date(2023, 3, 1)
        assert parse_table(real_text.replace("令和4年3月", "令和元年9月")).as_of == date(2019, 9, 1)

    def test_a_footnote_nobody_refers_to_is_kept(self, real_text):
        text = real_text.replace("\n\n\t評価\t公約数", "\n※2：新しい注記\n\n\t評価\t公約数")
        assert [f.marker for f in parse_table(text).footnotes] == ["※1", "※2"]


class TestRefusals:
    """Every refusal names the line, the value and what was expected."""

    def refuse(self, text: str | bytes) -> ParseError:
        with pytest.raises(ParseError) as caught:
            parse_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return caught.value

    def test_rejects_unknown_rating_with_its_line(self, real_text):
        number = line_number(real_text, "①企業誘致戦略の策定")
        text = with_line(
            real_text, number, lines_of(real_text)[number - 1].replace("C 着手", "E 着手")
        )
        error = self.refuse(text)
        assert error.line == number
        assert error.value == "E 着手"
        assert "A 完了, B 実施中, C 着手, D 未着手" in error.message

    def test_rejects_a_label_that_does_not_match_its_letter(self, real_text):
        number = line_number(real_text, "①企業誘致戦略の策定")
        text = with_line(
            real_text, number, lines_of(real_text)[number - 1].replace("C 着手", "C 完了")
        )
        error = self.refuse(text)
        assert (error.line, error.value) == (number, "C 完了")
        assert "expected 'C 着手'" in error.message

    def test_rejects_a_truncated_file_without_totals(self, real_text):
        text = "\n".join(lines_of(real_text)[:100])
        error = self.refuse(text)
        assert "totals" in error.message

    def test_rejects_a_missing_chapter(self, real_text):
        number = line_number(real_text, "第2章")
        error = self.refuse(with_line(real_text, number, None))
        assert error.line == line_number(real_text, "第3章") - 1
        assert "expected 第2章" in error.message

    def test_rejects_a_missing_pledge(self, real_text):
        number = line_number(real_text, "5:【コロナ】")
        text = "\n".join(
            line for i, line in enumerate(lines_of(real_text), 1) if not number <= i <= number + 3
        )
        error = self.refuse(text)
        assert error.line == number
        assert "expected pledge 5" in error.message

    def test_rejects_a_duplicate_pledge_number(self, real_text):
        number = line_number(real_text, "3:【デジタル】")
        text = with_line(real_text, number, lines_of(real_text)[number - 1].replace("3:", "2:", 1))
        error = self.refuse(text)
        assert error.line == number
        assert "expected pledge 3" in error.message

    def test_rejects_sub_items_out_of_order(self, real_text):
        number = line_number(real_text, "②3レス市役所")
        text = with_line(real_text, number, "③" + lines_of(real_text)[number - 1][1:])
        error = self.refuse(text)
        assert error.line == number
        assert "expected ②" in error.message

    def test_rejects_a_row_with_missing_fields(self, real_text):
        number = line_number(real_text, "②3レス市役所")
        title, content, *_ = lines_of(real_text)[number - 1].split("\t")
        error = self.refuse(with_line(real_text, number, f"{title}\t{content}"))
        assert error.line == number
        assert "2 of 4 fields" in error.message

    def test_rejects_a_row_without_rating(self, real_text):
        number = line_number(real_text, "②3レス市役所")
        row = lines_of(real_text)[number - 1]
        error = self.refuse(with_line(real_text, number, row.rsplit("\t", 1)[0] + "\t"))
        assert error.line == number
        assert "評価 (rating) is missing" in error.message

    def test_rejects_a_footnote_marker_with_no_footnote(self, real_text):
        number = line_number(real_text, "※1：")
        error = self.refuse(with_line(real_text, number, None))
        assert error.line == line_number(real_text, "①産官学連携")
        assert error.value == "※1"

    def test_rejects_a_file_that_is_not_utf8(self, real_text):
        data = real_text.encode("utf-8")
        data = data[:200] + b"\xff" + data[200:]
        error = self.refuse(data)
        assert error.line == data[:200].count(b"\n") + 1
        assert "not UTF-8" in error.message

    def test_rejects_shift_jis_text(self, real_text):
        error = self.refuse(real_text.encode("shift_jis", errors="replace"))
        assert "not UTF-8" in error.message

    @pytest.mark.parametrize("text", ["", "\n\n", " \t \r\n"])
    def test_rejects_an_empty_file(self, text):
        error = self.refuse(text)
        assert error.line == 1
        assert "empty file" in error.message

    def test_rejects_stated_totals_that_disagree_with_the_count(self, real_text):
        number = line_number(real_text, "13.33%")
        error = self.refuse(with_line(real_text, number, "13.33%\tA 完了\t9"))
        assert error.line == number
        assert "A 完了" in error.message
        assert "is 9" in error.message
        assert "has 8" in error.message

    def test_rejects_a_stated_percent_that_disagrees(self, real_text):
        number = line_number(real_text, "40.00%")
        error = self.refuse(with_line(real_text, number, "41.00%\tC 着手\t24"))
        assert error.line == number
        assert "24/60 is 40.00%" in error.message

    def test_rejects_a_totals_table_missing_a_rating(self, real_text):
        text = with_line(real_text, line_number(real_text, "0.00%"), None)
        error = self.refuse(text)
        assert "missing rating(s) D" in error.message

    def test_rejects_a_title_without_its_month(self, real_text):
        number = line_number(real_text, "市長公約")
        error = self.refuse(with_line(real_text, number, "市長公約(政策宣言)進捗状況一覧表"))
        assert error.line == number
        assert "【令和N年M月現在】" in error.message

    def test_rejects_a_line_it_does_not_understand(self, real_text):
        number = line_number(real_text, "第3章")
        text = with_line(real_text, number, "第3章 価値を生み出す行政改革\n何かの説明文")
        error = self.refuse(text)
        assert error.line == number + 1
        assert error.value == "何かの説明文"


    def test_a_huge_value_is_quoted_by_its_start_and_length_only(self, real_text):
        number = line_number(real_text, "第3章")
        huge = "説明" * 5_000_000  # 10 million characters, a 30 MB line
        error = self.refuse(with_line(real_text, number, f"第3章 価値を生み出す行政改革\n{huge}"))
        assert error.value == huge
        assert str(error).endswith(f" (found '{'説明' * 20}'… (10,000,000 characters))")
        assert len(error.located("table.txt")) < 200

    def test_a_short_value_is_quoted_whole(self):
        assert ParseError(3, "bad", value="x" * 40).detail == f"bad (found '{'x' * 40}')"

    @pytest.mark.parametrize(
        ("old", "new"),
        [("第2章", "第" + "2" * 5000 + "章"), ("\n2:【", "\n" + "2" * 5000 + ":【")],
        ids=["chapter", "pledge"],
    )
    def test_rejects_a_number_with_thousands_of_digits(self, real_text, old, new):
        error = self.refuse(real_text.replace(old, new, 1))
        assert error.line == line_number(real_text, old.strip("\n"))
        assert len(str(error)) < 300

    def test_rejects_a_count_with_thousands_of_digits(self, real_text):
        number = line_number(real_text, "13.33%")
        error = self.refuse(real_text.replace("\tA 完了\t8", "\tA 完了\t" + "8" * 5000))
        assert (error.line, error.message) == (number, "count must be a whole number")

class TestWriting:
    def test_round_trip_gives_the_same_lines(self, real_text, real_table):
        def significant(text: str) -> list[str]:
            return [line.strip() for line in text.splitlines() if line.strip()]

        assert significant(write_table(real_table)) == significant(real_text)

    def test_round_trip_gives_the_same_table(self, real_table):
        assert parse_table(write_table(real_table)) == real_table


class TestRules:
    @pytest.mark.parametrize(
        ("count", "total", "expected"),
        [
            (8, 60, "13.33"),
            (28, 60, "46.67"),
            (24, 60, "40.00"),
            (0, 60, "0.00"),
            (1, 8, "12.50"),
            (1, 200, "0.50"),
            (1, 400, "0.25"),
            (1, 0, "0.00"),
        ],
    )
    def test_percent_is_rounded_half_up_to_two_decimals(self, count, total, expected):
        assert percent_of(count, total) == Decimal(expected)

    @pytest.mark.parametrize(
        ("cell", "notes", "bulleted"),
        [
            ("", (), True),
            ("・a ・b", ("a", "b"), True),
            ("・政策参与(自治体DX・行政改革)", ("政策参与(自治体DX・行政改革)",), True),
            ("保育ステーション ・設置", ("保育ステーション ・設置",), False),
            ("・a\u3000・b", ("a", "b"), True),
        ],
    )
    def test_split_notes(self, cell, notes, bulleted):
        assert split_notes(cell) == (notes, bulleted)

    def test_month_labels(self):
        assert month_label(date(2022, 3, 1)) == "令和4年3月"
        assert month_label(date(2019, 5, 1)) == "令和元年5月"
        assert month_label(date(2019, 4, 1)) == "平成31年4月"


# ---------------------------------------------------------------------------------------------
# Property: any table the model can hold survives write → parse unchanged.

# Text a cell can hold: no tabs or line breaks, no surrounding white space.
_cell_alphabet = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"),
)
cell_text = st.text(_cell_alphabet, min_size=1, max_size=12).filter(
    lambda s: s == s.strip() and s[:1] not in "・"
)
# A note must not contain a bullet that follows white space (that would start a new note).
note_text = (
    st.lists(cell_text, min_size=1, max_size=3).map(" ".join).filter(lambda s: s[:1] != "・")
)


@st.composite
def sub_items(draw, position: int, markers: list[str]) -> SubItemEntry:
    notes = tuple(draw(st.lists(note_text, max_size=4)))
    bulleted = True if len(notes) != 1 else draw(st.booleans())
    return SubItemEntry(
        position=position,
        title=draw(cell_text.filter(lambda s: not s.startswith(("※",)))),
        content=draw(cell_text),
        notes=notes,
        rating=draw(st.sampled_from(IRUMA.codes)),
        footnote=draw(st.sampled_from([None, *markers])),
        notes_bulleted=bulleted,
    )


@st.composite
def tables(draw) -> Table:
    markers = [f"※{n}" for n in range(1, draw(st.integers(0, 2)) + 1)]
    chapters = []
    pledge_number = 0
    for chapter_number in range(1, draw(st.integers(1, 3)) + 1):
        pledges = []
        for _ in range(draw(st.integers(1, 3))):
            pledge_number += 1
            count = draw(st.integers(1, 3))
            items = tuple(draw(sub_items(position, markers)) for position in range(1, count + 1))
            pledges.append(
                PledgeEntry(
                    pledge_number,
                    draw(cell_text.filter(lambda s: "】" not in s)),
                    draw(cell_text),
                    items,
                )
            )
        chapters.append(ChapterEntry(chapter_number, draw(cell_text), tuple(pledges)))
    year = draw(st.integers(2020, 2040))
    as_of = date(year, draw(st.integers(1, 12)), 1)
    table = Table(
        title=f"市長公約(政策宣言)進捗状況一覧表【{month_label(as_of)}現在】",
        as_of=as_of,
        chapters=tuple(chapters),
        footnotes=tuple(FootnoteEntry(marker, draw(cell_text)) for marker in markers),
        stated_totals=(),
    )
    counts = table.rating_counts()
    total = sum(counts.values())
    totals = tuple(
        TotalEntry(code, counts[code], percent_of(counts[code], total)) for code in IRUMA.codes
    )
    return replace(table, stated_totals=totals)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_generated_tables_survive_write_then_parse(table):
    assert parse_table(write_table(table)) == table


@given(st.lists(note_text, min_size=2, max_size=5))
def test_join_then_split_notes_is_identity(notes):
    assert split_notes(join_notes(notes)) == (tuple(notes), True)
