"""Shared fixtures: the real 2022 table is the main one; variants are built from it in tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pledges import loading, table_format
from pledges.models import Report

from . import browser

# Playwright's sync API keeps an event loop running in this thread from the first browser test
# to the end of the session; Django's ORM refuses to run under one unless told it is safe, which
# it is here: the test thread only sets data up while the live server answers the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_2022 = FIXTURES / "iruma-pledge-progress-2022-03.txt"


@pytest.fixture(scope="session")
def real_bytes() -> bytes:
    return REAL_2022.read_bytes()


@pytest.fixture(scope="session")
def real_text(real_bytes: bytes) -> str:
    return real_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def real_table(real_bytes: bytes) -> table_format.Table:
    return table_format.parse_bytes(real_bytes)


@pytest.fixture
def report_2022(db, real_bytes: bytes) -> Report:
    """The real March 2022 report, imported through the loader."""
    loading.load_file(real_bytes, source_name=REAL_2022.name)
    return Report.objects.get(as_of__year=2022, as_of__month=3)


@pytest.fixture
def report_2023(report_2022: Report, real_table: table_format.Table) -> Report:
    """A second published report built from the real table: as of March 2023, with 4① now
    rated A (so A 9 / B 28 / C 23 / D 0), loaded next to ``report_2022``."""
    from dataclasses import replace
    from datetime import date

    def updated(item: table_format.SubItemEntry, pledge: int) -> table_format.SubItemEntry:
        return replace(item, rating="A") if (pledge, item.position) == (4, 1) else item

    as_of = date(2023, 3, 1)
    table = replace(
        real_table,
        title=real_table.title.replace("令和4年3月", table_format.month_label(as_of)),
        as_of=as_of,
        chapters=tuple(
            replace(
                chapter,
                pledges=tuple(
                    replace(p, sub_items=tuple(updated(item, p.number) for item in p.sub_items))
                    for p in chapter.pledges
                ),
            )
            for chapter in real_table.chapters
        ),
        stated_totals=(),
    )
    loading.load_table(table, source_name="built-from-2022.txt")
    return Report.objects.get(as_of=as_of)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rolled-back ids and versions repeat across tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --------------------------------------------------------------------------------------------
# Browser tests (pytest-playwright's fixtures, pointed at the system Chromium)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": browser.CHROMIUM,
        "args": list(browser.CHROMIUM_ARGS),
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": browser.LOCALE}


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """``--base-url`` or the ``base_url`` ini value, as pytest-playwright's own fixture gives.

    Defined here because pytest-playwright (without pytest-base-url) provides it as a method of a
    plugin object, which pytest deprecates (PytestRemovedIn10Warning); the browser tests use the
    live server's URL, not this one.
    """
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None
