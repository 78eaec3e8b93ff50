"""A report's whole tree written or deleted in bulk, with its history rows: the tree writer.

Used only by ``editing``, which adds the rules, the transaction and the cache version: the
importer and copy-to-draft both create a report through ``build`` + ``insert`` (the importer from
the parsed table, the copy from ``table_of`` its source), and a replacing import and the admin
delete a report through ``delete``.

A report of 10,000 sub-items is about 40,000 rows, written while the import holds the write lock
(all of SQLite). So the tree is plain values, not model instances, written with one statement
per model (SQLite: ``executemany`` of a prepared INSERT; PostgreSQL: ``INSERT … SELECT FROM
UNNEST``); and the history rows are copied from the written rows inside the database, one
``INSERT … SELECT`` per model, for a new report as for a deleted one. Through
``bulk_create`` (and ``bulk_create`` of history instances) three quarters of an import went to
Django building instances and compiling each value of each INSERT.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import connection, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.utils import timezone

from . import table_format
from .models import (
    Assessment,
    Chapter,
    Footnote,
    Pledge,
    ProgressNote,
    Report,
    StatedTotal,
    SubItem,
    footnote_number,
)

# A report's tree, children before parents, each with the lookup from its rows to the report.
# tests/test_loading.py checks this against what Django's own cascade would collect.
REPORT_TREE: tuple[tuple[type[Model], str], ...] = (
    (ProgressNote, "assessment__sub_item__pledge__chapter__report"),
    (Assessment, "sub_item__pledge__chapter__report"),
    (SubItem, "pledge__chapter__report"),
    (Pledge, "chapter__report"),
    (Chapter, "report"),
    (Footnote, "report"),
    (StatedTotal, "report"),
    (Report, "pk"),
)


@dataclass(frozen=True)
class Rows:
    """The new rows of one model, as plain values.

    ``values`` holds a tuple per row in ``columns`` order (attnames). The foreign keys among
    them (``links``: attname → the model pointed at) hold the index of the row pointed at among
    the tree's rows of that model (the report is 0; None for none) until ``insert`` gives the
    rows their ids. ``lines``: the line of the table each row came from (0 for a copied report).
    The columns a row does not give take their defaults when inserted.
    """

    columns: tuple[str, ...]
    links: dict[str, type[Model]]
    values: list[tuple] = dataclasses.field(default_factory=list)
    lines: list[int] = dataclasses.field(default_factory=list)

    def add(self, line: int, *values: Any) -> int:
        """Append a row; returns its index."""
        self.values.append(values)
        self.lines.append(line)
        return len(self.values) - 1

    def column(self, attname: str) -> list:
        """The values of one column, row by row."""
        index = self.columns.index(attname)
        return [row[index] for row in self.values]


@dataclass(frozen=True)
class Tree:
    """A new report: the unsaved ``report`` (from line ``report_line`` of its table) and the
    ``rows`` of its tree, parents before children."""

    report: Report
    report_line: int
    rows: dict[type[Model], Rows]


def build(table: table_format.Table, report: Report) -> Tree:
    """The rows of ``table`` under the unsaved ``report``: the one walk of the six levels."""
    totals = Rows(("report_id", "rating", "count", "percent"), {"report_id": Report})
    footnotes = Rows(("report_id", "marker", "number", "text"), {"report_id": Report})
    chapters = Rows(("report_id", "number", "title"), {"report_id": Report})
    pledges = Rows(("chapter_id", "number", "field", "title"), {"chapter_id": Chapter})
    sub_items = Rows(("pledge_id", "position", "title", "content"), {"pledge_id": Pledge})
    assessments = Rows(
        ("sub_item_id", "rating", "footnote_id", "notes_bulleted"),
        {"sub_item_id": SubItem, "footnote_id": Footnote},
    )
    notes = Rows(("assessment_id", "position", "text"), {"assessment_id": Assessment})
    for total in table.stated_totals:
        totals.add(total.line, 0, total.rating, total.count, total.percent)
    footnote_rows = {
        entry.marker: footnotes.add(
            entry.line, 0, entry.marker, footnote_number(entry.marker), entry.text
        )
        for entry in table.footnotes
    }
    for chapter_entry in table.chapters:
        chapter = chapters.add(chapter_entry.line, 0, chapter_entry.number, chapter_entry.title)
        for pledge_entry in chapter_entry.pledges:
            pledge = pledges.add(pledge_entry.line, chapter, pledge_entry.number,
                                 pledge_entry.field, pledge_entry.title)
            for entry in pledge_entry.sub_items:
                sub_item = sub_items.add(entry.line, pledge, entry.position, entry.title,
                                         entry.content)
                assessment = assessments.add(
                    entry.line, sub_item, entry.rating,
                    footnote_rows[entry.footnote] if entry.footnote else None,
                    entry.notes_bulleted,
                )
                for position, text in enumerate(entry.notes, start=1):
                    notes.add(entry.line, assessment, position, text)
    return Tree(report=report, report_line=table.line, rows={
        StatedTotal: totals, Footnote: footnotes, Chapter: chapters, Pledge: pledges,
        SubItem: sub_items, Assessment: assessments, ProgressNote: notes,
    })


def table_of(report: Report) -> table_format.Table:
    """What ``report`` says, as the parser's ``Table`` (without the totals the city printed,
    which belong to its file). Five queries."""
    notes: dict[int, list[str]] = defaultdict(list)
    for assessment_id, text in ProgressNote.objects.filter(
        assessment__sub_item__pledge__chapter__report=report
    ).order_by("assessment_id", "position", "pk").values_list("assessment_id", "text"):
        notes[assessment_id].append(text)
    sub_items: dict[int, list[table_format.SubItemEntry]] = defaultdict(list)
    for item in (
        SubItem.objects.filter(pledge__chapter__report=report)
        .select_related("assessment__footnote")
        .order_by("pledge_id", "position")
    ):
        assessment = getattr(item, "assessment", None)
        sub_items[item.pledge_id].append(
            table_format.SubItemEntry(
                position=item.position,
                title=item.title,
                content=item.content,
                notes=tuple(notes[assessment.pk]) if assessment else (),
                rating=assessment.rating if assessment else "",
                footnote=assessment.footnote.marker if assessment and assessment.footnote else None,
                notes_bulleted=assessment.notes_bulleted if assessment else True,
            )
        )
    pledges: dict[int, list[table_format.PledgeEntry]] = defaultdict(list)
    for pledge in Pledge.objects.filter(chapter__report=report).order_by("number"):
        pledges[pledge.chapter_id].append(
            table_format.PledgeEntry(pledge.number, pledge.field, pledge.title,
                                     tuple(sub_items[pledge.pk]))
        )
    return table_format.Table(
        title=report.title,
        as_of=report.as_of,
        chapters=tuple(
            table_format.ChapterEntry(chapter.number, chapter.title, tuple(pledges[chapter.pk]))
            for chapter in Chapter.objects.filter(report=report).order_by("number")
        ),
        footnotes=tuple(
            table_format.FootnoteEntry(footnote.marker, footnote.text)
            for footnote in Footnote.objects.filter(report=report).order_by("number", "pk")
        ),
        stated_totals=(),
        scale=report.scale,
    )


def insert(tree: Tree, *, user, reason: str, when: datetime) -> None:
    """Insert ``tree``: its report, its rows, and a "+" history row for each (by ``user``, with
    ``reason``, at ``when``), as ``bulk_create_with_history`` would. Runs inside the caller's
    transaction."""
    report = tree.report
    # Saved, not inserted: simple-history writes its history row.
    stamp(report, user=user, reason=reason, when=when)
    report.save()
    using = router.db_for_write(Report)
    database = connections[using]
    ids: dict[type[Model], list[int]] = {Report: [report.pk]}
    # What ``auto_now`` gives a saved row: here one time for all the rows (bulk_create took
    # one per row, microseconds apart).
    now = timezone.now()
    with database.cursor() as cursor:
        for model, rows in tree.rows.items():
            # Drawn after the report's INSERT: the write lock is ours, whatever the
            # transaction mode.
            ids[model] = _new_ids(model, len(rows.values), cursor, database)
            if ids[model]:
                _insert_rows(model, rows, ids, now, cursor, database)
    lookups = dict(REPORT_TREE)
    for model in tree.rows:
        if hasattr(model, "history"):  # StatedTotal keeps none
            _copy_to_history(
                model._base_manager.filter(**{lookups[model]: report.pk}), history_type="+",
                user=user, reason=reason, when=when, using=using,
            )


# Fields whose values (str, int, bool) the database drivers take as they are: get_db_prep_save
# returns them unchanged, and calling it for every value cost a fifth of an import.
_TAKEN_AS_THEY_ARE = {
    "CharField", "SlugField", "TextField", "BooleanField", "SmallIntegerField",
    "PositiveSmallIntegerField", "IntegerField", "PositiveIntegerField", "BigIntegerField",
    "PositiveBigIntegerField",
}


def _insert_rows(
    model: type[Model], rows: Rows, ids: dict[type[Model], list[int]], now: datetime,
    cursor: Any, database: BaseDatabaseWrapper,
) -> None:
    """INSERT ``rows`` with their ``ids[model]``, their links turned into the ids of the rows
    they point at (those models' ``ids``), and the columns they do not give as ``save()``
    would fill them: ``auto_now`` and ``auto_now_add`` with ``now``, the others with their
    default."""
    meta = model._meta
    fields = {column.attname: column for column in meta.concrete_fields}
    given = [fields[name] for name in rows.columns]
    filled = [column for column in meta.concrete_fields
              if column.attname not in rows.columns and not column.primary_key]
    fill = tuple(
        column.get_db_prep_save(
            now if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False)
            else column.get_default(),
            database,
        )
        for column in filled
    )
    conversions: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(given):
        if column.attname in rows.links:
            conversions.append((index, _id_of(ids[rows.links[column.attname]])))
        elif column.get_internal_type() not in _TAKEN_AS_THEY_ARE:
            conversions.append((index, _prepared_for(column, database)))

    def prepared(row_id: int, values: tuple) -> tuple:
        converted = list(values)
        for index, convert in conversions:
            converted[index] = convert(converted[index])
        return (row_id, *converted, *fill)

    quote = database.ops.quote_name
    columns = [meta.pk, *given, *filled]
    insert = (f"INSERT INTO {quote(meta.db_table)} "
              f"({', '.join(quote(column.column) for column in columns)}) ")
    values = [prepared(row_id, row) for row_id, row in zip(ids[model], rows.values, strict=True)]
    if database.vendor == "postgresql":
        # One statement with an array per column, as Django's bulk_create does there: an
        # INSERT per row (executemany) kept the server busy three times as long. The types
        # lose their length (varchar[], not varchar(300)[]), as in Django: nothing is cut.
        types = [db_type.split("(")[0] for column in columns
                 if (db_type := column.db_type(database))]
        assert len(types) == len(columns), "a concrete field without a column type"
        arrays = ", ".join(f"(%s)::{db_type}[]" for db_type in types)
        cursor.execute(f"{insert}SELECT * FROM UNNEST({arrays})",
                       [list(array) for array in zip(*values, strict=True)])
    else:
        cursor.executemany(f"{insert}VALUES ({', '.join(['%s'] * len(columns))})", values)


def _id_of(ids: list[int]) -> Callable[[int | None], int | None]:
    """The id of the row a link's index points at among rows given ``ids``."""
    return lambda index: None if index is None else ids[index]


def _prepared_for(column: Field, database: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    return lambda value: column.get_db_prep_save(value, database)


def _new_ids(
    model: type[Model], count: int, cursor: Any, database: BaseDatabaseWrapper
) -> list[int]:
    """``count`` new primary keys for ``model``, ascending: those its next ``count`` inserts
    would have been given. The caller holds the write lock."""
    if count == 0:
        return []
    meta = model._meta
    quote = database.ops.quote_name
    if database.vendor == "postgresql":
        # From the column's own sequence, as a default would draw them: never reused, even if
        # the transaction rolls back. Other sessions may draw in between: a list, not a range.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(meta.db_table), meta.pk.column, count],
        )
        return sorted(row_id for (row_id,) in cursor.fetchall())
    if database.vendor == "sqlite":
        # Django's SQLite primary keys are AUTOINCREMENT: a new id follows the largest ever
        # given (sqlite_sequence), and an INSERT with explicit ids moves that on as one
        # without would. Nobody else inserts while we hold the write lock.
        cursor.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"coalesce((SELECT max({quote(meta.pk.column)}) FROM {quote(meta.db_table)}), 0))",
            [meta.db_table],
        )
        (last,) = cursor.fetchone()
        return list(range(last + 1, last + 1 + count))
    raise NotImplementedError(f"new ids on {database.vendor}")


