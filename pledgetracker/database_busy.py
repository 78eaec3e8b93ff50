"""A save that meets a database locked by another writer (an import) gets a 503, not a 500.

SQLite lets one connection write at a time: while an import's transaction is open, an editor's
save waits for the busy timeout and then fails with "database is locked". PostgreSQL, with a
``lock_timeout`` set, fails the same way (lock_not_available) when the rows are held. Nothing
was saved either way, and trying again shortly will work: the editor is told so, with a
``Retry-After``, and the log gets a warning instead of an error with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# A 10,000-item import holds its write lock for a few seconds.
RETRY_AFTER_SECONDS = 30

SQLITE_BUSY = "database is locked"
POSTGRESQL_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of psycopg's LockNotAvailable


def is_database_busy(error: BaseException) -> bool:
    """True for a lock wait that timed out; false for every other database error."""
    if not isinstance(error, OperationalError):
        return False
    # Django re-raises the driver's error as its own, with the original as the cause.
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate == POSTGRESQL_LOCK_NOT_AVAILABLE or str(error) == SQLITE_BUSY


class DatabaseBusyMiddleware:
    """Answers a view's lock timeout with ``database_busy.html`` (503, ``Retry-After``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_busy(exception):
            return None  # Django's own handling: a 500 and the error logged
        logger.warning(
            "database busy, answered 503: %s %s (%s)", request.method, request.path, exception
        )
        response = render(request, "database_busy.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
