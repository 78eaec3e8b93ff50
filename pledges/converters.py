"""URL converters."""

from __future__ import annotations


class MonthConverter:
    """``2022-03``: a report's as-of month in URLs."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
