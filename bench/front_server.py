"""The production front server, tested as deployed: nginx in front of two gunicorn app servers.

    python bench/front_server.py [--limit 170]

Needs nginx and openssl on PATH and a PostgreSQL server (``BENCH_PG_URL``, see common.py); run
as root in CI. Starts, on loopback only:

- nginx, its own master (not the system's service), with deploy/nginx-site.conf.template
  rendered into a temporary directory that also holds its pid file, logs, temporary files and a
  self-signed certificate;
- two gunicorn app servers, A and B, with production settings (TRUSTED_PROXIES=127.0.0.1),
  sharing one fresh PostgreSQL database: data, sessions, login counters and the page cache.

and checks:

a. six clients that drip one header line a second for 20 s delay nobody: meanwhile requests to
   ``/`` and ``/healthz`` through nginx all succeed, p99 under 1 s;
b. a 2 GiB upload (Content-Length) is answered 413 before its body is sent, a chunked body is
   cut off at the limit; nginx keeps no large temporary file and neither app server sees them;
c. a rating changed in the admin through app server A shows on app server B's next page.

Exit 0 when all hold, 1 when a check fails, 2 when the run exceeds ``--limit`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import ROOT, database, free_port, gunicorn, production_env, setup_django_here

TEMPLATE = ROOT / "deploy" / "nginx-site.conf.template"
SLOW_CLIENTS = 6
SLOW_SECONDS = 20
HEALTHY_P99_LIMIT = 1.0
CONTENT_LENGTH_SENT_LIMIT = 4 * 2**20
BODY_LIMIT = 12 * 2**20  # client_max_body_size in the template
CHUNK = b"x" * 2**16

# The master configuration only the test needs: everything nginx writes stays in the directory.
MAIN_CONF = """\
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;
    include {d}/pledges.conf;
}}
"""

TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
# For the raw sockets below, which watch for nginx's answer while sending: TLS 1.3 servers send
# session tickets after the handshake, which would look like an answer.
TLS12 = ssl.create_default_context()
TLS12.check_hostname = False
TLS12.verify_mode = ssl.CERT_NONE
TLS12.maximum_version = ssl.TLSVersion.TLSv1_2

failures: list[str] = []


def check(condition: bool, message: str) -> None:
    print(("  ok    " if condition else "  FAIL  ") + message, flush=True)
    if not condition:
        failures.append(message)


def render(template: str, **values: str) -> str:
    """The template with each ``@NAME@`` replaced; an unknown or missing name is an error."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = set(re.findall(r"@[A-Z_]+@", text))
    if left:
        raise SystemExit(f"{TEMPLATE.name}: no value for {', '.join(sorted(left))}")
    return text


@contextlib.contextmanager
def nginx(directory: Path, app_servers: list[str]) -> Iterator[tuple[int, int]]:
    """nginx in front of ``app_servers`` (base URLs); yields its HTTPS and HTTP ports."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(directory / "tls.key"),
         "-out", str(directory / "tls.crt")],
        check=True, capture_output=True,
    )
    https_port, http_port = free_port(), free_port()
    upstream = " ".join(f"server {urlsplit(base).netloc};" for base in app_servers)
    (directory / "pledges.conf").write_text(render(
        TEMPLATE.read_text(), SERVER_NAME="127.0.0.1 localhost",
        HTTP_LISTEN=f"127.0.0.1:{http_port}", HTTPS_LISTEN=f"127.0.0.1:{https_port}",
        TLS_CERTIFICATE=str(directory / "tls.crt"),
        TLS_CERTIFICATE_KEY=str(directory / "tls.key"), APP_SERVERS=upstream,
    ))
    (directory / "nginx.conf").write_text(MAIN_CONF.format(d=directory))
    directory.chmod(0o755)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(directory / "nginx.conf"),
         "-e", str(directory / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise SystemExit(f"nginx exited:\n{(directory / 'error.log').read_text()}")
            try:
                if request(https_port, "GET", "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("nginx did not answer /healthz within 15 s")
            time.sleep(0.2)
        yield https_port, http_port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(
    port: int, method: str, path: str, *, tls: bool = True, body: bytes | None = None,
    headers: dict[str, str] | None = None, timeout: float = 10,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection: (status, headers, body)."""
    if tls:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=TLS)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# a. slow clients


