"""Every write to the pledge data: the rules, the history, the revision and the cache version.

Imports, the admin's forms and actions, workbook uploads, copying, publishing and deleting all
write through the functions here, and nothing else writes to the models. Each function:

- checks the rules first and raises ``EditError`` (a message for staff) having written nothing;
- writes in one transaction, with a history row per changed row naming ``user`` and a reason
  (``history_reason``);
- bumps an assessment's ``revision`` on every change of its rating, footnote or notes, so a form
  opened before the change is refused (``edit_conflict``);
- bumps the ``content_version`` of every report it changed (``_changed``, the only place that
  does): the public pages' cache keys move, and the next request shows the write.

The bulk tree writer (create and delete a whole report) is ``report_tree``, called from here only.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import caching, report_tree, table_format
from .models import (
    Assessment,
    Chapter,
    Footnote,
    Manifesto,
    Pledge,
    ProgressNote,
    Report,
    StatedTotal,
    SubItem,
    footnote_number,
)

if TYPE_CHECKING:
    from .excel import ImportPlan

# simple-history's column for the reason; every model's history table has the same one.
HISTORY_REASON_MAX_LENGTH: int = Assessment.history.model._meta.get_field(
    "history_change_reason"
).max_length


class EditError(Exception):
    """The write cannot be done as asked; nothing was written. The message is for staff."""


class UnratedSubItems(EditError):
    """Publishing refused: ``sub_items`` (in table order) have no rating yet."""

    def __init__(self, sub_items: tuple[SubItem, ...]) -> None:
        super().__init__(sub_items)
        self.sub_items = sub_items

    def __str__(self) -> str:
        codes = "、".join(f"{item.code}{item.title}" for item in self.sub_items)
        return _("評価が空欄の項目があるため公開できません: %(codes)s") % {"codes": codes}


class StalePlanError(EditError):
    """The report changed after the workbook's plan was made; nothing was applied."""


