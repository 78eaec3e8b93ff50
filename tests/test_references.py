"""Sub-item references (``28②``) found in free text such as footnotes."""

from __future__ import annotations

from pledges.references import find_references, split_references

REAL_FOOTNOTE = (
    "4①産官学連携「入間市IoT共創コンソーシアム」の創設及び28①SDGsをまちづくりに活かす条例の制定は、"
    "28②入間SDGsパートナー制度の創設に統合して実施することとしました。"
)


def test_finds_every_reference_in_the_real_footnote_in_order():
    assert [(ref.text, ref.key) for ref in find_references(REAL_FOOTNOTE)] == [
        ("4①", (4, 1)),
        ("28①", (28, 1)),
        ("28②", (28, 2)),
    ]


def test_reads_circled_numbers_beyond_twenty():
    assert [ref.key for ref in find_references("3㉑と12㊿")] == [(3, 21), (12, 50)]


def test_a_circled_number_without_a_pledge_number_is_not_a_reference():
    assert find_references("①から③までを実施") == []


def test_a_longer_number_is_not_read_as_its_tail():
    assert [ref.key for ref in find_references("12345①")] == []
    assert [ref.key for ref in find_references("第128②")] == [(128, 2)]


def test_split_keeps_the_text_whole_and_marks_the_references():
    pieces = split_references(REAL_FOOTNOTE)
    assert "".join(text for text, _ref in pieces) == REAL_FOOTNOTE
    assert [text for text, ref in pieces if ref is not None] == ["4①", "28①", "28②"]
    assert pieces[1] == ("産官学連携「入間市IoT共創コンソーシアム」の創設及び", None)


def test_split_of_text_without_references_is_the_text():
    assert split_references("参照なし") == [("参照なし", None)]
    assert split_references("") == []
