"""How long importing a generated report of 10,000 sub-items takes, on SQLite and PostgreSQL.

    python bench/import_bench.py [--sub-items 10000] [--databases sqlite,postgres]

Times, on a fresh database each: writing the text file, parsing it, a dry run of it, the first
import (new month), importing the same file again (recognised by its SHA-256, nothing written)
and a replacing import of a changed file (the old report deleted, the new one written, in one
transaction). For the two imports that write, "write lock" is how long their transaction was
open: what an editor's save waits at worst (on SQLite the whole database is locked; on
PostgreSQL only the replaced rows). Each step shows its CPU time beside its wall-clock time: on a
busy machine the wall clock also counts waiting for a core. Each database runs in a child
process because settings are read once; DEBUG is off unless the environment sets ``DEBUG=true``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import ROOT, database


def measure(sub_items: int) -> dict[str, list[float]]:
    """Runs inside the child, with DATABASE_URL set; returns seconds per step: wall clock and
    CPU (the child's own; a write lock has no CPU time of its own)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledgetracker.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from pledges import loading, table_format
    from pledges.models import SubItem
    from pledges.testing import generated_table

    call_command("migrate", verbosity=0)
    figures: dict[str, list[float]] = {}

    def timed(name: str, function):
        start, cpu = time.perf_counter(), time.process_time()
        value = function()
        figures[name] = [time.perf_counter() - start, time.process_time() - cpu]
        return value

    table = generated_table(sub_items=sub_items, as_of=date(2030, 3, 1))
    data = timed("write text", lambda: table_format.write_table(table).encode())
    timed("parse", lambda: table_format.parse_bytes(data))
    timed("dry run", lambda: loading.load_file(data, source_name="a.txt", dry_run=True))
    first = timed("import (new month)", lambda: loading.load_file(data, source_name="a.txt"))
    figures["write lock (new month)"] = [first.write_seconds]
    again = timed("import same file", lambda: loading.load_file(data, source_name="a.txt"))
    changed = data.replace("の取組1を実施".encode(), "の取組1を完了".encode(), 1)
    replaced = timed(
        "import replacing", lambda: loading.load_file(changed, source_name="b.txt", replace=True)
    )
    figures["write lock (replacing)"] = [replaced.write_seconds]
    assert (first.action, again.action, replaced.action) == ("created", "unchanged", "replaced")
    assert SubItem.objects.count() == sub_items
    # The replaced report's rows are all in history as deleted, as a per-row delete records.
    assert SubItem.history.filter(history_type="-").count() == sub_items
    figures["file MB"] = [len(data) / 1e6]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sub-items", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.sub_items)))
        return
    print(f"import of a generated report with {args.sub_items:,} sub-items")
    for kind in args.databases.split(","):
        with database(kind.strip()) as database_url:
            # DEBUG off, as in production: with it on, Django keeps every statement's SQL and
            # on SQLite runs an extra query per statement to quote its parameters (~7 %).
            env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_ENV": "development",
                   "DEBUG": os.environ.get("DEBUG", "false"), "LOG_LEVEL": "WARNING"}
            result = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child",
                 "--sub-items", str(args.sub_items)],
                env=env, capture_output=True, text=True, cwd=ROOT,
            )
        if result.returncode != 0:
            raise SystemExit(f"{kind}: failed\n{result.stderr}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        (size,) = figures.pop("file MB")
        print(f"\n== {kind} (file {size:.1f} MB)")
        print(f"{'':<24} {'wall':>8}   {'CPU':>8}")
        for name, seconds in figures.items():
            print(f"{name:<24} " + "   ".join(f"{value:6.2f} s" for value in seconds))


if __name__ == "__main__":
    main()