class ConflictError(EditError):
    """The plan changes sub-items that others changed too since the export; nothing was
    applied. ``codes`` names them (``1①``)."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = list(codes)
        super().__init__(
            f"{len(self.codes)} 件の項目は、書き出しの後に他の人も変更しています: "
            f"{'、'.join(self.codes)}。何も反映していません。上書きしてよいか確認してください。"
        )


# --------------------------------------------------------------------------------------------
# Rules


def needs_every_rating(report: Report) -> bool:
    """A published report has every rating: ``publish`` refuses a draft with an unrated
    sub-item, and no write (form, action, workbook) may blank a rating of a published report.
    Drafts may hold blanks while staff fill them in."""
    return report.is_published


def blank_rating_refused(report: Report, rating: str) -> str | None:
    """Why ``rating`` cannot be stored in ``report`` (``needs_every_rating``), or None."""
    if not rating and needs_every_rating(report):
        return _("公開中の報告では評価を空欄にできません。A〜D から選んでください。")
    return None


def part_refused(model: type[Model], report: Report) -> str | None:
    """Why a new ``model`` (chapter, pledge, sub-item, footnote) cannot be added to
    ``report``, or None.

    A published report keeps the structure it was published with, and so never gains an
    unrated sub-item; a ※ footnote may be added between publications.
    """
    if model is not Footnote and report.is_published:
        return _("公開中の報告の構成は変えられません。下書きに追加してください。")
    return None


def edit_conflict(assessment_id: int, opened_revision: int | None) -> str | None:
    """Why a form opened at ``opened_revision`` may not be saved (someone saved since), or None.

    Locks the assessment until the caller's transaction ends, so no save slips in between this
    check and the caller's write.
    """
    current = Assessment.objects.select_for_update().get(pk=assessment_id)
    if opened_revision is not None and opened_revision == current.revision:
        return None
    return _(
        "保存していません。この画面を開いた後に、%(changes)sしました。"
        "ページを読み込み直して最新の内容を確かめてから、もう一度編集してください。"
    ) % {"changes": changes_since(current, opened_revision or 0)}


# --------------------------------------------------------------------------------------------
# Assessments: rating, footnote and notes


@dataclass(frozen=True)
class NoteEdit:
    """One progress note as an editor wants it: an existing note (its ``id``) or a new one."""

    text: str
    id: int | None = None


def save_assessment(
    assessment: Assessment,
    *,
    notes: Sequence[NoteEdit] | None = None,
    user=None,
    reason: str | None = None,
) -> bool:
    """Store the rating, footnote and ``notes_bulleted`` set on ``assessment`` and, given
    ``notes``, make its notes exactly these in this order (positions 1, 2, …).

    Writes nothing when nothing differs (no empty history row, ``updated_at`` unmoved); else one
    history row per changed row and one new revision. Returns whether anything changed. Raises
    EditError for a blank rating on a published report.
    """
    report = assessment.report
    if problem := blank_rating_refused(report, assessment.rating):
        raise EditError(problem)
    with transaction.atomic():
        current = Assessment.objects.select_for_update().get(pk=assessment.pk)
        changed = _state(current) != _state(assessment)
        if notes is not None:
            wanted = {assessment.pk: list(notes)}
            changed |= bool(_write_notes(wanted, _notes_of([assessment.pk]), user=user,
                                         reason=reason))
        if not changed:
            return False
        assessment.revision = current.revision + 1
        report_tree.stamp(assessment, user=user, reason=reason)
        assessment.save()
        _changed(report.pk)
    return True


def _state(assessment: Assessment) -> tuple:
    return assessment.rating, assessment.footnote_id, assessment.notes_bulleted


def set_rating(assessments: QuerySet[Assessment], code: str, *, user=None,
               reason: str | None = None) -> int:
    """Set ``code`` on those of ``assessments`` that differ, with one history row each; returns
    how many changed."""
    now = timezone.now()
    with transaction.atomic():
        changed = []
        # Locked through their ids: the admin's selection may be DISTINCT (a search across
        # notes), which PostgreSQL cannot lock.
        for assessment in (
            Assessment.objects.filter(pk__in=assessments.values("pk"))
            .select_related("sub_item__pledge__chapter__report__manifesto")
            .select_for_update(of=("self",)).order_by("pk")
        ):
            if assessment.rating == code:
                continue
            if problem := blank_rating_refused(assessment.report, code):
                raise EditError(problem)
            assessment.rating = code
            assessment.updated_at = now
            assessment.revision += 1
            changed.append(assessment)
        # QuerySet.update() would bypass simple-history; this writes the history rows too.
        bulk_update_with_history(
            changed, Assessment, ["rating", "updated_at", "revision"], batch_size=500,
            default_user=user, default_change_reason=reason,
        )
        _changed(*{assessment.report.pk for assessment in changed})
    return len(changed)


@dataclass(frozen=True)
class ApplyResult:
    ratings: int
    notes: int


def apply_workbook(
    plan: ImportPlan, *, user=None, reason: str = "", overwrite: bool = False
) -> ApplyResult:
    """Apply a workbook's ``plan`` (``excel.plan_import``) in one transaction.

    Refuses (``ConflictError``) a plan with conflicts unless ``overwrite`` says the user chose
    to replace the others' edits; then (``StalePlanError``) if a changed sub-item no longer has
    the plan's old values, edited meanwhile. Writes nothing when refusing.
    """
    if plan.conflicts and not overwrite:
        raise ConflictError([change.code for change in plan.conflicts])
    reason = history_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        assessments = {
            assessment.sub_item_id: assessment
            for assessment in Assessment.objects.select_for_update(of=("self",))
            .select_related("sub_item__pledge__chapter__report__manifesto")
            .filter(sub_item_id__in=[change.sub_item_id for change in plan.changes],
                    sub_item__pledge__chapter__report_id=plan.report_id)
        }
        notes = _notes_of([assessment.pk for assessment in assessments.values()])
        stale = [
            change.code
            for change in plan.changes
            if (assessment := assessments.get(change.sub_item_id)) is None
            or assessment.rating != change.old_rating
            or tuple(note.text for note in notes[assessment.pk]) != change.old_notes
        ]
        if stale:
            raise StalePlanError(
                f"{plan.month} の報告は、ブックを読み込んだ後に変更されました "
                f"({'、'.join(stale)})。何も反映していません。もう一度アップロードしてください。"
            )
        touched, wanted = [], {}
        for change in plan.changes:
            assessment = assessments[change.sub_item_id]
            if problem := blank_rating_refused(assessment.report, change.new_rating):
                raise EditError(f"{change.code}: {problem}")
            assessment.rating = change.new_rating
            assessment.updated_at = now
            assessment.revision += 1
            touched.append(assessment)
            if change.notes_changed:
                # Notes are reused by position: the workbook knows them by their order only.
                current = notes[assessment.pk]
                wanted[assessment.pk] = [
                    NoteEdit(text, current[index].pk if index < len(current) else None)
                    for index, text in enumerate(change.new_notes)
                ]
                assessment.notes_bulleted = change.new_bulleted or not change.new_notes
        bulk_update_with_history(
            touched, Assessment, ["rating", "notes_bulleted", "updated_at", "revision"],
            default_user=user, default_change_reason=reason,
        )
        _write_notes(wanted, notes, user=user, reason=reason)
        _changed(*({plan.report_id} if touched else set()))
    return ApplyResult(
        ratings=sum(change.rating_changed for change in plan.changes),
        notes=sum(change.notes_changed for change in plan.changes),
    )


def _notes_of(assessment_ids: Iterable[int]) -> dict[int, list[ProgressNote]]:
    """The notes of these assessments, in order, by assessment id (one query)."""
    notes: dict[int, list[ProgressNote]] = defaultdict(list)
    for note in ProgressNote.objects.filter(assessment_id__in=list(assessment_ids)).order_by(
        "assessment_id", "position", "id"
    ):
        notes[note.assessment_id].append(note)
    return notes


def _write_notes(
    wanted: dict[int, list[NoteEdit]], current: dict[int, list[ProgressNote]], *, user,
    reason: str | None,
) -> set[int]:
    """Make each assessment's notes (by assessment id) exactly ``wanted``, positions 1, 2, …,
    from its ``current`` ones: bulk writes with a history row per note created, changed or
    deleted. Returns the ids of the assessments whose notes changed."""
    updated, created, removed, changed = [], [], [], set()
    for assessment_id, edits in wanted.items():
        have = {note.pk: note for note in current.get(assessment_id, [])}
        kept = set()
        for position, edit in enumerate(edits, start=1):
            note = have.get(edit.id) if edit.id is not None else None
            if note is None:
                created.append(
                    ProgressNote(assessment_id=assessment_id, position=position, text=edit.text)
                )
                changed.add(assessment_id)
                continue
            kept.add(note.pk)
            if (note.text, note.position) != (edit.text, position):
                note.text, note.position = edit.text, position
                updated.append(note)
                changed.add(assessment_id)
        gone = [pk for pk in have if pk not in kept]
        removed += gone
        if gone:
            changed.add(assessment_id)
    history = {"default_user": user, "default_change_reason": reason}
    if updated:
        bulk_update_with_history(updated, ProgressNote, ["text", "position"], **history)
    if created:
        bulk_create_with_history(created, ProgressNote, **history)
    if removed:
        report_tree.delete_rows(ProgressNote.objects.filter(pk__in=removed), user=user,
                                reason=reason, when=timezone.now())
    return changed


# --------------------------------------------------------------------------------------------
# The structure: chapters, pledges, sub-items, footnotes, a report's own fields


def save_part(part: Model, *, user=None, reason: str | None = None) -> None:
    """Save a chapter, pledge, sub-item, footnote or a report's own fields, with history.

    A new sub-item gets its assessment (unrated); a footnote's number follows its marker.
    Raises EditError for a part added to a published report (``part_refused``).
    """
    if isinstance(part, Assessment | ProgressNote | StatedTotal):
        raise TypeError(f"{type(part).__name__} is written by save_assessment or an import")
    adding = part.pk is None
    if adding and (problem := part_refused(type(part), _report_of(part))):
        raise EditError(problem)
    with transaction.atomic():
        if isinstance(part, Footnote):
            part.number = footnote_number(part.marker)
        report_tree.stamp(part, user=user, reason=reason)
        if isinstance(part, Report) and not adding:
            # The version is this module's to move (``_changed``), never an in-memory copy's.
            part.save(update_fields=[
                field.name for field in Report._meta.concrete_fields
                if not field.primary_key and field.name != "content_version"
            ])
        else:
            part.save()
        if adding and isinstance(part, SubItem):
            # Every sub-item has exactly one assessment.
            Assessment.objects.get_or_create(sub_item=part)
        _changed(_report_of(part).pk)


def delete_part(part: Model, *, user=None, reason: str | None = None) -> None:
    """Delete a chapter, pledge, sub-item or footnote with what hangs from it, with history.
    A whole report goes through ``delete_report``."""
    if isinstance(part, Report):
        delete_report(part, user=user, reason=reason or "delete")
        return
    with transaction.atomic():
        report_id = _report_of(part).pk
        if isinstance(part, Footnote):
            # The assessments it marked lose it: a change of their footnote, so a new revision
            # each (the cascade's SET NULL would record neither).
            marked = list(part.assessments.select_for_update())
            for assessment in marked:
                assessment.footnote = None
                assessment.revision += 1
            bulk_update_with_history(marked, Assessment, ["footnote", "revision"],
                                     default_user=user, default_change_reason=reason)
        report_tree.stamp(part, user=user, reason=reason)
        part.delete()
        _changed(report_id)


# How each part reaches its report, as an attribute path.
_REPORT_PATH: dict[type[Model], str] = {
    Report: "",
    StatedTotal: "report",
    Chapter: "report",
    Footnote: "report",
    Pledge: "chapter.report",
    SubItem: "pledge.chapter.report",
    Assessment: "sub_item.pledge.chapter.report",
    ProgressNote: "assessment.sub_item.pledge.chapter.report",
}


def _report_of(part: Model) -> Report:
    report = part
    for name in filter(None, _REPORT_PATH[type(part)].split(".")):
        report = getattr(report, name)
    assert isinstance(report, Report)
    return report


# --------------------------------------------------------------------------------------------
# Whole reports: import, copy, publish, delete


def create_report(
    tree: report_tree.Tree, *, replacing: Report | None = None, user=None, reason: str, when,
) -> Report:
    """Write the new report ``tree`` (``report_tree.build``) with a history row per row,
    deleting ``replacing`` first (with a history row per deleted row), in one transaction.

    Raises EditError, writing nothing, for a published report with an unrated sub-item.
    """
    if needs_every_rating(tree.report) and not all(tree.rows[Assessment].column("rating")):
        raise EditError(_("公開する報告に評価が空欄の項目があります。"))
    with transaction.atomic():
        manifesto = tree.report.manifesto
        if manifesto.pk is None:  # the import starts a new manifesto
            report_tree.stamp(manifesto, user=user, reason=reason)
            manifesto.save()
            tree.report.manifesto = manifesto
        if replacing is not None:
            report_tree.delete(replacing, user=user, reason=reason, when=when)
        report_tree.insert(tree, user=user, reason=reason, when=when)
        _changed(tree.report.pk)
    return tree.report


def draft_title(source: Report, as_of: date) -> str:
    """The source's title with its 【…現在】 month replaced by the new one (else unchanged)."""
    old = f"【{source.month_label}現在】"
    new = f"【{table_format.month_label(as_of)}現在】"
    return source.title.replace(old, new) if old in source.title else source.title


