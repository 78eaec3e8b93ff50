"""Rating scales: the levels a table rates its sub-items with — the one place that knows one.

A scale is data, not code: its levels in order, best first, each a code and a label
(``A 完了``, ``B 実施中`` …, or ``◎ 達成済``, ``○ 取組中`` in another city's table). Everything
else asks the scale: how a rating is written (``A 完了``), how far along it is (its rank), which
colour tone its badge takes, how a clerk's typing (``ａ``, ``A完了``, ``完了``) reads. Nothing
outside this module knows a letter.

Pure Python: the text-table parser uses it too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

# Badge colours come in this many tones, from "done" to "not started"; a scale of any length is
# spread over them (site.css defines .tone-0 … .tone-4, each with enough contrast for its text).
TONES = 5


@dataclass(frozen=True)
class Level:
    """One level of a scale; ``rank`` 0 is the best (完了)."""

    code: str
    label: str
    rank: int
    tone: int

    @property
    def text(self) -> str:
        """``A 完了``: how the city writes a rating."""
        return f"{self.code} {self.label}"

    @property
    def css_class(self) -> str:
        return f"tone-{self.tone}"


@dataclass(frozen=True)
class Scale:
    """Levels in order, best first. Build it with ``Scale.of([("A", "完了"), …])``."""

    levels: tuple[Level, ...]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Scale:
        pairs = list(pairs)
        last = max(len(pairs) - 1, 1)
        return cls(
            tuple(
                Level(code, label, rank, round(rank * (TONES - 1) / last))
                for rank, (code, label) in enumerate(pairs)
            )
        )

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    @cached_property
    def _by_code(self) -> dict[str, Level]:
        return {level.code: level for level in self.levels}

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(level.code for level in self.levels)

    @property
    def best(self) -> Level:
        """The level that means done (完了)."""
        return self.levels[0]

    def level(self, code: str) -> Level | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def label(self, code: str) -> str:
        level = self.level(code)
        return level.label if level else ""

    def text(self, code: str) -> str:
        """``A 完了``, or "" for no rating (a draft's open item) or a code not on the scale."""
        level = self.level(code)
        return level.text if level else ""

    def progress(self, code: str) -> int | None:
        """How far along ``code`` is: 0 for the lowest level, higher is further; None for no
        rating, which never counts as a move."""
        level = self.level(code)
        return len(self.levels) - 1 - level.rank if level else None

    def legend(self, separator: str = "・") -> str:
        """``A 完了・B 実施中・C 着手・D 未着手``."""
        return separator.join(level.text for level in self.levels)

    def read(self, typed: str) -> Level | None:
        """The level a person meant by ``typed``, or None.

        Reads what clerks type: full-width or half-width, either case, the code alone
        (``a``, ``Ａ``), code and label with or without a space (``A完了``, ``Ａ　完了``), or the
        label alone (``完了``) — as long as it names exactly one level and a label given is the
        code's own.
        """
        text = _normal(typed)
        if not text:
            return None
        for level in self.levels:
            code, label = _normal(level.code), _normal(level.label)
            if text in (code, f"{code}{label}", label) or (
                text.startswith(code) and _normal(text[len(code):]) == label
            ):
                return level
        return None

    def read_code(self, typed: str) -> str | None:
        """The code ``typed`` starts with, if it is one of the scale's (to explain a mismatch)."""
        text = _normal(typed)
        return next(
            (level.code for level in self.levels if text.startswith(_normal(level.code))), None
        )


def _normal(text: str) -> str:
    """For comparing typed text: NFKC (full-width → half-width), upper case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


# The scale of Iruma City's tables (市長公約 進捗状況一覧表, 2022–): four levels, best first.
IRUMA = Scale.of([("A", "完了"), ("B", "実施中"), ("C", "着手"), ("D", "未着手")])
