"""Preparing the next report: copy a published report into a draft, then publish the draft.

A draft is a full, independent tree (chapters, pledges, sub-items, assessments with their
ratings, progress notes and footnotes) that staff edit in the admin; the public pages and the API
only ever see ``Report.objects.published()``, so nothing of a draft leaks before it is published.
The totals the city printed (StatedTotal) are *not* copied: they belong to the file of the old
month, and our own figures are always recomputed from the assessments anyway.

Every write goes through simple-history (``bulk_create_with_history`` / ``save``) so the draft's
origin and its publication are in the history with the user who did it.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from . import table_format
from .loading import refresh_planner_statistics
from .models import Assessment, Chapter, Footnote, Pledge, ProgressNote, Report, SubItem


class PublishingError(Exception):
    """The copy or the publication cannot be done as asked; the message is for staff."""


class UnratedSubItems(PublishingError):
    """Publishing refused: ``sub_items`` (in table order) have no rating yet."""

    def __init__(self, sub_items: tuple[SubItem, ...]) -> None:
        super().__init__(sub_items)
        self.sub_items = sub_items

    def __str__(self) -> str:
        codes = "、".join(f"{item.code}{item.title}" for item in self.sub_items)
        return _("評価が空欄の項目があるため公開できません: %(codes)s") % {"codes": codes}


def draft_title(source: Report, as_of: date) -> str:
    """The source's title with its 【…現在】 month replaced by the new one (else unchanged)."""
    old = f"【{source.month_label}現在】"
    new = f"【{table_format.month_label(as_of)}現在】"
    return source.title.replace(old, new) if old in source.title else source.title


def copy_to_draft(source: Report, as_of: date, *, user=None) -> Report:
    """Create a DRAFT report for ``as_of`` holding a copy of ``source``'s whole tree.

    Raises PublishingError if ``source`` is a draft or a report for ``as_of`` exists already;
    writes nothing then. Reads a fixed number of queries and writes in bulk batches, never
    row by row.
    """
    if not source.is_published:
        raise PublishingError(_("複製できるのは公開中の報告だけです。"))
    reason = f"copy of {source.month}"
    history = {"default_user": user, "default_change_reason": reason}
    try:
        with transaction.atomic():
            if Report.objects.filter(as_of=as_of).exists():
                raise PublishingError(_duplicate_month_message(as_of))
            draft = Report(
                as_of=as_of,
                title=draft_title(source, as_of),
                status=Report.Status.DRAFT,
            )
            draft._change_reason = reason
            draft._history_user = user
            draft.save()
            _copy_tree(source, draft, history)
            refresh_planner_statistics()
    except IntegrityError:
        # Another request created the month between our check and our insert.
        raise PublishingError(_duplicate_month_message(as_of)) from None
    return draft


def _duplicate_month_message(as_of: date) -> str:
    return _("%(label)s(%(month)s)の報告はすでにあります(下書きを含む)。") % {
        "label": table_format.month_label(as_of),
        "month": f"{as_of:%Y-%m}",
    }


def _copy_tree(source: Report, draft: Report, history: dict) -> None:
    old_footnotes = list(Footnote.objects.filter(report=source).order_by("pk"))
    new_footnotes = bulk_create_with_history(
        [Footnote(report=draft, marker=f.marker, text=f.text) for f in old_footnotes],
        Footnote,
        **history,
    )
    footnote_for = {
        old.pk: new for old, new in zip(old_footnotes, new_footnotes, strict=True)
    }

    old_chapters = list(Chapter.objects.filter(report=source).order_by("pk"))
    new_chapters = bulk_create_with_history(
        [Chapter(report=draft, number=c.number, title=c.title) for c in old_chapters],
        Chapter,
        **history,
    )
    chapter_for = {old.pk: new for old, new in zip(old_chapters, new_chapters, strict=True)}

    old_pledges = list(Pledge.objects.filter(chapter__report=source).order_by("pk"))
    new_pledges = bulk_create_with_history(
        [
            Pledge(chapter=chapter_for[p.chapter_id], number=p.number, field=p.field, title=p.title)
            for p in old_pledges
        ],
        Pledge,
        **history,
    )
    pledge_for = {old.pk: new for old, new in zip(old_pledges, new_pledges, strict=True)}

    old_sub_items = list(SubItem.objects.filter(pledge__chapter__report=source).order_by("pk"))
    new_sub_items = bulk_create_with_history(
        [
            SubItem(
                pledge=pledge_for[s.pledge_id],
                position=s.position,
                title=s.title,
                content=s.content,
            )
            for s in old_sub_items
        ],
        SubItem,
        **history,
    )
    sub_item_for = {old.pk: new for old, new in zip(old_sub_items, new_sub_items, strict=True)}

    old_assessments = list(
        Assessment.objects.filter(sub_item__pledge__chapter__report=source).order_by("pk")
    )
    new_assessments = bulk_create_with_history(
        [
            Assessment(
                sub_item=sub_item_for[a.sub_item_id],
                rating=a.rating,
                footnote=footnote_for.get(a.footnote_id),
            )
            for a in old_assessments
        ],
        Assessment,
        **history,
    )
    assessment_for = {
        old.pk: new for old, new in zip(old_assessments, new_assessments, strict=True)
    }

    bulk_create_with_history(
        [
            ProgressNote(
                assessment=assessment_for[n.assessment_id],
                position=n.position,
                text=n.text,
                bulleted=n.bulleted,
            )
            for n in ProgressNote.objects.filter(
                assessment__sub_item__pledge__chapter__report=source
            ).order_by("pk")
        ],
        ProgressNote,
        **history,
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

    Raises UnratedSubItems (listing them) while a sub-item lacks a rating, PublishingError if it
    is published already; changes nothing then.
    """
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.is_published:
            raise PublishingError(_("%(report)s はすでに公開されています。") % {"report": report})
        unrated = tuple(unrated_sub_items(report))
        if unrated:
            raise UnratedSubItems(unrated)
        report.status = Report.Status.PUBLISHED
        report.published_at = timezone.now()
        report._change_reason = "publish"
        report._history_user = user
        report.save()
    return report