def copy_to_draft(source: Report, as_of: date, *, user=None) -> Report:
    """Create a DRAFT report for ``as_of`` holding a copy of ``source``'s whole tree (not the
    totals the city printed under it, which belong to its file).

    Raises EditError, writing nothing, if ``source`` is a draft, a report for ``as_of`` exists
    already, or ``as_of`` is not after the newest published report: a draft is the next report.
    Reads a fixed number of queries and writes in bulk batches, never row by row.
    """
    if not source.is_published:
        raise EditError(_("複製できるのは公開中の報告だけです。"))
    reason = history_reason(f"copy of {source.month}")
    draft = Report(manifesto=source.manifesto, as_of=as_of, title=draft_title(source, as_of),
                   status=Report.Status.DRAFT)
    when = timezone.now()
    try:
        with transaction.atomic():
            _check_next_month(as_of)
            tree = report_tree.build(report_tree.table_of(source), draft)
            create_report(tree, user=user, reason=reason, when=when)
    except IntegrityError:
        # Another request created the month between our check and our insert.
        _check_next_month(as_of)
        raise
    report_tree.refresh_planner_statistics()
    return draft


def _check_next_month(as_of: date) -> None:
    existing = Report.objects.filter(as_of=as_of).first()
    if existing is not None:
        raise EditError(
            _("%(label)s(%(month)s)の報告はすでにあります(%(status)s)。"
              "1か月に1つの報告だけ作れます。")
            % {"label": existing.month_label, "month": existing.month,
               "status": existing.get_status_display()}
        )
    newest = Report.objects.latest_published()
    if newest is not None and as_of <= newest.as_of:
        raise EditError(
            _("公開中の最新の報告(%(label)s)より後の月を入力してください。")
            % {"label": newest.month_label}
        )