def drip_headers(port: int, seconds: float, cut_offs: list[float]) -> None:
    """For ``seconds``, send a request's header lines one a second, never finishing; when
    nginx closes the connection, note after how long and start over."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        opened = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with TLS12.wrap_socket(raw) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    line = 0
                    while time.monotonic() < stop:
                        time.sleep(1)
                        sock.sendall(f"X-Drip-{line}: {'x' * 20}\r\n".encode())
                        line += 1
        except OSError:
            cut_offs.append(time.monotonic() - opened)


def check_slow_clients(port: int) -> None:
    print(f"a. {SLOW_CLIENTS} clients drip a header line a second for {SLOW_SECONDS} s")
    cut_offs: list[float] = []
    drippers = [
        threading.Thread(target=drip_headers, args=(port, SLOW_SECONDS, cut_offs))
        for _ in range(SLOW_CLIENTS)
    ]
    for thread in drippers:
        thread.start()
    time.sleep(1.5)  # all of them connected and dripping
    latencies: dict[str, list[float]] = {"/": [], "/healthz": []}
    errors: list[str] = []
    stop = time.monotonic() + SLOW_SECONDS - 2.5
    # Bounded both by time and by a request count.
    for number in range(2000):
        if time.monotonic() > stop:
            break
        path = "/" if number % 2 == 0 else "/healthz"
        started = time.monotonic()
        try:
            status = request(port, "GET", path, timeout=5)[0]
        except OSError as error:
            errors.append(f"{path}: {error!r}")
            continue
        latencies[path].append(time.monotonic() - started)
        if status != 200:
            errors.append(f"{path}: {status}")
        time.sleep(0.05)
    for thread in drippers:
        thread.join(timeout=15)
    every = sorted(latencies["/"] + latencies["/healthz"])
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))] if every else float("inf")
    for path, values in latencies.items():
        if values:
            print(f"      {path:9} {len(values):4} requests, p50 {statistics.median(values):.3f} s,"
                  f" max {max(values):.3f} s")
    if cut_offs:
        print(f"      nginx closed {len(cut_offs)} slow connections, after "
              f"{min(cut_offs):.1f}–{max(cut_offs):.1f} s")
    check(not errors, f"every healthy request succeeded ({len(errors)} errors: {errors[:3]})")
    check(len(every) >= 100, f"{len(every)} healthy requests during the slow clients (≥ 100)")
    check(p99 < HEALTHY_P99_LIMIT, f"p99 {p99:.3f} s < {HEALTHY_P99_LIMIT} s")
    check(bool(cut_offs) and max(cut_offs) < 15,
          "nginx closes a connection whose headers take longer than client_header_timeout")


# ---------------------------------------------------------------------------------------------
# b. large bodies


def upload(port: int, path: str, *, chunked: bool, cap: int, seconds: float) -> tuple[int, int]:
    """POST a body of up to ``cap`` bytes, stopping as soon as an answer arrives.

    Returns (status or 0 without answer, body bytes sent).
    """
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1",
            "Content-Type: application/x-www-form-urlencoded"]
    head.append("Transfer-Encoding: chunked" if chunked else "Content-Length: 2147483648")
    frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
    sent = 0
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with TLS12.wrap_socket(raw) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            try:
                while sent < cap and time.monotonic() < deadline:
                    if select.select([sock], [], [], 0)[0] or sock.pending():
                        break
                    sock.sendall(frame)
                    sent += len(CHUNK)
            except OSError:
                pass  # nginx closed its side: the answer, if any, is already on its way
            answer = b""
            with contextlib.suppress(OSError):
                sock.settimeout(5)
                while b"\r\n" not in answer:
                    data = sock.recv(4096)
                    if not data:
                        break
                    answer += data
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return (int(match.group(1)) if match else 0), sent


def directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def check_large_bodies(port: int, nginx_dir: Path, app_logs: list[Path]) -> None:
    print("b. a 2 GiB upload and a chunked upload without Content-Length")
    status, sent = upload(
        port, "/admin/login/?upload-check=length", chunked=False, cap=2**31, seconds=20
    )
    print(f"      Content-Length 2 GiB: answer {status} after {sent / 2**20:.2f} MiB of body sent")
    check(status == 413, f"the 2 GiB upload is refused with 413 (got {status})")
    check(sent < CONTENT_LENGTH_SENT_LIMIT,
          f"{sent / 2**20:.2f} MiB sent before the refusal (< {CONTENT_LENGTH_SENT_LIMIT >> 20})")
    status, sent = upload(
        port, "/admin/login/?upload-check=chunked", chunked=True, cap=256 * 2**20, seconds=30
    )
    print(f"      chunked: answer {status} after {sent / 2**20:.2f} MiB of body sent")
    check(status == 413, f"the chunked upload is cut off with 413 (got {status})")
    check(sent < BODY_LIMIT + 8 * 2**20,
          f"{sent / 2**20:.2f} MiB sent before the cut-off (limit {BODY_LIMIT >> 20} MiB)")
    time.sleep(0.5)  # nginx removes a request's temporary file when it has finished with it
    kept = directory_bytes(nginx_dir / "client_body_temp")
    print(f"      nginx client_body_temp holds {kept} bytes afterwards")
    check(kept < 2**20, "nothing large kept in nginx's client_body_temp")
    texts = {log.name: log.read_text() for log in app_logs}
    seen = [name for name, text in texts.items() if "upload-check" in text]
    logging = all('"path": "/healthz"' in text for text in texts.values())
    check(logging and not seen,
          f"no app server logged the uploads, though both log requests ({seen or 'none'})")


# ---------------------------------------------------------------------------------------------
# c. an edit on A is seen on B


class FormFields(HTMLParser):
    """The values a browser would submit from the form with id ``form_id``."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and attributes.get("id") == self.form_id and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value") or "on"))
            elif kind not in {"submit", "button", "file", "image"}:
                self.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields.append((self._select, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # As in a browser: the newline right after <textarea> is not part of the value.
            name, text = self.fields[-1]
            self.fields[-1] = (name, text.removeprefix("\n"))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


class Browser:
    """Cookies and the headers nginx would add, talking to one gunicorn directly."""

    def __init__(self, base: str) -> None:
        port = urlsplit(base).port
        assert port is not None, base
        self.port = port
        self.host = f"127.0.0.1:{self.port}"
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, fields: list[tuple[str, str]] | None = None):
        headers = {"Host": self.host, "X-Forwarded-Proto": "https",
                   "X-Forwarded-For": "127.0.0.1", "Referer": f"https://{self.host}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, response_headers, content = request(
            self.port, method, path, tls=False, body=body, headers=headers
        )
        for cookie in response_headers.get_all("Set-Cookie") or []:
            key, _, rest = cookie.partition("=")
            self.cookies[key.strip()] = rest.split(";", 1)[0]
        return status, response_headers, content.decode("utf-8", "replace")


def rating_counts(base: str, month: str) -> dict[str, int]:
    status, _, content = Browser(base).send("GET", f"/api/reports/{month}/summary.json")
    if status != 200:
        raise SystemExit(f"{base}: summary of {month} answered {status}")
    return {figure["code"]: figure["count"] for figure in json.loads(content)["ratings"]}


def check_shared_edit(server_a: str, server_b: str) -> None:
    from django.contrib.auth import get_user_model

    from pledges.models import Assessment

    print("c. a rating changed in the admin on app server A, read on app server B")
    password = secrets.token_urlsafe(16)
    get_user_model().objects.create_superuser("front-check", password=password)
    target = Assessment.objects.filter(rating="B").select_related(
        "sub_item__pledge__chapter__report"
    ).first()
    if target is None:
        raise SystemExit("no assessment rated B to change")
    month = target.sub_item.pledge.chapter.report.as_of.strftime("%Y-%m")
    before = rating_counts(server_b, month)  # B has now cached the page

    admin = Browser(server_a)
    status, _, page = admin.send("GET", "/admin/login/")
    form = FormFields("login-form")
    form.feed(page)
    login = [*form.fields, ("username", "front-check"), ("password", password)]
    status, _, _ = admin.send("POST", "/admin/login/?next=/admin/", login)
    check(status == 302 and "sessionid" in admin.cookies, f"logged in on A ({status})")
    change = f"/admin/pledges/assessment/{target.pk}/change/"
    status, _, page = admin.send("GET", change)
    form = FormFields("assessment_form")
    form.feed(page)
    fields = [(name, "A" if name == "rating" else value) for name, value in form.fields]
    status, _, page = admin.send("POST", change, [*fields, ("_save", "保存")])
    check(status == 302, f"the change form on A saved the rating B → A ({status})")
    if status != 302:
        errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
        print(f"      form errors: {errors[:3]}")

    after = rating_counts(server_b, month)
    print(f"      B's summary of {month}: A {before.get('A')} → {after.get('A')},"
          f" B {before.get('B')} → {after.get('B')}")
    check(after.get("A") == before.get("A", 0) + 1 and after.get("B") == before.get("B", 0) - 1,
          "server B's next answer shows the new rating")


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=170, help="seconds before giving up")
    args = parser.parse_args()

    def over_time(signum, frame):
        print(f"front server check exceeded {args.limit} s", flush=True)
        raise SystemExit(2)

    signal.signal(signal.SIGALRM, over_time)
    signal.alarm(args.limit)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pledges-front-") as tmp, database("postgres") as url:
        directory = Path(tmp)
        # nginx's workers run as nobody when the master is root: they must reach their files.
        directory.chmod(0o755)
        (directory / "nginx").mkdir()
        env = production_env(
            url, str(directory / "static"), CACHE_URL="db://pledges_cache",
            TRUSTED_PROXIES="127.0.0.1", ACCESS_LOG="true", LOG_LEVEL="INFO",
        )
        setup_django_here(env)
        print(f"prepared the database and static files in {time.monotonic() - started:.1f} s")
        logs = [directory / "gunicorn-a.log", directory / "gunicorn-b.log"]
        with gunicorn(env, 2, logs[0]) as server_a, gunicorn(env, 2, logs[1]) as server_b:
            with nginx(directory / "nginx", [server_a, server_b]) as (https_port, http_port):
                print(f"nginx on https://127.0.0.1:{https_port} in front of {server_a} and "
                      f"{server_b}")
                status, headers, _ = request(http_port, "GET", "/items/", tls=False)
                check(status == 301 and headers["Location"].startswith("https://"),
                      f"plain HTTP redirects to HTTPS ({status})")
                check_slow_clients(https_port)
                check_large_bodies(https_port, directory / "nginx", logs)
                check_shared_edit(server_a, server_b)
    signal.alarm(0)
    print(f"front server check: {len(failures)} failures in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
