"""Both speed ratios of the public pages, measured in one run: uncached and cached.

    python bench/speed.py [--repeat 30] [--duration 10] [--connections 50] [--workers 4]

1. Uncached (``bench/render.py`` in a child process: one process, Django's test Client,
   ``DEBUG`` off, ``CACHE_URL=dummy://``, SQLite): each public page's render time as a multiple
   of ``/items.csv`` of the same report, at 60 and at 2,000 sub-items. Goal: at most 1.0, and
   1.5 for ``/items/``.
2. Cached (gunicorn with the production settings — the database cache, ``--workers`` sync
   workers — on a fresh SQLite database holding the real 2022 report, and wrk on loopback for
   ``--duration`` seconds at ``--connections`` connections per page): each page's requests/s
   as a share of ``/healthz``'s in the same run. Goal: at least 0.5.

wrk and the workers share the machine's cores, as they would in production behind nginx; run
it on an otherwise idle machine, the ratios are what carries over from one machine to another.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, database, get, gunicorn, prepare, production_env
from pages import Figures, run_wrk
from render import BASELINE, PAGES

UNCACHED_GOAL = 1.0
UNCACHED_GOAL_ITEMS = 1.5
CACHED_GOAL = 0.5
CACHED_PAGES = ("/", "/chapters/1/", "/pledges/2/", "/items/", "/items/?rating=C", "/changes/")


def uncached(repeat: int) -> dict[str, dict[str, float]]:
    """{size: {path: ms}} from bench/render.py, run in a child (it sets up Django its own way)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "render.py"), "--repeat", str(repeat),
             "--json", output.name],
            check=True, stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(output.name).read_text())


def cached(args: argparse.Namespace) -> dict[str, Figures]:
    """{path: wrk's figures} under gunicorn, /healthz first; each page requested once before
    (a cold cache would measure rendering)."""
    with database("sqlite") as database_url, tempfile.TemporaryDirectory() as static_root:
        env = production_env(database_url, static_root)
        prepare(env)
        with gunicorn(env, workers=args.workers) as url:
            figures = {}
            for path in ("/healthz", *CACHED_PAGES):
                status, _body = get(url + path)
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status}")
                figures[path] = run_wrk(url, path, args.duration, args.connections)
            return figures


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="uncached requests per page (30)")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per page (10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    rendered = uncached(args.repeat)
    print(f"Uncached: fastest of {args.repeat} renders, as a multiple of {BASELINE} "
          f"(goal ≤ {UNCACHED_GOAL}, /items/ ≤ {UNCACHED_GOAL_ITEMS})")
    sizes = list(rendered)
    print(f"{'page':<20}" + "".join(f"{f'{s}: ms':>12}{f'{s}: ×csv':>12}" for s in sizes))
    for path in (BASELINE, *PAGES):
        goal = UNCACHED_GOAL_ITEMS if path.startswith("/items/") else UNCACHED_GOAL
        row, ok = f"{path:<20}", True
        for size in sizes:
            ms = rendered[size][path]
            ratio = ms / rendered[size][BASELINE]
            ok = ok and ratio <= goal
            row += f"{ms:12.1f}{ratio:12.2f}"
        print(row + ("" if path == BASELINE else f"  {verdict(ok)}"))

    served = cached(args)
    healthz = served["/healthz"]
    print(f"\nCached: requests/s under gunicorn ({args.workers} sync workers, database cache, "
          f"SQLite) and wrk ({args.connections} connections × {args.duration} s), as a share "
          f"of /healthz (goal ≥ {CACHED_GOAL})")
    print(f"{'page':<20}{'req/s':>10}{'×healthz':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for path, figures in served.items():
        share = figures.requests_per_s / healthz.requests_per_s
        mark = "" if path == "/healthz" else f"  {verdict(share >= CACHED_GOAL)}"
        print(f"{path:<20}{figures.requests_per_s:10.0f}{share:10.2f}{figures.p50_ms:9.1f}"
              f"{figures.p99_ms:9.1f}{figures.errors:8d}{mark}")


if __name__ == "__main__":
    main()
