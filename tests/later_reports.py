"""Second and third reports built from the real 2022 table, for the reports-over-time tests.

2022 → 2023: 2① B→A and 3① C→A (完了; 2① also gets a new note), 9①, 10② and 11① C→B (forward),
5① B→C (back), 17① stays C with a new note, 20② is renamed.
2023 → 2024: 28① B→A, 5① C→B, 27① C→D (back), 4② removed, 30③ added (D, a note with markup).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date

from pledges import table_format
from pledges.table_format import SubItemEntry, Table

Edits = dict[tuple[int, int], dict]


def revised(
    table: Table,
    as_of: date,
    edits: Edits,
    *,
    removed: frozenset[tuple[int, int]] = frozenset(),
    added: dict[int, SubItemEntry] | None = None,
) -> Table:
    """``table`` as of ``as_of`` with sub-items (pledge, position) edited, removed or added."""
    added = added or {}
    chapters = []
    for chapter in table.chapters:
        pledges = []
        for pledge in chapter.pledges:
            items = [
                dataclasses.replace(item, **edits.get((pledge.number, item.position), {}))
                for item in pledge.sub_items
                if (pledge.number, item.position) not in removed
            ]
            if pledge.number in added:
                items.append(added[pledge.number])
            pledges.append(dataclasses.replace(pledge, sub_items=tuple(items)))
        chapters.append(dataclasses.replace(chapter, pledges=tuple(pledges)))
    label = table_format.month_label(as_of)
    draft = dataclasses.replace(
        table,
        title=re.sub(r"【.+現在】", f"【{label}現在】", table.title),
        as_of=as_of,
        chapters=tuple(chapters),
    )
    counts, total = draft.rating_counts(), len(draft.sub_items)
    totals = tuple(
        table_format.TotalEntry(code, count, table_format.percent_of(count, total))
        for code, count in counts.items()
    )
    return dataclasses.replace(draft, stated_totals=totals)


def item(table: Table, pledge: int, position: int) -> SubItemEntry:
    return next(
        s
        for p in table.pledges
        if p.number == pledge
        for s in p.sub_items
        if s.position == position
    )


NOTE_2_1 = "マイナンバーカード交付率 80.12%(令和5年3月31日現在)"
NOTE_17_1 = "令和4年度に市内全小学校でフッ素洗口を開始"
NEW_TITLE_20_2 = "空き家対策のさらなる充実"


def table_2023(real_table: Table) -> Table:
    notes_2_1 = (NOTE_2_1, *item(real_table, 2, 1).notes[1:])
    return revised(
        real_table,
        date(2023, 3, 1),
        {
            (2, 1): {"rating": "A", "notes": notes_2_1},
            (3, 1): {"rating": "A"},
            (9, 1): {"rating": "B"},
            (10, 2): {"rating": "B"},
            (11, 1): {"rating": "B"},
            (5, 1): {"rating": "C"},
            (17, 1): {"notes": (*item(real_table, 17, 1).notes, NOTE_17_1)},
            (20, 2): {"title": NEW_TITLE_20_2},
        },
    )


NOTE_28_1 = "令和5年12月に入間市SDGs推進条例を制定"
NEW_ITEM_30_3 = SubItemEntry(
    position=3,
    title="デジタル人材の育成",
    content="職員のデジタル技術を高めます。",
    notes=("<script>alert(1)</script> 研修計画を検討",),
    rating="D",
)


def table_2024(table_2023: Table) -> Table:
    return revised(
        table_2023,
        date(2024, 3, 1),
        {
            (28, 1): {"rating": "A", "notes": (*item(table_2023, 28, 1).notes, NOTE_28_1)},
            (5, 1): {"rating": "B"},
            (27, 1): {"rating": "D"},
        },
        removed=frozenset({(4, 2)}),
        added={30: NEW_ITEM_30_3},
    )
