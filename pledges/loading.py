"""Parsed table → models, in one transaction, returning what it did instead of printing.

The parser has already refused anything malformed; this module decides what the table means for
the database — which manifesto it belongs to (the current one, a named one, or a new one), and
whether it is a new month, the same file again or a different file for a month we have — and
writes the whole report at once, history included, or nothing.

A table joins a manifesto only if it reads like that manifesto's: the same legend (scale), and
most of its sub-items found in the manifesto's newest report under the same number and title.
A new term's table is refused with a message naming ``--new-manifesto``, so that two unrelated
manifestos are never compared as if one had become the other.
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
from .models import Manifesto, Report, SubItem
from .ratings import IRUMA, Scale
from .report_tree import refresh_planner_statistics


class LoadError(Exception):
    """The table is valid but cannot be loaded as asked (e.g. its month exists already)."""


@dataclass(frozen=True)
class NewManifesto:
    """Start a new manifesto with this table: its ``slug`` and what else is known of it."""

    slug: str
    title: str = ""
    mayor: str = ""


# Below this share of sub-items found in the manifesto's newest report (same number, same
# title), a table is taken for another manifesto's. Between two years of one term most titles
# stay; a new term renumbers and renames nearly all of them.
SAME_MANIFESTO_SHARE = 0.5


@dataclass(frozen=True)
class LoadResult:
    month: str
    action: str  # "created", "replaced" or "unchanged"
    chapters: int
    pledges: int
    sub_items: int
    rating_counts: dict[str, int] = field(default_factory=dict)  # code → count, scale order
    scale: Scale = IRUMA
    manifesto: str = ""  # its slug
    new_manifesto: bool = False  # the import starts it
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
    manifesto: str | None = None,
    new_manifesto: NewManifesto | None = None,
    same_manifesto: bool = False,
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
        manifesto=manifesto,
        new_manifesto=new_manifesto,
        same_manifesto=same_manifesto,
    )


def load_table(
    table: table_format.Table,
    *,
    source_name: str = "",
    source_sha256: str = "",
    replace: bool = False,
    dry_run: bool = False,
    user=None,
    manifesto: str | None = None,
    new_manifesto: NewManifesto | None = None,
    same_manifesto: bool = False,
) -> LoadResult:
    """Write ``table`` as a published report of a manifesto.

    The manifesto: ``new_manifesto`` starts one; ``manifesto`` names an existing one; else the
    current one (the newest report's; on an empty database a first one is made from the
    table). Joining an existing manifesto needs its legend and, unless ``same_manifesto``
    insists, a resemblance to its newest report (``SAME_MANIFESTO_SHARE``).

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
    chosen = _manifesto_for(table, existing, manifesto, new_manifesto, same_manifesto)
    counts.update(manifesto=chosen.slug, new_manifesto=chosen.pk is None)
    decided = _decide(existing, source_sha256, replace=replace, counts=counts)
    if decided is not None:
        return decided
    tree = report_tree.build(
        table,
        Report(manifesto=chosen, as_of=table.as_of, title=table.title,
               status=Report.Status.PUBLISHED, source_name=source_name,
               source_sha256=source_sha256, published_at=timezone.now()),
    )
    _check_lengths(tree)
    if dry_run:
        return LoadResult(action="replaced" if existing is not None else "created", **counts)
    # Who imports, as simple-history's signals would find them when no user is given (the
    # request's user under HistoryRequestMiddleware).
    user = user or Report.history.model.get_default_history_user(tree.report)
    when = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        # Decided again under the lock: another import may have run since the read above.
        existing = Report.objects.select_for_update().filter(as_of=table.as_of).first()
        decided = _decide(existing, source_sha256, replace=replace, counts=counts)
        if decided is not None:
            return decided
        editing.create_report(tree, replacing=existing, user=user, reason=reason, when=when)
    write_seconds = time.perf_counter() - started
    refresh_planner_statistics()
    return LoadResult(
        action="replaced" if existing is not None else "created",
        write_seconds=write_seconds,
        **counts,
    )