def unrated_sub_items(report: Report) -> QuerySet[SubItem]:
    """The report's sub-items without a rating (blank, or no assessment at all), in table order."""
    return (
        SubItem.objects.filter(pledge__chapter__report=report)
        .filter(Q(assessment__isnull=True) | Q(assessment__rating=""))
        .select_related("pledge", "assessment")
        .order_by("pledge__number", "position")
    )


def publish(report: Report, *, user=None) -> Report:
    """Make the draft ``report`` public: status published, ``published_at`` now.

    Raises UnratedSubItems (listing them) while a sub-item lacks a rating, EditError if it is
    published already; changes nothing then.
    """
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.is_published:
            raise EditError(_("%(report)s はすでに公開されています。") % {"report": report})
        report.status = Report.Status.PUBLISHED
        if needs_every_rating(report) and (unrated := tuple(unrated_sub_items(report))):
            raise UnratedSubItems(unrated)
        report.published_at = timezone.now()
        save_part(report, user=user, reason="publish")
    return report


def delete_report(report: Report, *, user=None, reason: str = "delete") -> None:
    """Delete ``report`` and its whole tree in bulk, with a "-" history row per deleted row."""
    with transaction.atomic():
        report_tree.delete(report, user=user, reason=history_reason(reason),
                           when=timezone.now())
        # Its pages go with it: the list of published reports, in every page's key, changes;
        # and the cache generation with it (its row is gone, the version bump is a no-op).
        _changed(report.pk)


