"""Writes to the pledge data: the rules every write path shares.

The history reason every write records, the fingerprint of an assessment's editable state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

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
