"""Parsed table → models, in one transaction, returning what it did instead of printing.

The parser has already refused anything malformed; this module decides what the table means for
the database (new month, same file again, a different file for a month we have) and writes the
whole report at once, history included, or nothing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import connection, connections, router, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from . import editing, stats, table_format
from .models import (
    Assessment,
    Chapter,
    Footnote,
    Pledge,
    ProgressNote,
    Report,
    StatedTotal,
    SubItem,
)
from .ratings import IRUMA, Scale


class LoadError(Exception):
    """The table is valid but cannot be loaded as asked (e.g. its month exists already)."""


@dataclass(frozen=True)
class LoadResult:
    month: str
    action: str  # "created", "replaced" or "unchanged"
    chapters: int
    pledges: int
    sub_items: int
    rating_counts: dict[str, int] = field(default_factory=dict)  # code → count, scale order
    scale: Scale = IRUMA
    dry_run: bool = False
    # "unchanged" only: staff edits made the report's ratings differ from the file's.
    edited_since: bool = False
    # How long the write transaction was open: what an editor's save may wait (SQLite locks
    # the whole database). 0 when nothing was written.
    write_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_file(
    data: bytes,
    *,
    source_name: str = "",
    replace: bool = False,
    dry_run: bool = False,
    user=None,
) -> LoadResult:
    """Parse ``data`` and load it. Raises ParseError or LoadError; writes nothing then."""
    table = table_format.parse_bytes(data)
    return load_table(
        table,
        source_name=source_name,
        source_sha256=sha256_of(data),
        replace=replace,
        dry_run=dry_run,
        user=user,
    )


def load_table(
    table: table_format.Table,
    *,
    source_name: str = "",
    source_sha256: str = "",
    replace: bool = False,
    dry_run: bool = False,
    user=None,
) -> LoadResult:
    """Write ``table`` as a published report.

    - a new month is created;
    - the same file (same SHA-256) for a month we have changes nothing, so staff edits survive
      (``replace`` restores the file's version);
    - a different file for a month we have is refused unless ``replace``, which deletes the old
      report and creates the new one in the same transaction; history records every deleted
      row ("-", by ``user``, with the import as reason) as it records every created one.

    Every row is built and checked before the transaction opens, so the database's write lock
    (all of SQLite, the replaced rows on PostgreSQL) is held only while rows are written.
    ``dry_run`` makes the same decisions and checks by reading only: no transaction, no lock.
    """
    source_name = _fitted(Report, "source_name", source_name)
    reason = editing.history_reason(f"import {source_name}")
    counts = dict(
        month=f"{table.as_of:%Y-%m}",
        chapters=len(table.chapters),
        pledges=len(table.pledges),
        sub_items=len(table.sub_items),
        rating_counts=table.rating_counts(),
        scale=table.scale,
        dry_run=dry_run,
    )
    existing = Report.objects.filter(as_of=table.as_of).first()
    decided = _decide(existing, source_sha256, replace=replace, counts=counts)
    if decided is not None:
        return decided
    plan = _plan_report(table, source_name=source_name, source_sha256=source_sha256)
    _check_lengths(plan)
    if dry_run:
        return LoadResult(action="replaced" if existing is not None else "created", **counts)
    # Who imports, as simple-history's signals would find them when no user is given (the
    # request's user under HistoryRequestMiddleware).
    user = user or Report.history.model.get_default_history_user(plan.report)
    when = timezone.now()
    history = _history_rows(plan, user=user, reason=reason, when=when)
    started = time.perf_counter()
    with transaction.atomic():
        # Decided again under the lock: another import may have run since the read above.
        existing = Report.objects.select_for_update().filter(as_of=table.as_of).first()
        decided = _decide(existing, source_sha256, replace=replace, counts=counts)
        if decided is not None:
            return decided
        if existing is not None:
            _delete_report(existing, user=user, reason=reason, when=when)
        _write(plan, history, user=user, reason=reason, when=when)
    write_seconds = time.perf_counter() - started
    refresh_planner_statistics()
    return LoadResult(
        action="replaced" if existing is not None else "created",
        write_seconds=write_seconds,
        **counts,
    )


def _decide(
    existing: Report | None, source_sha256: str, *, replace: bool, counts: dict
) -> LoadResult | None:
    """What a report already held for the month means: None to go on and write, the
    "unchanged" result for the same file, or LoadError for a different one without ``replace``.
    Reads only."""
    if existing is None:
        return None
    if source_sha256 and existing.source_sha256 == source_sha256 and not replace:
        # Nothing to write; report what the database holds, which staff may have edited.
        held = stats.report_summary(existing).overall
        in_database = {figure.code: figure.count for figure in held.ratings}
        return LoadResult(
            action="unchanged",
            edited_since=in_database != counts["rating_counts"],
            **{**counts, "rating_counts": in_database},
        )
    if not replace:
        origin = existing.source_name or "staff edits (no source file)"
        raise LoadError(
            f"a report for {counts['month']} already exists (from {origin}); "
            "use --replace to swap it for this file"
        )
    return None


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


@dataclass(frozen=True)
class _Plan:
    """A report's rows as unsaved instances, parents before children, each with its line.

    Children point at their unsaved parents; ``bulk_create`` fills in the ids as it goes.
    """

    report: Report
    rows: dict[type[Model], list[tuple[Model, int]]]


def _plan_report(table: table_format.Table, *, source_name: str, source_sha256: str) -> _Plan:
    report = Report(
        as_of=table.as_of,
        title=table.title,
        status=Report.Status.PUBLISHED,
        source_name=source_name,
        source_sha256=source_sha256,
        published_at=timezone.now(),
    )
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
        footnotes[entry.marker] = Footnote(report=report, marker=entry.marker, text=entry.text)
        rows[Footnote].append((footnotes[entry.marker], entry.line))
    for chapter_entry in table.chapters:
        chapter = Chapter(report=report, number=chapter_entry.number, title=chapter_entry.title)
        rows[Chapter].append((chapter, chapter_entry.line))
        for pledge_entry in chapter_entry.pledges:
            pledge = Pledge(
                chapter=chapter,
                number=pledge_entry.number,
                field=pledge_entry.field,
                title=pledge_entry.title,
            )
            rows[Pledge].append((pledge, pledge_entry.line))
            for entry in pledge_entry.sub_items:
                sub_item = SubItem(
                    pledge=pledge, position=entry.position, title=entry.title,
                    content=entry.content,
                )
                assessment = Assessment(
                    sub_item=sub_item,
                    rating=entry.rating,
                    footnote=footnotes[entry.footnote] if entry.footnote else None,
                )
                rows[SubItem].append((sub_item, entry.line))
                rows[Assessment].append((assessment, entry.line))
                rows[ProgressNote] += [
                    (
                        ProgressNote(
                            assessment=assessment,
                            position=position,
                            text=text,
                            bulleted=entry.notes_bulleted,
                        ),
                        entry.line,
                    )
                    for position, text in enumerate(entry.notes, start=1)
                ]
    return _Plan(report=report, rows=rows)


def _check_lengths(plan: _Plan) -> None:
    """Refuse text longer than its column before writing (PostgreSQL would fail mid-import).

    Every value the loader writes is checked against its model field's ``max_length``, so a
    limit added to a model applies to imports without a change here.
    """
    for model, rows in plan.rows.items():
        limited = [column for column in model._meta.concrete_fields if column.max_length]
        for instance, line in rows:
            for column in limited:
                value = getattr(instance, column.attname)
                if isinstance(value, str) and len(value) > column.max_length:
                    raise table_format.ParseError(
                        line,
                        f"{model.__name__}.{column.name} ({column.verbose_name}) is "
                        f"{len(value):,} characters long; at most {column.max_length:,} fit",
                        value=value,
                    )


def _fitted(model: type[Model], field_name: str, value: str) -> str:
    """``value`` cut to the field's ``max_length``: for names we record, not data we publish."""
    limit = model._meta.get_field(field_name).max_length
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _history_rows(plan: _Plan, *, user, reason: str, when: datetime) -> dict[type[Model], list]:
    """A "+" historical row per planned row, as ``bulk_create_with_history`` would write.

    Built before the transaction: at 10,000 sub-items, building these ~40,000 instances takes
    about a second that would otherwise be spent holding the write lock. ``_write`` fills in
    what only the insert knows (ids, foreign keys, ``auto_now``).
    """
    history: dict[type[Model], list] = {}
    for model, rows in plan.rows.items():
        if model is Report or not hasattr(model, "history"):
            continue
        historical = model.history.model
        history[model] = [
            historical(
                history_date=when,
                history_type="+",
                history_user=user,
                history_change_reason=reason,
            )
            for _ in rows
        ]
    return history


def _write(
    plan: _Plan, history: dict[type[Model], list], *, user, reason: str, when: datetime
) -> None:
    """Insert the planned rows and their history. Must run inside the caller's transaction."""
    report = plan.report
    # Saved, not bulk-created: its history row and the page cache's receivers come by signal.
    report._change_reason = reason
    report._history_user = user
    report._history_date = when
    report.save()
    for model, rows in plan.rows.items():
        if model is Report:
            continue
        instances = model.objects.bulk_create([instance for instance, _ in rows])
        if model not in history:
            continue
        records = history[model]
        tracked = [field.attname for field in model.history.model.tracked_fields]
        for instance, record in zip(instances, records, strict=True):
            for attname in tracked:
                setattr(record, attname, getattr(instance, attname))
        model.history.model.objects.bulk_create(records)


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


def _delete_report(report: Report, *, user, reason: str, when: datetime) -> None:
    """Delete ``report`` and its whole tree, with one "-" history row per deleted row.

    What ``report.delete()`` does, without its cost: the cascade sends post_delete per row,
    and simple-history answers each with its own INSERT (about 40,000 of them for 10,000
    sub-items: minutes). Here each model takes one SELECT, its history rows in bulk and one
    DELETE, leaf first so that no foreign key ever points at a deleted row. No signal is sent:
    the page cache needs none, as the new report gets a new id and so new keys. Must run
    inside the caller's transaction.
    """
    using = router.db_for_write(Report)
    for model, lookup in REPORT_TREE:
        rows = model._base_manager.using(using).filter(**{lookup: report.pk})
        if hasattr(model, "history"):  # StatedTotal keeps none
            _record_deletions(model, rows, user=user, reason=reason, when=when, using=using)
        # _raw_delete is the signal-free DELETE Django's own cascade uses for rows nothing
        # listens to; the history the signals would have written is written just above.
        rows._raw_delete(using)


def _record_deletions(
    model: type[Model], rows: QuerySet, *, user, reason: str, when: datetime, using: str
) -> None:
    """Insert a "-" historical row for each of ``rows``, as its post_delete would have.

    simple-history's ``bulk_history_create`` writes only "+" and "~" rows, hence this. One
    ``INSERT … SELECT``: the rows are copied inside the database, while the write lock is
    held, instead of passing through ~40,000 Python objects (seconds at 10,000 sub-items).
    """
    historical = model.history.model
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
