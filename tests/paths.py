"""Files the tests read."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_2022 = FIXTURES / "iruma-pledge-progress-2022-03.txt"
