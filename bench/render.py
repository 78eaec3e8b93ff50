"""Uncached render time of the public pages as a ratio to ``/items.csv`` of the same report.

    python bench/render.py [--repeat 30]

One process, Django's test Client, ``DEBUG`` off and ``CACHE_URL=dummy://`` (every request
renders), on a throw-away SQLite file: the real 2022 table plus the 2023 report built from it
(``tests/later_reports.py``), measured with ``?report=2023-03`` (60 sub-items); then a next term
of two generated reports of 2,000 sub-items a year apart (every tenth sub-item rated one level
better in the second), measured on the newest, without ``?report=``: each page compares like
with like, /changes/ two reports of 2,000.
Each page is requested ``--repeat`` times after one warm-up, the pages taking turns; the
fastest is shown (the box is shared: the minimum is the least disturbed by other jobs), and its
ratio to ``/items.csv`` at that size. The goal (issue "Fast without the cache"): every
page ≤ 1.0, ``/items/`` ≤ 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("/", "/chapters/1/", "/pledges/2/", "/changes/", "/items/", "/items/?rating=C")
BASELINE = "/items.csv"


def fastest_ms(client, paths: list[str], repeat: int) -> dict[str, float]:
    """{path: the fastest of ``repeat`` requests, ms}: the paths take turns, round after round,
    so that a disturbance on the shared machine falls on every page alike."""
    for path in paths:
        response = client.get(path)  # the warm-up, and the check that the page is there
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    times: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(repeat):
        for path in paths:
            start = time.perf_counter()
            response = client.get(path)
            if hasattr(response, "content"):
                response.content  # noqa: B018  # a streaming or lazy body is part of the cost
            times[path].append(time.perf_counter() - start)
    return {path: min(taken) * 1000 for path, taken in times.items()}


def with_report(path: str, month: str | None) -> str:
    if month is None:
        return path
    return f"{path}{'&' if '?' in path else '?'}report={month}"


def measure(client, month: str | None, repeat: int) -> dict[str, float]:
    asked = {with_report(path, month): path for path in (BASELINE, *PAGES)}
    return {asked[path]: ms for path, ms in fastest_ms(client, list(asked), repeat).items()}


def next_year(table):
    """``table`` a year later with every tenth sub-item rated one level better."""
    from tests.later_reports import revised  # once Django is set up, as main's imports

    better = {level.code: table.scale.levels[max(level.rank - 1, 0)].code
              for level in table.scale.levels}
    edits = {
        (pledge.number, item.position): {"rating": better[item.rating]}
        for index, (pledge, item) in enumerate(
            (pledge, item) for chapter in table.chapters for pledge in chapter.pledges
            for item in pledge.sub_items
        )
        if index % 10 == 0
    }
    return revised(table, date(table.as_of.year + 1, 3, 1), edits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pledges-render-") as directory:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="pledgetracker.settings",
            DATABASE_URL=f"sqlite:///{directory}/bench.sqlite3",
            CACHE_URL="dummy://",
            DEBUG="false",
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import override_settings

        from pledges import loading, table_format
        from pledges.loading import NewManifesto
        from pledges.testing import generated_table
        from tests.later_reports import table_2023

        call_command("migrate", interactive=False, verbosity=0)
        real = (ROOT / "fixtures" / "iruma-pledge-progress-2022-03.txt").read_bytes()
        loading.load_file(real)
        loading.load_table(table_2023(table_format.parse_bytes(real)))
        client = Client()
        results = {}
        # No setup_test_environment(): its instrumented template rendering would be measured
        # too. DEBUG off as in production; "testserver" is the Client's host.
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
            results["60"] = measure(client, "2023-03", args.repeat)
            first = generated_table(sub_items=2000, as_of=date(2030, 3, 1))
            loading.load_table(first, new_manifesto=NewManifesto("bench-term", "次の任期"))
            loading.load_table(next_year(first), manifesto="bench-term")
            results["2,000"] = measure(client, None, args.repeat)

    if args.json:
        Path(args.json).write_text(json.dumps(results))
    print(f"\nfastest of {args.repeat} uncached requests (DEBUG off, dummy cache, SQLite); "
          f"ratio = page / {BASELINE}; goal ≤ 1.0, /items/ ≤ 1.5")
    sizes = list(results)
    print(f"{'page':<20}" + "".join(f"{f'{s}: ms':>12}{f'{s}: ×csv':>12}" for s in sizes))
    for path in (BASELINE, *PAGES):
        row = f"{path:<20}"
        for size in sizes:
            ms = results[size][path]
            row += f"{ms:12.1f}{ms / results[size][BASELINE]:12.2f}"
        print(row)


if __name__ == "__main__":
    main()