def _manifesto_for(
    table: table_format.Table,
    existing: Report | None,
    slug: str | None,
    new: NewManifesto | None,
    same: bool,
) -> Manifesto:
    """The manifesto ``table`` goes to, unsaved when the import starts it; LoadError when the
    table does not belong where it was sent. Reads only (two queries at most)."""
    if new is not None:
        if Manifesto.objects.filter(slug=new.slug).exists():
            raise LoadError(f"manifesto {new.slug!r} exists already; use --manifesto {new.slug}")
        return _new_manifesto(table, new)
    if slug is not None:
        chosen = Manifesto.objects.filter(slug=slug).first()
        if chosen is None:
            known = ", ".join(Manifesto.objects.values_list("slug", flat=True)) or "none"
            raise LoadError(
                f"no manifesto {slug!r} (manifestos: {known}); --new-manifesto {slug} starts one"
            )
    elif existing is not None:
        chosen = existing.manifesto  # a replacing or repeated import stays where it was
    else:
        newest = Report.objects.order_by("-as_of").first()
        chosen = newest.manifesto if newest else Manifesto.objects.order_by("-created_at").first()
        if chosen is None:
            return _new_manifesto(table, NewManifesto(slug="term-1"))
    _check_belongs(table, chosen, same)
    return chosen


def _new_manifesto(table: table_format.Table, new: NewManifesto) -> Manifesto:
    # The table's title without 進捗状況一覧表【…現在】 names the manifesto unless told otherwise.
    title = new.title or table.title.split("進捗状況一覧表")[0].strip() or table.title
    return Manifesto(
        slug=new.slug, title=title, mayor=new.mayor,
        levels=[[level.code, level.label] for level in table.scale],
    )


def _check_belongs(table: table_format.Table, manifesto: Manifesto, same: bool) -> None:
    """Refuse ``table`` for ``manifesto`` when its legend differs, or (unless ``same``) when
    most of its sub-items are not the manifesto's newest report's."""
    if table.scale != manifesto.scale:
        where = f"line {table.legend_line}: " if table.legend_line else ""
        raise LoadError(
            f"{where}the legend ({table.scale.legend(', ')}) is not the "
            f"scale of manifesto {manifesto.slug!r} ({manifesto.scale.legend(', ')}); a new "
            "term's table starts a new manifesto: --new-manifesto SLUG [--title …] [--mayor …]"
        )
    if same:
        return
    newest = manifesto.reports.exclude(as_of=table.as_of).order_by("-as_of").first()
    if newest is None:
        return
    known = set(
        SubItem.objects.filter(pledge__chapter__report=newest).values_list(
            "pledge__chapter__number", "pledge__number", "position", "title"
        )
    )
    entries = [
        (chapter.number, pledge.number, item.position, item.title)
        for chapter in table.chapters for pledge in chapter.pledges for item in pledge.sub_items
    ]
    found = sum(1 for entry in entries if entry in known)
    if found < SAME_MANIFESTO_SHARE * len(entries):
        raise LoadError(
            f"only {found} of {len(entries)} sub-items are found in manifesto "
            f"{manifesto.slug!r}'s report of {newest.month} (same number and title): this "
            "looks like another manifesto's table. For a new term use --new-manifesto SLUG "
            "[--title …] [--mayor …]; to add it to this manifesto all the same, use "
            "--same-manifesto"
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
    report = tree.report
    report_columns = tuple(column.attname for column in Report._meta.concrete_fields)
    written: list[tuple[type[Model], tuple[str, ...], list[tuple], list[int]]] = [
        (Report, report_columns, [tuple(getattr(report, name) for name in report_columns)],
         [tree.report_line]),
        *((model, rows.columns, rows.values, rows.lines) for model, rows in tree.rows.items()),
    ]
    for model, columns, values, lines in written:
        limited = [
            (columns.index(column.attname), column, column.max_length)
            for column in model._meta.concrete_fields
            if column.max_length and column.attname in columns
        ]
        for row, line in zip(values, lines, strict=True):
            for index, column, limit in limited:
                value = row[index]
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
