"""What the bench and load-test scripts share: a throw-away database and a production gunicorn.

Not a test module: these helpers start real processes on loopback. A database is either a
SQLite file in a temporary directory or a PostgreSQL database created for the run and dropped
after it (server from ``BENCH_PG_URL``, default the local one of the development setup).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_2022 = ROOT / "fixtures" / "iruma-pledge-progress-2022-03.txt"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://pledges:pledges@localhost:5432")


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A DATABASE_URL for an empty database of ``kind`` ("sqlite" or "postgres")."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pledges-bench-") as directory:
            yield f"sqlite:///{directory}/bench.sqlite3"
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    name = f"pledges_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url: str, static_root: str, **extra: str) -> dict[str, str]:
    """The environment of a production deployment behind a TLS-ending proxy on loopback."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "SECURE_", "STATIC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pledgetracker.settings",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        STATIC_ROOT=static_root,
        # The clients below play the proxy on loopback: they send X-Forwarded-Proto: https.
        TRUSTED_PROXIES="127.0.0.1",
        LOG_LEVEL="WARNING",
        ACCESS_LOG="false",
        GUNICORN_MAX_REQUESTS="0",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(env: dict[str, str]) -> None:
    """Schema, cache table, hashed static files and the real 2022 report."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "createcachetable")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "import_progress", str(REAL_2022))


def setup_django_here(env: dict[str, str]) -> None:
    """Configure this process as the app with ``env``, and prepare its database like
    ``prepare`` but without starting four more Python processes."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("import_progress", str(REAL_2022), stdout=open(os.devnull, "w"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


HEADERS = {"X-Forwarded-Proto": "https"}


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], workers: int, log_path: Path | None = None
) -> Iterator[str]:
    """A gunicorn with ``workers`` sync workers on a free loopback port; yields its base URL.
    Its stdout and stderr go to ``log_path`` (kept), else to a temporary file."""
    port = free_port()
    # A file, not a pipe: nobody reads the log while the load runs, and a full pipe would
    # block gunicorn.
    log = (
        open(log_path, "w+") if log_path
        else tempfile.NamedTemporaryFile(prefix="pledges-gunicorn-", suffix=".log", mode="w+")
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "pledgetracker.wsgi", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=log, stderr=log, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise SystemExit(f"gunicorn exited:\n{log.read()}")
            try:
                if get(f"{base}/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer /healthz within 30 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
