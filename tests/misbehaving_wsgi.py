"""The app behind two paths that fail the way a bug would, outside Django's own error handling:
gunicorn then logs the exception or kills the worker itself. Served only by the log test."""

from __future__ import annotations

import time

from pledgetracker.wsgi import application as django_application

RAISE_PATH = "/raise-in-worker"
HANG_PATH = "/hang-past-the-timeout"


def application(environ, start_response):
    if environ["PATH_INFO"] == RAISE_PATH:
        raise RuntimeError("raised outside Django, caught by gunicorn")
    if environ["PATH_INFO"] == HANG_PATH:
        time.sleep(120)
    return django_application(environ, start_response)
