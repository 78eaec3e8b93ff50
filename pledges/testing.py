"""Generated progress tables for tests and benchmarks (shapes like the real one, any size)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .ratings import IRUMA, Scale
from .table_format import (
    ChapterEntry,
    PledgeEntry,
    SubItemEntry,
    Table,
    TotalEntry,
    month_label,
    percent_of,
)


def generated_table(
    *,
    sub_items: int = 2000,
    chapters: int = 10,
    sub_items_per_pledge: int = 4,
    as_of: date = date(2030, 3, 1),
    text: str = "テスト",
    scale: Scale = IRUMA,
) -> Table:
    """A valid table with ``sub_items`` sub-items, ratings cycling through ``scale``, totals
    that add up."""
    codes = list(scale.codes)
    pledge_count = -(-sub_items // sub_items_per_pledge)
    pledges_per_chapter = -(-pledge_count // chapters)
    chapter_entries = []
    remaining = sub_items
    pledge_number = 0
    serial = 0
    for chapter_number in range(1, chapters + 1):
        pledges = []
        for _ in range(pledges_per_chapter):
            if remaining == 0:
                break
            pledge_number += 1
            items = []
            for position in range(1, min(sub_items_per_pledge, remaining) + 1):
                serial += 1
                items.append(
                    SubItemEntry(
                        position=position,
                        title=f"{text}項目{serial}",
                        content=f"{text}の内容{serial}。市民のために取り組みます。",
                        notes=(f"{text}の取組{serial}を実施", f"{text}の検討{serial}を開始"),
                        rating=codes[serial % len(codes)],
                    )
                )
            remaining -= len(items)
            pledges.append(
                PledgeEntry(pledge_number, "分野", f"{text}公約{pledge_number}", tuple(items))
            )
        if pledges:
            chapter_entries.append(
                ChapterEntry(chapter_number, f"{text}章{chapter_number}", tuple(pledges))
            )
    table = Table(
        title=f"市長公約(政策宣言)進捗状況一覧表【{month_label(as_of)}現在】",
        as_of=as_of,
        chapters=tuple(chapter_entries),
        footnotes=(),
        stated_totals=(),
        scale=scale,
    )
    counts = table.rating_counts()
    totals = tuple(
        TotalEntry(code, count, Decimal(percent_of(count, sub_items)))
        for code, count in counts.items()
    )
    return Table(table.title, table.as_of, table.chapters, (), totals, scale=scale)
