"""Parsed table → models, in one transaction, returning what it did instead of printing.

The parser has already refused anything malformed; this module decides what the table means for
the database (new month, same file again, a different file for a month we have) and writes the
whole report at once, history included, or nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import connection, router, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import stats, table_format
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


class LoadError(Exception):
    """The table is valid but cannot be loaded as asked (e.g. its month exists already)."""


@dataclass(frozen=True)
class LoadResult:
    month: str
    action: str  # "created", "replaced" or "unchanged"
    chapters: int
    pledges: int
    sub_items: int
    rating_counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # "unchanged" only: staff edits made the report's ratings differ from the file's.
    edited_since: bool = False

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
    ``dry_run`` does all of it inside the transaction and rolls back.
    """
    _check_lengths(table)
    month = f"{table.as_of:%Y-%m}"
    counts = dict(
        month=month,
        chapters=len(table.chapters),
        pledges=len(table.pledges),
        sub_items=len(table.sub_items),
        rating_counts=table.rating_counts(),
        dry_run=dry_run,
    )
    with transaction.atomic():
        existing = Report.objects.select_for_update().filter(as_of=table.as_of).first()
        if existing is not None:
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
                    f"a report for {month} already exists (from {origin}); "
                    "use --replace to swap it for this file"
                )
            _delete_report(existing, user=user, reason=_change_reason(source_name))
        _create_report(table, source_name=source_name, source_sha256=source_sha256, user=user)
        if dry_run:
            transaction.set_rollback(True)
        else:
            refresh_planner_statistics()
    return LoadResult(action="replaced" if existing is not None else "created", **counts)


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


def _check_lengths(table: table_format.Table) -> None:
    """Refuse text longer than its column before writing (PostgreSQL would fail mid-import)."""

    def check(model, field_name: str, value: str, line: int, what: str) -> None:
        limit = model._meta.get_field(field_name).max_length
        if len(value) > limit:
            raise table_format.ParseError(
                line, f"{what} is {len(value)} characters long; at most {limit} fit", value=value
            )

    check(Report, "title", table.title, table.line, "title")
    for footnote in table.footnotes:
        check(Footnote, "marker", footnote.marker, footnote.line, "footnote marker")
    for chapter in table.chapters:
        check(Chapter, "title", chapter.title, chapter.line, "chapter title")
        for pledge in chapter.pledges:
            check(Pledge, "field", pledge.field, pledge.line, "pledge field 【…】")
            check(Pledge, "title", pledge.title, pledge.line, "pledge title")
            for item in pledge.sub_items:
                check(SubItem, "title", item.title, item.line, "sub-item title")


def _change_reason(source_name: str) -> str:
    # simple-history keeps at most 100 characters of a reason; a long file name must not fail.
    return f"import {source_name}".strip()[:100]


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


def _delete_report(report: Report, *, user, reason: str) -> None:
    """Delete ``report`` and its whole tree, with one "-" history row per deleted row.

    What ``report.delete()`` does, without its cost: the cascade sends post_delete per row,
    and simple-history answers each with its own INSERT (about 40,000 of them for 10,000
    sub-items: minutes). Here each model takes one SELECT, its history rows in bulk and one
    DELETE, leaf first so that no foreign key ever points at a deleted row. No signal is sent:
    the page cache needs none, as the new report gets a new id and so new keys. Must run
    inside the caller's transaction.
    """
    using = router.db_for_write(Report)
    # Who deleted, as simple-history's own delete signal would find them when no user is given
    # (the request's user under HistoryRequestMiddleware).
    who = user or Report.history.model.get_default_history_user(report)
    when = timezone.now()
    for model, lookup in REPORT_TREE:
        rows = model._base_manager.using(using).filter(**{lookup: report.pk})
        if hasattr(model, "history"):  # StatedTotal keeps none
            _record_deletions(model, rows, user=who, reason=reason, when=when, using=using)
        # _raw_delete is the signal-free DELETE Django's own cascade uses for rows nothing
        # listens to; the history the signals would have written is written just above.
        rows._raw_delete(using)


def _record_deletions(
    model: type[Model], rows: QuerySet, *, user, reason: str, when: datetime, using: str
) -> None:
    """Bulk-insert a "-" historical row for each of ``rows``, as its post_delete would have.

    simple-history's ``bulk_history_create`` writes only "+" and "~" rows, hence this. The
    rows are read as plain values: model instances would only be taken apart again.
    """
    historical = model.history.model
    fields = [field.attname for field in historical.tracked_fields]
    historical.objects.using(using).bulk_create(
        [
            historical(
                history_date=when,
                history_type="-",
                history_user=user,
                history_change_reason=reason,
                **values,
            )
            for values in rows.order_by("pk").values(*fields).iterator(chunk_size=2000)
        ]
    )


def _create_report(
    table: table_format.Table, *, source_name: str, source_sha256: str, user
) -> Report:
    history = {"default_user": user, "default_change_reason": _change_reason(source_name)}
    report = Report(
        as_of=table.as_of,
        title=table.title,
        status=Report.Status.PUBLISHED,
        source_name=source_name,
        source_sha256=source_sha256,
        published_at=timezone.now(),
    )
    report._change_reason = history["default_change_reason"]
    report._history_user = user
    report.save()
    StatedTotal.objects.bulk_create(
        StatedTotal(report=report, rating=t.rating, count=t.count, percent=t.percent)
        for t in table.stated_totals
    )
    footnotes = {
        footnote.marker: footnote
        for footnote in bulk_create_with_history(
            [Footnote(report=report, marker=f.marker, text=f.text) for f in table.footnotes],
            Footnote,
            **history,
        )
    }
    chapters = bulk_create_with_history(
        [Chapter(report=report, number=c.number, title=c.title) for c in table.chapters],
        Chapter,
        **history,
    )
    pledges = bulk_create_with_history(
        [
            Pledge(chapter=chapter, number=p.number, field=p.field, title=p.title)
            for chapter, entry in zip(chapters, table.chapters, strict=True)
            for p in entry.pledges
        ],
        Pledge,
        **history,
    )
    sub_items = bulk_create_with_history(
        [
            SubItem(pledge=pledge, position=s.position, title=s.title, content=s.content)
            for pledge, entry in zip(pledges, table.pledges, strict=True)
            for s in entry.sub_items
        ],
        SubItem,
        **history,
    )
    assessments = bulk_create_with_history(
        [
            Assessment(
                sub_item=sub_item,
                rating=entry.rating,
                footnote=footnotes[entry.footnote] if entry.footnote else None,
            )
            for sub_item, entry in zip(sub_items, table.sub_items, strict=True)
        ],
        Assessment,
        **history,
    )
    bulk_create_with_history(
        [
            ProgressNote(
                assessment=assessment, position=index, text=text, bulleted=entry.notes_bulleted
            )
            for assessment, entry in zip(assessments, table.sub_items, strict=True)
            for index, text in enumerate(entry.notes, start=1)
        ],
        ProgressNote,
        **history,
    )
    return report
