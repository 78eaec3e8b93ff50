"""Load test: citizens read while staff edit and a new month is imported; nothing may break.

    python bench/loadtest.py [--database sqlite|postgres] [--seconds 12] [--connections 50]
                             [--edits 30] [--import-sub-items 500] [--limit 60]

Runs gunicorn with production settings on 127.0.0.1 (a fresh SQLite file or a PostgreSQL
database created for the run and dropped after), loaded with the real 2022 report. Then, at the
same time for ``--seconds``:

- ``--connections`` threads play citizens: GET every public page that exists, half of them
  revalidating with the ETag they got before (as browsers do), as fast as answers come;
- a staff thread edits through the ORM as the admin does: changes ratings and adds progress
  notes of the 2022 report, each in its own transaction;
- an import of another month (a generated report for 2023-03) runs once.

It fails (exit 1) on any 5xx or connection error, if an edit is missing from the database
afterwards, or if the public pages do not show the final state (a stale cache). The whole run
is bounded by ``--limit`` seconds (exit 2 when exceeded). Loopback only.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import date

from common import HEADERS, database, get, gunicorn, production_env, setup_django_here

CANDIDATE_PAGES = [
    "/", "/?report=2022-03", "/api/summary.json", "/api/reports/2022-03/summary.json",
    "/chapters/1/", "/chapters/4/", "/pledges/3/", "/pledges/28/", "/items/",
    "/items/?rating=C", "/items/?q=" + urllib.parse.quote("デジタル"), "/changes/", "/feed/",
    "/healthz",
]


class Citizens:
    """Threads issuing GETs until told to stop; counts statuses, errors and latencies."""

    def __init__(self, base: str, pages: list[str], connections: int, max_requests: int) -> None:
        self.base, self.pages = base, pages
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.remaining = max_requests
        self.threads = [
            threading.Thread(target=self.run, args=(seed,), daemon=True)
            for seed in range(connections)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def run(self, seed: int) -> None:
        chooser = random.Random(seed)
        etags: dict[str, str] = {}
        while not self.stop.is_set():
            with self.lock:
                if self.remaining <= 0:
                    return
                self.remaining -= 1
            path = chooser.choice(self.pages)
            headers = dict(HEADERS)
            if path in etags and chooser.random() < 0.5:
                headers["If-None-Match"] = etags[path]
            request = urllib.request.Request(self.base + path, headers=headers)
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status, etag = response.status, response.headers.get("ETag")
            except urllib.error.HTTPError as error:
                status, etag = error.code, error.headers.get("ETag")
            except OSError as error:
                with self.lock:
                    self.errors.append(f"{path}: {error!r}")
                continue
            elapsed = time.perf_counter() - start
            if etag:
                etags[path] = etag
            with self.lock:
                self.statuses[status] += 1
                self.latencies.append(elapsed)
                if status >= 500:
                    self.errors.append(f"{path}: HTTP {status}")


def staff_edits(count: int, seconds: float, done: list, failures: list) -> None:
    """Edit as the admin does, through the editing service (one transaction per save, history,
    the cache version); remember what each edit set."""
    from django.db import close_old_connections

    from pledges import editing
    from pledges.models import Assessment

    chooser = random.Random(8)
    ids = list(
        Assessment.objects.filter(sub_item__pledge__chapter__report__as_of=date(2022, 3, 1))
        .values_list("pk", flat=True)
    )
    try:
        for number in range(count):
            assessment_id = chooser.choice(ids)
            rating = chooser.choice("ABCD")
            text = f"負荷試験の編集{number}: 評価を{rating}に"
            assessment = Assessment.objects.select_related(
                "sub_item__pledge__chapter__report__manifesto"
            ).get(pk=assessment_id)
            assessment.rating = rating
            kept = [editing.NoteEdit(note.text, note.pk) for note in assessment.notes.all()]
            editing.save_assessment(
                assessment, notes=[*kept, editing.NoteEdit(text)], reason="load test"
            )
            done.append((assessment_id, rating, text))
            time.sleep(seconds / count)
    except Exception as error:  # reported, and fails the run
        failures.append(f"staff edit {len(done)}: {error!r}")
    finally:
        close_old_connections()


def import_month(sub_items: int, timings: dict, failures: list) -> None:
    from django.db import close_old_connections

    from pledges import loading
    from pledges.testing import generated_table

    start = time.perf_counter()
    try:
        result = loading.load_table(
            generated_table(sub_items=sub_items, as_of=date(2023, 3, 1)),
            source_name="loadtest-2023-03.txt",
            same_manifesto=True,  # generated text: it resembles no real report
        )
        timings["import"] = time.perf_counter() - start
        timings["import_action"] = result.action
    except Exception as error:
        failures.append(f"import: {error!r}")
    finally:
        close_old_connections()


def verify(base: str, pages: list[str], edits: list, failures: list) -> None:
    """Every edit is in the database, and the public pages show the final state."""
    import json

    from django.db.models import Max

    from pledges import stats
    from pledges.models import Assessment, ProgressNote, Report

    final: dict[int, str] = {}
    for assessment_id, rating, _text in edits:
        final[assessment_id] = rating
    stored = dict(Assessment.objects.filter(pk__in=final).values_list("pk", "rating"))
    for assessment_id, rating in final.items():
        if stored.get(assessment_id) != rating:
            failures.append(
                f"assessment {assessment_id}: expected {rating}, found {stored.get(assessment_id)}"
            )
    edited = ProgressNote.objects.filter(text__startswith="負荷試験の編集")
    texts = set(edited.values_list("text", flat=True))
    missing = [text for _id, _rating, text in edits if text not in texts]
    if missing:
        failures.append(f"{len(missing)} progress notes missing, e.g. {missing[0]}")

    report = Report.objects.get(as_of=date(2022, 3, 1))
    expected = stats.report_summary(report).as_dict()
    status, body = get(f"{base}/api/reports/2022-03/summary.json")
    if status != 200 or json.loads(body) != json.loads(json.dumps(expected, ensure_ascii=False)):
        failures.append("the public 2022-03 summary does not show the final ratings (stale cache?)")
    newest = Report.objects.published().aggregate(Max("as_of"))["as_of__max"]
    status, body = get(f"{base}/api/summary.json")
    if status != 200 or json.loads(body)["report"] != f"{newest:%Y-%m}":
        failures.append("the newest month is not what /api/summary.json shows")
    if "/pledges/3/" in pages:
        # Each edited sub-item's page must show the note added to it.
        from pledges.models import SubItem

        numbers = dict(
            SubItem.objects.filter(assessment__pk__in=final).values_list(
                "assessment__pk", "pledge__number"
            )
        )
        for assessment_id, _rating, text in edits:
            status, body = get(f"{base}/pledges/{numbers[assessment_id]}/?report=2022-03")
            if status != 200 or text not in body.decode():
                failures.append(f"pledge page {numbers[assessment_id]} lacks the note {text!r}")
                break


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


class OverTime(Exception):
    """The run took longer than its limit; raised from SIGALRM so that cleanup still runs."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=12, help="length of the load (12)")
    parser.add_argument("--connections", type=int, default=50, help="citizen threads (50)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="bound on requests")
    parser.add_argument("--edits", type=int, default=30, help="staff edits during the load")
    parser.add_argument("--import-sub-items", type=int, default=500)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--limit", type=int, default=60, help="hard limit for the run (60 s)")
    args = parser.parse_args()

    def over_time(signum, frame):
        raise OverTime(args.limit)

    signal.signal(signal.SIGALRM, over_time)
    signal.alarm(args.limit)
    started = time.monotonic()
    failures: list[str] = []
    with database(args.database) as database_url, tempfile.TemporaryDirectory() as static_root:
        env = production_env(database_url, static_root)
        setup_django_here(env)
        log("database ready")
        with gunicorn(env, workers=args.workers) as base:
            log("gunicorn up")
            pages = [path for path in CANDIDATE_PAGES if get(base + path)[0] == 200]
            log(f"{len(pages)} pages answer; load starts")
            setup_seconds = time.monotonic() - started
            citizens = Citizens(base, pages, args.connections, args.max_requests)
            edits: list = []
            timings: dict = {}
            staff = threading.Thread(
                target=staff_edits, args=(args.edits, args.seconds * 0.8, edits, failures)
            )
            importer = threading.Thread(
                target=import_month, args=(args.import_sub_items, timings, failures)
            )
            load_start = time.monotonic()
            citizens.start()
            staff.start()
            time.sleep(args.seconds / 4)
            importer.start()
            remaining = args.seconds - (time.monotonic() - load_start)
            time.sleep(max(remaining, 0))
            log("load time over; waiting for staff edits and the import")
            staff.join(timeout=args.seconds)
            importer.join(timeout=args.seconds)
            citizens.join()
            log(f"load stopped; {len(edits)} edits, import {timings.get('import_action')}")
            load_seconds = time.monotonic() - load_start
            failures += citizens.errors[:10]
            if len(citizens.errors) > 10:
                failures.append(f"… and {len(citizens.errors) - 10} more request failures")
            if staff.is_alive() or importer.is_alive():
                failures.append("staff edits or the import did not finish in time")
            verify(base, pages, edits, failures)
            log("verified")
    signal.alarm(0)

    total = sum(citizens.statuses.values())
    latencies = sorted(citizens.latencies) or [0.0]
    print(f"load test on {args.database}: gunicorn {args.workers} workers, "
          f"{args.connections} citizens for {load_seconds:.1f} s (setup {setup_seconds:.1f} s)")
    print(f"pages: {' '.join(pages)}")
    print(f"requests: {total} ({total / load_seconds:.0f}/s), statuses "
          f"{dict(sorted(citizens.statuses.items()))}, errors {len(citizens.errors)}")
    print(f"latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms")
    print(f"staff edits: {len(edits)} of {args.edits}; import of 2023-03 "
          f"({args.import_sub_items} sub-items): {timings.get('import_action', 'not done')} "
          f"in {timings.get('import', float('nan')):.1f} s")
    print(f"total {time.monotonic() - started:.1f} s")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("OK: no 5xx, no connection error, every edit stored and shown")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OverTime as limit:
        print(f"FAIL: the load test exceeded its {limit} s limit")
        sys.exit(2)
