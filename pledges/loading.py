"""Parsed table → models, in one transaction, returning what it did instead of printing.

The parser has already refused anything malformed; this module decides what the table means for
the database (new month, same file again, a different file for a month we have) and writes the
whole report at once, history included, or nothing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Field, Model
from django.utils import timezone

from . import editing, report_tree, stats, table_format
from .models import Report
from .ratings import IRUMA, Scale
from .report_tree import refresh_planner_statistics


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
    counts: dict[str, Any] = dict(
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
    tree = report_tree.build(
        table,
        Report(as_of=table.as_of, title=table.title, status=Report.Status.PUBLISHED,
               source_name=source_name, source_sha256=source_sha256,
               published_at=timezone.now()),
    )
    _check_lengths(tree)
    if dry_run:
        return LoadResult(action="replaced" if existing is not None else "created", **counts)
    # Who imports, as simple-history's signals would find them when no user is given (the
    # request's user under HistoryRequestMiddleware).
    user = user or Report.history.model.get_default_history_user(tree.report)
    when = timezone.now()
    history = report_tree.history_rows(tree, user=user, reason=reason, when=when)
    started = time.perf_counter()
    with transaction.atomic():
        # Decided again under the lock: another import may have run since the read above.
        existing = Report.objects.select_for_update().filter(as_of=table.as_of).first()
        decided = _decide(existing, source_sha256, replace=replace, counts=counts)
        if decided is not None:
            return decided
        editing.create_report(tree, history, replacing=existing, user=user, reason=reason,
                              when=when)
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


def _check_lengths(tree: report_tree.Tree) -> None:
    """Refuse text longer than its column before writing (PostgreSQL would fail mid-import).

    Every value the loader writes is checked against its model field's ``max_length``, so a
    limit added to a model applies to imports without a change here.
    """
    for model, rows in tree.rows.items():
        limited = [
            (column, column.max_length)
            for column in model._meta.concrete_fields if column.max_length
        ]
        for instance, line in rows:
            for column, limit in limited:
                value = getattr(instance, column.attname)
                if isinstance(value, str) and len(value) > limit:
                    raise table_format.ParseError(
                        line,
                        f"{model.__name__}.{column.name} ({column.verbose_name}) is "
                        f"{len(value):,} characters long; at most {limit:,} fit",
                        value=value,
                    )


def _fitted(model: type[Model], field_name: str, value: str) -> str:
    """``value`` cut to the field's ``max_length``: for names we record, not data we publish."""
    column = model._meta.get_field(field_name)
    assert isinstance(column, Field) and column.max_length is not None, field_name
    limit = column.max_length
    return value if len(value) <= limit else value[: limit - 1] + "…"
