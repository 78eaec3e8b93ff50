"""What every browser test shares: Debian's Chromium, its flags, and where screenshots go.

The fixtures that use these (``browser_type_launch_args``, ``browser_context_args``) are in
``conftest.py``; test modules import ``screenshot`` and ``PHONE`` from here.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

# `playwright install` cannot download browsers here; the system Chromium is used instead.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")
# The pages are Japanese; the browser asks for Japanese explicitly so that they stay Japanese
# once English translations exist (LocaleMiddleware would otherwise follow the browser).
LOCALE = "ja-JP"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"  # git-ignored
PHONE = {"width": 375, "height": 812}


def screenshot(page: Page, name: str) -> None:
    """Save the whole page as ``artifacts/screenshots/<name>.png`` for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
