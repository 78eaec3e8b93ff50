"""Broken variants of the real 2022 table, each with the line its error must name.

Built from the real file in the test, so they stay true to the format's actual shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str
    build: Callable[[str], tuple[bytes, int]]  # real text → (file bytes, expected error line)
    message: str  # a fragment the error message must contain


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _find(text: str, startswith: str) -> int:
    return next(i for i, line in enumerate(_lines(text), 1) if line.startswith(startswith))


def _replace_line(text: str, startswith: str, old: str, new: str) -> tuple[bytes, int]:
    number = _find(text, startswith)
    lines = _lines(text)
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "\n".join(lines).encode(), number


def _delete_lines(text: str, first: int, count: int) -> str:
    lines = _lines(text)
    del lines[first - 1 : first - 1 + count]
    return "\n".join(lines)


def _unknown_rating(text: str):
    return _replace_line(text, "①企業誘致戦略の策定", "C 着手", "E 着手")


def _label_mismatch(text: str):
    return _replace_line(text, "①企業誘致戦略の策定", "C 着手", "C 完了")


def _truncated(text: str):
    kept = "\n".join(_lines(text)[:100])
    return kept.encode(), len(_lines(kept))


def _missing_chapter(text: str):
    # Chapter 2's pledges then read as chapter 1's; 第3章 is where the gap shows.
    return _delete_lines(text, _find(text, "第2章"), 1).encode(), _find(text, "第3章") - 1


def _missing_pledge(text: str):
    number = _find(text, "5:【コロナ】")
    return _delete_lines(text, number, 4).encode(), number  # pledge 6 where 5 was expected


def _duplicate_pledge(text: str):
    return _replace_line(text, "3:【デジタル】", "3:", "2:")


def _sub_item_out_of_order(text: str):
    number = _find(text, "②3レス市役所")
    lines = _lines(text)
    lines[number - 1] = "③" + lines[number - 1][1:]
    return "\n".join(lines).encode(), number


def _missing_fields(text: str):
    number = _find(text, "②3レス市役所")
    lines = _lines(text)
    lines[number - 1] = "\t".join(lines[number - 1].split("\t")[:2])
    return "\n".join(lines).encode(), number


def _marker_without_footnote(text: str):
    number = _find(text, "※1：")
    return _delete_lines(text, number, 1).encode(), _find(text, "①産官学連携")


def _not_utf8(text: str):
    return text.encode("shift_jis", errors="replace"), 3


def _empty(text: str):
    return b"", 1


def _totals_disagree(text: str):
    return _replace_line(text, "13.33%", "\t8", "\t9")


VARIANTS = [
    Variant("unknown rating", _unknown_rating, "is not one of A 完了, B 実施中, C 着手, D 未着手"),
    Variant("label does not match letter", _label_mismatch, "expected 'C 着手'"),
    Variant("truncated file", _truncated, "totals"),
    Variant("missing chapter", _missing_chapter, "expected 第2章"),
    Variant("missing pledge", _missing_pledge, "expected pledge 5"),
    Variant("duplicate pledge number", _duplicate_pledge, "expected pledge 3"),
    Variant("sub-item out of order", _sub_item_out_of_order, "expected ②"),
    Variant("row with missing fields", _missing_fields, "2 of 4 fields"),
    Variant("footnote marker without footnote", _marker_without_footnote, "no footnote text"),
    Variant("not UTF-8", _not_utf8, "not UTF-8"),
    Variant("empty file", _empty, "empty file"),
    Variant(
        "totals disagree", _totals_disagree, "stated total for A 完了 is 9 but the table has 8"
    ),
]
