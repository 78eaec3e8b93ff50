"""Writes to the pledge data: the rules every write path shares.

For now the history reason; the editing service grows here.
"""

from __future__ import annotations

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