def stamp(instance: Model, *, user, reason: str | None, when: datetime | None = None) -> None:
    """Give the history row that simple-history writes on the next ``save()`` or ``delete()``
    of ``instance`` its author, reason and (default now) date: its signal handlers read them
    from these attributes of the instance."""
    instance._history_user = user  # type: ignore[attr-defined]  # simple-history's convention
    instance._change_reason = reason  # type: ignore[attr-defined]  # simple-history's convention
    if when is not None:
        instance._history_date = when  # type: ignore[attr-defined]  # simple-history's convention


def delete(report: Report, *, user, reason: str | None, when: datetime) -> None:
    """Delete ``report`` and its whole tree, with one "-" history row per deleted row.

    What ``report.delete()`` does, without its cost: the cascade sends post_delete per row,
    and simple-history answers each with its own INSERT (about 40,000 of them for 10,000
    sub-items: minutes). Here each model takes one ``INSERT … SELECT`` of its history rows and
    one DELETE, leaf first so that no foreign key ever points at a deleted row. Runs inside
    the caller's transaction.
    """
    for model, lookup in REPORT_TREE:
        delete_rows(model._base_manager.filter(**{lookup: report.pk}), user=user,
                    reason=reason, when=when)


def delete_rows(rows: QuerySet, *, user, reason: str | None, when: datetime) -> None:
    """Delete ``rows`` (of one model, nothing else pointing at them) with a "-" history row
    each, in two statements. Sends no signal."""
    using = router.db_for_write(rows.model)
    if hasattr(rows.model, "history"):  # StatedTotal keeps none
        _copy_to_history(rows, history_type="-", user=user, reason=reason, when=when,
                         using=using)
    # _raw_delete is the signal-free DELETE Django's own cascade uses for rows nothing
    # listens to; the history the signals would have written is written just above.
    rows._raw_delete(using)


