"""Writes to the pledge data: the rules every write path shares.

The history reason every write records, the fingerprint of an assessment's editable state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from django.utils import timezone

from .models import Assessment

# simple-history's column for the reason; every model's history table has the same one.
HISTORY_REASON_MAX_LENGTH: int = Assessment.history.model._meta.get_field(
    "history_change_reason"
).max_length


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
