"""A report's whole tree written or deleted in bulk, with its history rows: the tree writer.

Used only by ``editing``, which adds the rules, the transaction and the cache version: the
importer and copy-to-draft both create a report through ``build`` + ``insert`` (the importer from
the parsed table, the copy from ``table_of`` its source), and a replacing import and the admin
delete a report through ``delete``.

Rows are written with ``bulk_create`` and their history rows in bulk too, never row by row: a
report of 10,000 sub-items is about 40,000 rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import connection, connections, router
from django.db.models import Model, QuerySet
from simple_history.utils import get_history_model_for_model

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
class Tree:
    """A report's rows as unsaved instances, parents before children, each with the line of the
    table it came from (0 for a copied report).

    Children point at their unsaved parents; ``bulk_create`` fills in the ids as it goes.
    """

    report: Report
    rows: dict[type[Model], list[tuple[Model, int]]]


def build(table: table_format.Table, report: Report) -> Tree:
    """The rows of ``table`` under the unsaved ``report``: the one walk of the six levels."""
    rows: dict[type[Model], list[tuple[Model, int]]] = {
        model: [] for model in (Report, StatedTotal, Footnote, Chapter, Pledge, SubItem,
                                Assessment, ProgressNote)
    }
    rows[Report].append((report, table.line))
    for total in table.stated_totals:
        rows[StatedTotal].append(
            (StatedTotal(report=report, rating=total.rating, count=total.count,
                         percent=total.percent), total.line)
        )
    footnotes = {}
    for entry in table.footnotes:
        footnotes[entry.marker] = Footnote(
            report=report, marker=entry.marker, number=footnote_number(entry.marker),
            text=entry.text,
        )
        rows[Footnote].append((footnotes[entry.marker], entry.line))
    for chapter_entry in table.chapters:
        chapter = Chapter(report=report, number=chapter_entry.number, title=chapter_entry.title)
        rows[Chapter].append((chapter, chapter_entry.line))
        for pledge_entry in chapter_entry.pledges:
            pledge = Pledge(chapter=chapter, number=pledge_entry.number,
                            field=pledge_entry.field, title=pledge_entry.title)
            rows[Pledge].append((pledge, pledge_entry.line))
            for entry in pledge_entry.sub_items:
                sub_item = SubItem(pledge=pledge, position=entry.position, title=entry.title,
                                   content=entry.content)
                assessment = Assessment(
                    sub_item=sub_item,
                    rating=entry.rating,
                    footnote=footnotes[entry.footnote] if entry.footnote else None,
                    notes_bulleted=entry.notes_bulleted,
                )
                rows[SubItem].append((sub_item, entry.line))
                rows[Assessment].append((assessment, entry.line))
                rows[ProgressNote] += [
                    (ProgressNote(assessment=assessment, position=position, text=text),
                     entry.line)
                    for position, text in enumerate(entry.notes, start=1)
                ]
    return Tree(report=report, rows=rows)


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


def history_rows(tree: Tree, *, user, reason: str, when: datetime) -> dict[type[Model], list]:
    """A "+" historical row per row of ``tree``, as ``bulk_create_with_history`` would write.

    Built before the transaction: at 10,000 sub-items, building these ~40,000 instances takes
    about a second that would otherwise be spent holding the write lock. ``insert`` fills in
    what only the insert knows (ids, foreign keys, ``auto_now``).
    """
    history: dict[type[Model], list] = {}
    for model, rows in tree.rows.items():
        if model is Report or not hasattr(model, "history"):
            continue
        historical = get_history_model_for_model(model)
        history[model] = [
            historical(history_date=when, history_type="+", history_user=user,
                       history_change_reason=reason)
            for _ in rows
        ]
    return history


def insert(tree: Tree, history: dict[type[Model], list], *, user, reason: str,
           when: datetime) -> None:
    """Insert the rows of ``tree`` and their ``history_rows``. Runs inside the caller's
    transaction."""
    report = tree.report
    # Saved, not bulk-created: simple-history writes its history row.
    stamp(report, user=user, reason=reason, when=when)
    report.save()
    for model, rows in tree.rows.items():
        if model is Report:
            continue
        instances = model._default_manager.bulk_create([instance for instance, _ in rows])
        if model not in history:
            continue
        records = history[model]
        historical = get_history_model_for_model(model)
        tracked = [field.attname for field in historical.tracked_fields]
        for instance, record in zip(instances, records, strict=True):
            for attname in tracked:
                setattr(record, attname, getattr(instance, attname))
        historical.objects.bulk_create(records)


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
        _record_deletions(rows, user=user, reason=reason, when=when, using=using)
    # _raw_delete is the signal-free DELETE Django's own cascade uses for rows nothing
    # listens to; the history the signals would have written is written just above.
    rows._raw_delete(using)


def _record_deletions(
    rows: QuerySet, *, user, reason: str | None, when: datetime, using: str
) -> None:
    """Insert a "-" historical row for each of ``rows``, as its post_delete would have.

    simple-history's ``bulk_history_create`` writes only "+" and "~" rows, hence this. One
    ``INSERT … SELECT``: the rows are copied inside the database, while the write lock is
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
        "history_type": "-",
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