def _copy_to_history(
    rows: QuerySet, *, history_type: str, user, reason: str | None, when: datetime, using: str
) -> None:
    """Insert a historical row of ``history_type`` for each of ``rows``, in the order of their
    ids: "+" as simple-history writes for a created row, "-" as its post_delete would have.

    One ``INSERT … SELECT``: the rows are copied inside the database, while the write lock is
    held, instead of passing through ~40,000 Python objects (seconds at 10,000 sub-items).
    """
    historical = rows.model.history.model
    meta = historical._meta
    database = connections[using]
    quote = database.ops.quote_name
    copied = [field.attname for field in historical.tracked_fields]
    select, params = rows.order_by("pk").values(*copied).query.sql_with_params()
    stamped = {
        "history_date": meta.get_field("history_date").get_db_prep_save(when, database),
        "history_type": history_type,
        "history_user": user.pk if user is not None else None,
        "history_change_reason": reason,
    }
    into = [meta.get_field(name).column for name in [*copied, *stamped]]
    with database.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, into))}) "
            f"SELECT {', '.join('deleted.' + quote(name) for name in copied)}, "
            f"{', '.join(['%s'] * len(stamped))} FROM ({select}) deleted",
            [*stamped.values(), *params],
        )


def row_counts(report_ids: list[int]) -> dict[str, int]:
    """How many rows of each model the trees of these reports hold, by the model's plural
    name (one query per model)."""
    return {
        str(model._meta.verbose_name_plural): model._default_manager.filter(
            **{f"{lookup}__in": report_ids}
        ).count()
        for model, lookup in reversed(REPORT_TREE)
    }


def refresh_planner_statistics() -> None:
    """ANALYZE the app's tables on PostgreSQL after a bulk write.

    Until autovacuum gets to it, the planner believes freshly filled tables are empty and picks
    nested loops that take minutes on a 2,000-item report; SQLite needs nothing.
    """
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in apps.get_app_config("pledges").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
