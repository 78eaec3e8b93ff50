"""Sub-item references in the city's free text: ``28②`` is pledge 28, sub-item ②.

Footnotes name the sub-items they concern this way (``4①…及び28①…は、28②…に統合``). Pure: no
Django, so it is tested with plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .table_format import CIRCLED_NUMBERS

_POSITION = {char: index for index, char in enumerate(CIRCLED_NUMBERS, start=1)}
# A pledge number glued to a circled number; the look-behind keeps "128②" from reading as "28②".
_REFERENCE = re.compile(rf"(?<!\d)(?P<pledge>\d{{1,4}})(?P<marker>[{''.join(CIRCLED_NUMBERS)}])")


@dataclass(frozen=True)
class Reference:
    """``text`` (e.g. ``28②``) found at ``start:end`` naming (``pledge``, ``position``)."""

    text: str
    start: int
    end: int
    pledge: int
    position: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.pledge, self.position)


def find_references(text: str) -> list[Reference]:
    """Every sub-item reference in ``text``, in reading order (repeats included)."""
    return [
        Reference(
            text=match.group(0),
            start=match.start(),
            end=match.end(),
            pledge=int(match["pledge"]),
            position=_POSITION[match["marker"]],
        )
        for match in _REFERENCE.finditer(text)
    ]


def split_references(text: str) -> list[tuple[str, Reference | None]]:
    """``text`` cut into pieces: plain text with None, or a reference's text with its Reference.

    Joining the pieces' text gives ``text`` back unchanged.
    """
    pieces: list[tuple[str, Reference | None]] = []
    cursor = 0
    for reference in find_references(text):
        if reference.start > cursor:
            pieces.append((text[cursor : reference.start], None))
        pieces.append((reference.text, reference))
        cursor = reference.end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces
