"""Latency and throughput of the public pages under gunicorn with production settings.

    python bench/pages.py [--duration 30] [--connections 50] [--workers 4]
                          [--databases sqlite,postgres] [--cache-url dummy://]

For each database: a fresh database with the real 2022 report, gunicorn on loopback, then wrk
(Debian package ``wrk``) for ``--duration`` seconds at ``--connections`` connections on
``/healthz`` (no database, the baseline), ``/``, a chapter page and ``/items/``. Prints p50/p99
latency and requests/s per page, each also as a ratio to ``/healthz`` from the same run, and
the requests/s ratios again on one line (a cached page should reach ``CACHED_GOAL``).
wrk and the workers share the machine, and other jobs may too: each page's CPU time per
request (gunicorn's processes and wrk, from /proc) is printed as well, and /healthz's
divided by it — the requests/s ratio the page would have if CPU were all that limits it,
which moves much less with the machine's load than requests/s do.
Pages the app does not have yet are listed as missing. ``--cache-url dummy://`` measures
rendering with the page cache off (the default is the production database cache).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import database, gunicorn, prepare, production_env

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}
# A cached page should be served at least this fraction of /healthz's requests/s.
CACHED_GOAL = 0.5


@dataclass(frozen=True)
class Figures:
    path: str
    p50_ms: float
    p99_ms: float
    requests_per_s: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors
    cpu_us: float  # CPU time per request: gunicorn's processes and wrk together


def cpu_seconds_of_children() -> float:
    """CPU time so far of this process's children and theirs (gunicorn and its workers), plus
    that of the children already waited for (the finished wrk runs). Linux only (/proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    ours = {os.getpid()}
    for _generation in range(3):
        ours |= {pid for pid, parent in parents.items() if parent in ours}
    ours.discard(os.getpid())
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(times[pid] for pid in ours) + waited.ru_utime + waited.ru_stime


def milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * UNITS[match[2]]


def wrk_figure(pattern: str, output: str) -> str:
    """The first group of ``pattern`` in wrk's ``output``; a wrk that printed no such line
    stops the run."""
    match = re.search(pattern, output)
    if not match:
        raise SystemExit(f"wrk printed no {pattern!r}:\n{output}")
    return match[1]


def run_wrk(url: str, path: str, duration: int, connections: int) -> Figures:
    cpu_before = cpu_seconds_of_children()
    output = subprocess.run(
        # A 10 s timeout: slow answers count in the percentiles instead of vanishing as errors.
        ["wrk", "--latency", "--timeout", "10s", "-t", "2", "-c", str(connections),
         "-d", f"{duration}s",
         "-H", "X-Forwarded-Proto: https", url + path],
        capture_output=True, text=True, check=True,
    ).stdout
    cpu = cpu_seconds_of_children() - cpu_before
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if not {"50", "99"} <= percentiles.keys():
        raise SystemExit(f"wrk on {path} measured nothing:\n{output}")
    requests = int(wrk_figure(r"(\d+) requests in", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx[1]) if non_2xx else 0
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return Figures(
        path=path,
        p50_ms=milliseconds(percentiles["50"]),
        p99_ms=milliseconds(percentiles["99"]),
        requests_per_s=float(wrk_figure(r"Requests/sec:\s+([\d.]+)", output)),
        requests=requests,
        errors=errors,
        cpu_us=cpu / max(requests, 1) * 1e6,
    )


def first_existing(url: str, candidates: list[str]) -> str | None:
    from common import get

    return next((path for path in candidates if get(url + path)[0] == 200), None)


def bench(kind: str, args: argparse.Namespace) -> None:
    with database(kind) as database_url, tempfile.TemporaryDirectory() as static_root:
        extra = {"CACHE_URL": args.cache_url} if args.cache_url else {}
        env = production_env(database_url, static_root, **extra)
        prepare(env)
        with gunicorn(env, workers=args.workers) as url:
            pages = {
                # Asked once here like the others, so that wrk measures the cached page and
                # not a first burst of 50 concurrent renders.
                "overview": first_existing(url, ["/"]),
                "chapter": first_existing(url, ["/chapters/1/", "/api/summary.json"]),
                "items": first_existing(url, ["/items/"]),
            }
            baseline = run_wrk(url, "/healthz", args.duration, args.connections)
            results = [
                (name, run_wrk(url, path, args.duration, args.connections) if path else None)
                for name, path in pages.items()
            ]
    cache = args.cache_url or "db://pledges_cache (production default)"
    print(f"\n== {kind}: gunicorn {args.workers} sync workers, wrk {args.connections} "
          f"connections × {args.duration} s, cache {cache}")
    print(f"{'page':<10} {'path':<20} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} "
          f"{'p50 ×hz':>8} {'p99 ×hz':>8} {'req/s ×hz':>9} {'errors':>7} {'CPU µs':>7} "
          f"{'hz/CPU':>7}")
    for name, figures in [("healthz", baseline), *results]:
        if figures is None:
            print(f"{name:<10} (no such page yet)")
            continue
        print(
            f"{name:<10} {figures.path:<20} {figures.p50_ms:8.2f} {figures.p99_ms:8.2f} "
            f"{figures.requests_per_s:8.1f} {figures.p50_ms / baseline.p50_ms:8.2f} "
            f"{figures.p99_ms / baseline.p99_ms:8.2f} "
            f"{figures.requests_per_s / baseline.requests_per_s:9.3f} {figures.errors:7d} "
            f"{figures.cpu_us:7.0f} {baseline.cpu_us / figures.cpu_us:7.3f}"
        )
    ratios = ", ".join(
        f"{figures.path} {figures.requests_per_s / baseline.requests_per_s:.2f}"
        for _name, figures in results if figures is not None
    )
    by_cpu = ", ".join(
        f"{figures.path} {baseline.cpu_us / figures.cpu_us:.2f}"
        for _name, figures in results if figures is not None
    )
    goal = "" if args.cache_url else f" (goal: at least {CACHED_GOAL})"
    print(f"req/s of each page ÷ /healthz: {ratios}{goal}")
    print(f"/healthz's CPU per request ÷ each page's: {by_cpu}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per page (30)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--cache-url", default="", help="CACHE_URL for the app, e.g. dummy://")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    for kind in args.databases.split(","):
        bench(kind.strip(), args)


if __name__ == "__main__":
    main()
