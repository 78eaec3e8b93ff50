"""Keyword search as Japanese readers type: ＤＸ finds DX and dx, でじたる finds デジタル.

``fold`` is what search compares: NFKC (full-width ＤＸ and half-width ﾃﾞｼﾞﾀﾙ to DX and デジタル),
lower case, then hiragana as katakana. Stored text is never changed; the database folds both
the column and the keyword when it compares them (``Fold``): on SQLite by calling ``fold``
itself, on PostgreSQL with its own ``normalize``, ``lower`` and ``translate``, which fold the
same way (tests/test_search.py compares the two on the real table). Folding at query time costs
a function call per text per keyword, nothing at this size (60 to a few thousand sub-items),
and needs no second copy of the text that every writer would have to keep up to date.

``excerpt`` finds the keywords in the original text for the /items/ table to show why a
sub-item matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from django.db import NotSupportedError
from django.db.models import Func, TextField, Value
from django.utils.safestring import SafeString

from .fragments import format_html, format_html_join

# Keywords are separated by ASCII or ideographic (全角) spaces.
_KEYWORD_SEPARATOR = re.compile(r"[\s\u3000]+")
# Each keyword costs a subquery: a bounded number keeps a crafted URL cheap.
MAX_KEYWORDS = 8

# ぁ…ゖ and the iteration marks ゝゞ, and the katakana at the same distance.
HIRAGANA = "".join(chr(code) for code in range(0x3041, 0x3097)) + "ゝゞ"
KATAKANA = "".join(chr(code) for code in range(0x30A1, 0x30F7)) + "ヽヾ"
_TO_KATAKANA = str.maketrans(HIRAGANA, KATAKANA)


def fold(text: str) -> str:
    """``text`` as keyword search compares it.

    ``lower`` rather than ``casefold``: PostgreSQL has only ``lower``, and both databases must
    find the same sub-items (casefold differs on a few letters such as ß, none of them Japanese).
    """
    return unicodedata.normalize("NFKC", text).lower().translate(_TO_KATAKANA)


def keywords(value: str) -> list[str]:
    """The words of a ``?q=`` value, at most ``MAX_KEYWORDS``, as typed (not folded)."""
    return [word for word in _KEYWORD_SEPARATOR.split(value) if word][:MAX_KEYWORDS]


class Fold(Func):
    """``fold`` of a text expression, computed by the database.

    ``kana`` narrows, on PostgreSQL, the hiragana turned into katakana to those of a keyword
    (``kana_of``): the others cannot be part of a match, since a folded keyword has no hiragana
    left, and PostgreSQL's ``translate`` takes time in proportion to the letters it maps (all
    86 make a search of 2,000 sub-items several times slower). SQLite always folds everything.
    """

    output_field = TextField()
    SQLITE_FUNCTION = "pledges_search_fold"

    def __init__(self, expression, *, kana: str = HIRAGANA) -> None:
        super().__init__(expression)
        self.kana = kana

    def as_sqlite(self, compiler, connection, **extra_context):
        # Registered on the connection in use when a query is compiled, as Django registers its
        # own SQLite functions; the query runs on that same connection.
        connection.ensure_connection()
        connection.connection.create_function(
            self.SQLITE_FUNCTION, 1, _fold_or_null, deterministic=True
        )
        return super().as_sql(compiler, connection, function=self.SQLITE_FUNCTION,
                              **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "lower(normalize(%(expressions)s, NFKC))"
        if self.kana:
            # Letters of HIRAGANA and KATAKANA only (see __init__), never a quote.
            assert set(self.kana) <= set(HIRAGANA), self.kana
            template = (
                f"translate({template}, '{self.kana}', '{self.kana.translate(_TO_KATAKANA)}')"
            )
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None,
               **extra_context):
        raise NotSupportedError(f"keyword search is not implemented for {connection.vendor}")


def _fold_or_null(text: str | None) -> str | None:
    return None if text is None else fold(text)


def folded(term: str) -> Fold:
    """The keyword, folded by the database like the column it is compared with."""
    return Fold(Value(term, output_field=TextField()))


def kana_of(term: str) -> str:
    """The hiragana that fold to a katakana letter of ``term`` (``Fold``'s ``kana``)."""
    letters = set(fold(term))
    return "".join(h for h, k in zip(HIRAGANA, KATAKANA, strict=True) if k in letters)


# --------------------------------------------------------------------------------------------
# Where a keyword is, in the text as written

EXCERPT_LENGTH = 60  # characters shown of a long text, around the first keyword in it
_CONTEXT_BEFORE = 15


def _clusters(text: str) -> list[str]:
    """``text`` cut before every character that does not combine with the one before (so
    that ﾃﾞ stays one piece, folding to デ as in the whole text)."""
    pieces: list[str] = []
    for char in text:
        if pieces and (unicodedata.combining(char) or char in "\uff9e\uff9f"):
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def _hits(pieces: list[str], terms: Sequence[str]) -> list[tuple[int, int]]:
    """(first, past-last) piece of every occurrence of a folded term, merged, in order."""
    folded_text = ""
    owner: list[int] = []  # the piece each character of folded_text comes from
    for index, piece in enumerate(pieces):
        part = fold(piece)
        folded_text += part
        owner += [index] * len(part)
    spans = []
    for term in {fold(term) for term in terms if fold(term)}:
        for match in re.finditer(re.escape(term), folded_text):
            spans.append((owner[match.start()], owner[match.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def excerpt(text: str, terms: Sequence[str]) -> SafeString | None:
    """``text`` (cut to about ``EXCERPT_LENGTH`` characters around the first keyword) with every
    keyword in ``<mark>``, escaped; None if no keyword occurs in it."""
    pieces = _clusters(text)
    hits = _hits(pieces, terms)
    if not hits:
        return None
    start = 0
    if len(pieces) > EXCERPT_LENGTH:
        start = max(0, min(hits[0][0] - _CONTEXT_BEFORE, len(pieces) - EXCERPT_LENGTH))
    end = min(len(pieces), start + EXCERPT_LENGTH)
    return format_html(
        "{}{}{}",
        "…" if start > 0 else "",
        format_html_join("", "{}", ((part,) for part in _marked(pieces, hits, start, end))),
        "…" if end < len(pieces) else "",
    )


def _marked(
    pieces: list[str], hits: list[tuple[int, int]], start: int, end: int
) -> Iterator[SafeString]:
    """pieces[start:end], escaped, the hits in ``<mark>``."""
    position = start
    for hit_start, hit_end in hits:
        hit_start, hit_end = max(hit_start, start), min(hit_end, end)
        if hit_start >= hit_end:
            continue
        yield format_html(
            "{}<mark>{}</mark>",
            "".join(pieces[position:hit_start]),
            "".join(pieces[hit_start:hit_end]),
        )
        position = hit_end
    yield format_html("{}", "".join(pieces[position:end]))
