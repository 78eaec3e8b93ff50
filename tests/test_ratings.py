"""pledges.ratings: a scale is data, and everything about a rating is asked of it."""

from __future__ import annotations

import pytest

from pledges.ratings import IRUMA, TONES, Scale

FIVE = Scale.of([("5", "達成"), ("4", "概ね達成"), ("3", "進行中"), ("2", "遅れ"), ("1", "未着手")])
SYMBOLS = Scale.of([("◎", "達成済"), ("○", "取組中"), ("△", "未着手")])


def test_the_city_scale_has_four_levels_best_first() -> None:
    assert [level.text for level in IRUMA] == ["A 完了", "B 実施中", "C 着手", "D 未着手"]
    assert IRUMA.best.code == "A"
    assert IRUMA.legend() == "A 完了・B 実施中・C 着手・D 未着手"


@pytest.mark.parametrize(
    ("scale", "tones"),
    [(IRUMA, [0, 1, 3, 4]), (FIVE, [0, 1, 2, 3, 4]), (SYMBOLS, [0, 2, 4])],
)
def test_tones_spread_any_scale_from_best_to_last(scale: Scale, tones: list[int]) -> None:
    assert [level.tone for level in scale] == tones
    assert all(0 <= level.tone < TONES for level in scale)
    assert scale.best.css_class == "tone-0"


def test_progress_grows_towards_the_best_level_and_blank_has_none() -> None:
    assert [IRUMA.progress(code) for code in "DCBA"] == [0, 1, 2, 3]
    assert IRUMA.progress("") is None and IRUMA.progress("E") is None
    assert SYMBOLS.progress("◎") == 2


@pytest.mark.parametrize(
    ("typed", "code"),
    [("A", "A"), ("a", "A"), ("Ａ", "A"), ("A完了", "A"), ("Ａ　完了", "A"), ("A 完了", "A"),
     ("完了", "A"), ("d 未着手", "D"), ("未着手", "D")],
)
def test_read_takes_what_clerks_type(typed: str, code: str) -> None:
    assert IRUMA.read(typed).code == code


@pytest.mark.parametrize("typed", ["", "E", "A 着手", "AB", "完了済", "B完了"])
def test_read_refuses_what_names_no_single_level(typed: str) -> None:
    assert IRUMA.read(typed) is None


def test_symbols_and_numbers_read_as_well() -> None:
    assert SYMBOLS.read("○取組中").code == "○"
    assert FIVE.read("４").code == "4"
    assert FIVE.text("3") == "3 進行中"
    assert SYMBOLS.text("") == "" and SYMBOLS.label("×") == ""
