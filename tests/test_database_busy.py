"""An editor's save while another writer (an import) holds the lock: a 503 with a message.

The lock is real: a second connection holds SQLite's write lock (BEGIN IMMEDIATE) or, on
PostgreSQL, the row being saved (SELECT … FOR UPDATE), and the app's connection waits a short
timeout, as a save during a long import would wait the configured one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.db.utils import load_backend
from django.test import Client, RequestFactory
from django.urls import reverse

from pledges import loading
from pledges.models import Assessment
from pledgetracker.database_busy import DatabaseBusyMiddleware, is_database_busy

from .paths import REAL_2022

BUSY_MESSAGE = "データベースが混み合っています。しばらくしてからもう一度保存してください。"


@contextmanager
def sqlite_file_as_default(path: Path) -> Iterator[None]:
    """The default connection on a migrated SQLite file instead of the in-memory test database,
    which a second connection can only lock in shared-cache mode (failing at once, as "database
    table is locked", never waiting)."""
    original = connections["default"]
    settings = {**original.settings_dict, "NAME": str(path)}
    connections["default"] = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, "default")
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        connections["default"].close()
        connections["default"] = original


@pytest.fixture
def lockable(transactional_db, tmp_path: Path) -> Iterator[None]:
    """A database whose data is committed, so that a second connection sees and locks it."""
    if connection.vendor == "sqlite":
        with sqlite_file_as_default(tmp_path / "busy.sqlite3"):
            yield
    else:
        yield


@contextmanager
def locked_by_another_writer(assessment: Assessment) -> Iterator[None]:
    """Another connection holds the lock a save of ``assessment`` needs; ours waits 0.2 s."""
    ours = connections["default"]
    settings = ours.settings_dict
    if ours.vendor == "sqlite":
        other = sqlite3.connect(settings["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with ours.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 200")
    else:
        import psycopg

        other = psycopg.connect(
            dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"],
            host=settings["HOST"], port=settings["PORT"] or 5432,
        )
        other.execute(
            f"SELECT 1 FROM {Assessment._meta.db_table} WHERE id = %s FOR UPDATE",
            [assessment.pk],
        )
        with ours.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
    try:
        yield
    finally:
        other.rollback() if ours.vendor != "sqlite" else other.execute("ROLLBACK")
        other.close()
        with ours.cursor() as cursor:
            cursor.execute(
                "PRAGMA busy_timeout = 20000" if ours.vendor == "sqlite" else "RESET lock_timeout"
            )


def posted_back(client: Client, url: str, **edits: object) -> dict[str, object]:
    """What a browser posts back for the admin change form at ``url``, with ``edits``."""
    page = client.get(url)
    assert page.status_code == 200
    data: dict[str, object] = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:  # as a browser sends them
                data[form.add_prefix(name)] = value
    return {**data, **edits}


def test_a_save_during_an_import_gets_a_503_with_a_message_and_saves_nothing(lockable, caplog):
    loading.load_file(REAL_2022.read_bytes(), source_name=REAL_2022.name)
    editor = User.objects.create_superuser("henshu", password="unused-pw-123")
    client = Client()
    client.force_login(editor)
    target = Assessment.objects.filter(rating="B").order_by("pk").first()
    url = reverse("admin:pledges_assessment_change", args=[target.pk])
    data = posted_back(client, url, rating="A")

    with locked_by_another_writer(target), caplog.at_level(logging.WARNING):
        response = client.post(url, data)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert BUSY_MESSAGE in response.content.decode()
    assert "入力した内容は保存されていません" in response.content.decode()
    assert [record.levelname for record in caplog.records if "database busy" in record.message] \
        == ["WARNING"]
    target.refresh_from_db()
    assert target.rating == "B"
    # Once the import is done, the same post saves.
    again = client.post(url, data)
    assert again.status_code == 302, again.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.rating == "A"


@pytest.mark.parametrize(
    "error",
    [OperationalError("no such table: pledges_report"), OperationalError("disk I/O error"),
     ValueError("database is locked")],
    ids=["other database error", "disk", "not a database error"],
)
def test_other_errors_are_left_to_django(error: Exception):
    middleware = DatabaseBusyMiddleware(lambda request: None)
    assert not is_database_busy(error)
    assert middleware.process_exception(RequestFactory().post("/admin/"), error) is None
