"""Shared fixtures: the real 2022 table is the main one; variants are built from it in tests.

Reports come in layers: ``report_2022`` (the real table), ``revised_2023`` (2022 and the second
report of ``tests/later_reports.py``) and ``three_reports`` (all three). Each fixture imports its
reports for its test, which rolls them back, unless the test's module keeps them for all its
tests: a module that lists ``real_report_for_module``, ``two_reports_for_module`` or
``three_reports_for_module`` in ``pytestmark = pytest.mark.usefixtures(…)`` has them imported
once, before its first test, and every test of the module starts from them (its own writes are
rolled back after it as usual). Such a module holds no ``transactional_db`` or live-server test:
those commit, and the live server's thread would not see rows in an uncommitted transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from django.db import transaction
from django.test import override_settings

from pledges import loading, table_format
from pledges.models import Report

from . import browser, later_reports
from .paths import REAL_2022

# Playwright's sync API keeps an event loop running in this thread from the first browser test
# to the end of the session; Django's ORM refuses to run under one unless told it is safe, which
# it is here: the test thread only sets data up while the live server answers the browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

KEEPS_2022 = ("real_report_for_module", "two_reports_for_module", "three_reports_for_module")
KEEPS_2023 = ("two_reports_for_module", "three_reports_for_module")
KEEPS_2024 = ("three_reports_for_module",)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    # The production hasher takes a good part of a second for each user a test creates or logs
    # in; no test is about the hasher itself.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def real_bytes() -> bytes:
    return REAL_2022.read_bytes()


@pytest.fixture(scope="session")
def real_text(real_bytes: bytes) -> str:
    return real_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def real_table(real_bytes: bytes) -> table_format.Table:
    return table_format.parse_bytes(real_bytes)


@pytest.fixture(scope="session")
def table_2023(real_table: table_format.Table) -> table_format.Table:
    return later_reports.table_2023(real_table)


@pytest.fixture(scope="session")
def table_2024(table_2023: table_format.Table) -> table_format.Table:
    return later_reports.table_2024(table_2023)


def import_2022(real_bytes: bytes) -> None:
    loading.load_file(real_bytes, source_name=REAL_2022.name)


def import_2023(table_2023: table_format.Table) -> None:
    loading.load_table(table_2023, source_name="2023.txt")


def import_2024(table_2024: table_format.Table) -> None:
    loading.load_table(table_2024, source_name="2024.txt")


def kept_for_module(django_db_blocker, *imports: Callable[[], None]) -> Iterator[None]:
    """Run ``imports`` in a transaction left open while the module's tests run, then roll it
    back: each ``db`` test nests its own transaction (a savepoint) inside it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        for run in imports:
            run()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def real_report_for_module(django_db_setup, django_db_blocker, real_bytes) -> Iterator[None]:
    yield from kept_for_module(django_db_blocker, lambda: import_2022(real_bytes))


@pytest.fixture(scope="module")
def two_reports_for_module(
    django_db_setup, django_db_blocker, real_bytes, table_2023
) -> Iterator[None]:
    yield from kept_for_module(
        django_db_blocker, lambda: import_2022(real_bytes), lambda: import_2023(table_2023)
    )


@pytest.fixture(scope="module")
def three_reports_for_module(
    django_db_setup, django_db_blocker, real_bytes, table_2023, table_2024
) -> Iterator[None]:
    yield from kept_for_module(
        django_db_blocker,
        lambda: import_2022(real_bytes),
        lambda: import_2023(table_2023),
        lambda: import_2024(table_2024),
    )


def kept(request: pytest.FixtureRequest, names: tuple[str, ...]) -> bool:
    return any(name in request.fixturenames for name in names)


@pytest.fixture
def report_2022(request: pytest.FixtureRequest, db, real_bytes: bytes) -> Report:
    """The real March 2022 report, imported through the loader."""
    if not kept(request, KEEPS_2022):
        import_2022(real_bytes)
    return Report.objects.get(as_of__year=2022, as_of__month=3)


@pytest.fixture
def revised_2023(request: pytest.FixtureRequest, report_2022: Report, table_2023) -> Report:
    """The second report of ``tests/later_reports.py`` (令和5年3月), next to ``report_2022``."""
    if not kept(request, KEEPS_2023):
        import_2023(table_2023)
    return Report.objects.get(as_of=date(2023, 3, 1))


@pytest.fixture
def three_reports(request: pytest.FixtureRequest, revised_2023: Report, table_2024) -> Report:
    """2022, 2023 and 2024 loaded (the newest imported last); returns the 2024 report."""
    if not kept(request, KEEPS_2024):
        import_2024(table_2024)
    return Report.objects.get(as_of=date(2024, 3, 1))


@pytest.fixture
def report_2023(report_2022: Report, real_table: table_format.Table) -> Report:
    """A second published report built from the real table: as of March 2023, with 4① now
    rated A (so A 9 / B 28 / C 23 / D 0), loaded next to ``report_2022``."""
    from dataclasses import replace

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