# --------------------------------------------------------------------------------------------
# Versions, history reasons, fingerprints


def save_manifesto(manifesto: Manifesto, *, user=None) -> None:
    """Save a manifesto's title, mayor or term, with history; every page of its reports shows
    them. Its scale is the legend of its tables and is never edited."""
    with transaction.atomic():
        report_tree.stamp(manifesto, user=user, reason=None)
        manifesto.save()
        _changed(*manifesto.reports.values_list("pk", flat=True))


def _changed(*report_ids: int) -> None:
    """Bump the ``content_version`` of these reports (one UPDATE), inside the writing
    transaction: every public page showing them gets a new cache key; and, once the
    transaction has committed, start a new page cache generation (``caching.pages_changed``).

    F() makes concurrent bumps add up instead of overwriting each other; ``updated_at`` moves
    too, as the feed and the admin say when a report last changed.
    """
    ids = {report_id for report_id in report_ids if report_id is not None}
    if ids:
        Report.objects.filter(pk__in=ids).update(
            content_version=F("content_version") + 1, updated_at=timezone.now()
        )
        transaction.on_commit(caching.pages_changed)


def history_reason(text: str) -> str:
    """``text`` made to fit the history's reason column (PostgreSQL refuses longer text).

    A long file name in ``Excel: <name>`` must never turn a confirmed upload into a 500, so the
    end is cut with an ellipsis rather than the write failing.
    """
    text = " ".join(text.split())
    if len(text) <= HISTORY_REASON_MAX_LENGTH:
        return text
    return text[: HISTORY_REASON_MAX_LENGTH - 1] + "…"


def assessment_fingerprint(rating: str, notes: Sequence[str], bulleted: bool) -> str:
    """A short digest of what staff edit on a sub-item: its rating and notes.

    A workbook records it per sub-item when exported, so that on upload the import can tell
    the workbook's own edits (its cells differ from the fingerprint) from edits others made
    since (the database differs from it), and find the items both changed.
    """
    state = [rating, list(notes), bulleted if notes else True]
    encoded = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def changes_since(assessment: Assessment, revision: int) -> str:
    """Who changed ``assessment`` after its ``revision``, when, and what, in one Japanese line.

    For the editor whose form was opened at ``revision``: read from the history, whose every
    record carries the revision it made.
    """
    history = assessment.history.select_related("history_user").order_by(
        "history_date", "history_id"
    )
    previous = history.filter(revision__lte=revision).last()
    scale = assessment.report.scale
    told = []
    for record in history.filter(revision__gt=revision):
        what = []
        if previous is None or previous.rating != record.rating:
            before = scale.text(previous.rating) if previous else ""
            what.append(f"評価 ({before or '未評価'} → {scale.text(record.rating) or '未評価'})")
        if previous is not None and previous.footnote_id != record.footnote_id:
            what.append("注記")
        who = record.history_user.get_username() if record.history_user else "(記録なし)"
        when = timezone.localtime(record.history_date)
        told.append(
            f"{who} さんが {when.month}月{when.day}日 {when:%H:%M} に"
            f"{'・'.join(what) or '取組状況'}を変更"
        )
        previous = record
    return "、".join(told) or "別の画面で変更"
