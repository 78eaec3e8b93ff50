"""Production settings: checked by Django's deploy checks, static files hashed, JSON logs.

Settings are read once per process, so each case runs ``manage.py`` in a subprocess with the
environment a deployment would have.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pledgetracker.logging import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
SECRET = "kP2v9xQ-7mZr4tLw8sYb1nHc6dGf3jUa0eRi5oTq_yVxWzAbCdEfGhIjKlMn"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "ADMIN_", "CACHE_", "LOG_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="pledgetracker.settings", DJANGO_ENV="production",
        SECRET_KEY=SECRET, ALLOWED_HOSTS="pledges.example.org",
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )


def test_deploy_checks_pass_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def settings_value(expression: str, **env: str) -> str:
    result = manage(
        "shell", "-c", f"from django.conf import settings; print({expression})", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_turns_debug_off_and_hardens_cookies_and_https():
    values = settings_value(
        "settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)"
    )
    assert values == "False True True True 31536000 None"


def test_proxy_header_is_trusted_only_when_proxies_are_configured():
    assert settings_value(
        "settings.SECURE_PROXY_SSL_HEADER, settings.TRUSTED_PROXIES",
        TRUSTED_PROXIES="127.0.0.1, ::1",
    ) == "('HTTP_X_FORWARDED_PROTO', 'https') ['127.0.0.1', '::1']"


def test_deploy_checks_pass_behind_a_proxy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", TRUSTED_PROXIES="127.0.0.1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_cache_is_the_shared_database_table_unless_configured():
    assert settings_value("settings.CACHES['default']['BACKEND']") == (
        "django.core.cache.backends.db.DatabaseCache"
    )
    assert settings_value(
        "settings.CACHES['default']['BACKEND']", CACHE_URL="locmem://"
    ) == "django.core.cache.backends.locmem.LocMemCache"


def test_admin_url_is_configurable():
    assert settings_value(
        "__import__('django.urls').urls.reverse('admin:index')", ADMIN_URL="staff-7f3a/"
    ) == "/staff-7f3a/"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be at least 50 characters"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "SECURE_SSL_REDIRECT='maybe' is not a boolean"),
        ({"ADMIN_URL": "/admin"}, "ADMIN_URL='/admin'"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL='memcached://x'"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml'"),
        ({"TRUSTED_PROXIES": "127.0.0.1,nginx"}, "TRUSTED_PROXIES: 'nginx'"),
    ],
)
def test_refuses_to_start_on_a_bad_value_and_names_it(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_collectstatic_writes_hashed_names_and_a_manifest(tmp_path):
    result = manage("collectstatic", "--noinput", STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["pledges/site.css"]
    assert hashed != "pledges/site.css" and hashed.startswith("pledges/site.")
    assert (tmp_path / hashed).exists()
    # The admin's scripts too, and compressed copies whitenoise serves to browsers that accept them.
    actions = manifest["paths"]["admin/js/actions.js"]
    assert (tmp_path / (actions + ".gz")).exists()


def test_json_log_lines_carry_level_logger_request_and_exception():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/",),
            sys.exc_info(), extra={"status_code": 500, "request": type("R", (), {
                "method": "GET", "path": "/items/"})(), "report": "2022-03"},
        )
    entry = json.loads(formatter.format(record))
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Internal Server Error: /"
    assert (entry["status"], entry["method"], entry["path"]) == (500, "GET", "/items/")
    assert entry["report"] == "2022-03"
    assert "ValueError: boom" in entry["exception"]


def test_production_logs_are_json_on_stdout():
    result = manage(
        "shell", "-c", "import logging; logging.getLogger('pledges').warning('日本語 %s', 1)"
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry["message"] == "日本語 1"
    assert entry["level"] == "WARNING"


def test_python_warnings_are_json_log_lines_too():
    result = manage("shell", "-c", "import warnings; warnings.warn('古い設定です')")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert (entry["logger"], entry["level"]) == ("py.warnings", "WARNING")
    assert "UserWarning: 古い設定です" in entry["message"]


def test_every_line_gunicorn_and_the_app_write_is_a_json_object(tmp_path):
    """gunicorn with the repository's gunicorn.conf.py, as deployed, through start-up, requests,
    a 404, a 500 inside Django, an exception gunicorn catches, a worker timeout and shutdown."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("LOG_", "HOST"))
    }
    # The database is never migrated: the home page's first query fails inside Django.
    environment.update(
        DJANGO_ENV="production", SECRET_KEY=SECRET, ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false", PORT=str(port), WEB_CONCURRENCY="1",
        GUNICORN_TIMEOUT="3", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    collected = manage("collectstatic", "--noinput", "-v0", STATIC_ROOT=str(tmp_path / "static"))
    assert collected.returncode == 0, collected.stderr
    environment["STATIC_ROOT"] = str(tmp_path / "static")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "out.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tests.misbehaving_wsgi:application"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            assert wait_for_health(base) == 200
            assert fetch(f"{base}/healthz", agent='say "hi"') == 200
            assert fetch(f"{base}/no-such-page/") == 404
            assert fetch(f"{base}/") == 500
            assert fetch(f"{base}/raise-in-worker") == 500
            with pytest.raises(OSError):
                fetch(f"{base}/hang-past-the-timeout", timeout=1)
            # The arbiter kills the hung worker after GUNICORN_TIMEOUT and boots another.
            time.sleep(4)
            assert wait_for_health(base) == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = []
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        entries.append(entry)
    messages = [entry["message"] for entry in entries]
    assert any(message.startswith("Starting gunicorn") for message in messages)
    assert any(message.startswith("Booting worker") for message in messages)
    assert any("WORKER TIMEOUT" in message for message in messages)
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    healthz = next(entry for entry in access if entry["agent"] == 'say "hi"')
    assert (healthz["path"], healthz["status"], healthz["method"]) == ("/healthz", 200, "GET")
    assert {"path": "/no-such-page/", "status": 404} in [
        {"path": entry["path"], "status": entry["status"]} for entry in access
    ]
    tracebacks = [entry for entry in entries if "exception" in entry]
    assert any(
        entry["logger"] == "django.request" and entry["path"] == "/" for entry in tracebacks
    )
    assert any(
        entry["logger"] == "gunicorn.error" and "raised outside Django" in entry["exception"]
        for entry in tracebacks
    )


def fetch(url: str, agent: str = "test", timeout: float = 10) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_health(base: str) -> int:
    for _ in range(150):
        try:
            return fetch(f"{base}/healthz", timeout=2)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /healthz within 30 s")
