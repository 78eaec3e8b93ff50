"""Plain rows of sub-items for downloads; renderers (CSV here, Excel later) only add the format.

``item_rows`` is the one place that decides what a downloaded row holds, so the CSV and any later
workbook agree column for column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import SubItem
from .table_format import join_notes

ITEM_HEADERS = (
    _("章"),
    _("章名"),
    _("公約番号"),
    _("分野"),
    _("公約"),
    _("項目番号"),
    _("項目"),
    _("内容"),
    _("取組状況"),
    _("評価"),
    _("評価の意味"),
    _("注記"),
    _("最終更新"),
)

# A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def item_rows(sub_items: Iterable[SubItem]) -> Iterator[list[object]]:
    """One list per sub-item in ``ITEM_HEADERS`` order: str and int values, dates as ISO text.

    Expects ``pledge__chapter`` and ``assessment__footnote`` selected and ``assessment__notes``
    prefetched, otherwise it queries per row.
    """
    for item in sub_items:
        pledge = item.pledge
        assessment = getattr(item, "assessment", None)  # None for a sub-item not yet assessed
        notes = list(assessment.notes.all()) if assessment else []
        footnote = assessment.footnote if assessment else None
        yield [
            pledge.chapter.number,
            pledge.chapter.title,
            pledge.number,
            pledge.field,
            pledge.title,
            item.code,
            item.title,
            item.content,
            join_notes([note.text for note in notes], all(note.bulleted for note in notes)),
            assessment.rating if assessment else "",
            assessment.get_rating_display() if assessment else "",
            f"{footnote.marker}：{footnote.text}" if footnote else "",
            timezone.localtime(assessment.updated_at).date().isoformat() if assessment else "",
        ]


def safe_cell(value: object) -> object:
    """``value``, with a leading apostrophe on text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterable[Iterable[object]], out: IO[str], headers: Iterable[object]) -> None:
    """Write ``headers`` then ``rows`` to ``out`` as CSV, every text cell formula-safe."""
    writer = csv.writer(out)
    writer.writerow([str(header) for header in headers])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
