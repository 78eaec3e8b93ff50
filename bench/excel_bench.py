"""Time the Excel export and import of a generated report (default 10,000 sub-items).

    python bench/excel_bench.py [--sub-items 10000] [--configured-db]

By default a throw-away SQLite database in a temporary directory is created and migrated; with
``--configured-db`` the project's database (DATABASE_URL) is used inside a transaction that is
rolled back, so nothing is left behind. Prints wall-clock and CPU seconds; not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def timed(label: str, results: list[tuple[str, float, float]]):
    """Append (label, wall seconds, CPU seconds of this process) — CPU time is the steadier
    figure on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    results.append((label, time.perf_counter() - wall, time.process_time() - cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sub-items", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=100,
                        help="ratings edited in the workbook before the import")
    parser.add_argument("--configured-db", action="store_true",
                        help="use DATABASE_URL / the configured database instead of a temp SQLite")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledgetracker.settings")
    temp = None
    if not args.configured_db:
        temp = tempfile.TemporaryDirectory()
        os.environ["DATABASE_URL"] = f"sqlite:///{temp.name}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from openpyxl import load_workbook

    from pledges import editing, excel, loading, reading, stats
    from pledges.models import Report
    from pledges.testing import generated_table

    if temp is not None:
        call_command("migrate", verbosity=0)

    results: list[tuple[str, float, float]] = []
    with transaction.atomic():
        table = generated_table(sub_items=args.sub_items, as_of=date(2099, 3, 1))
        with timed("load generated table (setup)", results):
            loading.load_table(table)
        report = Report.objects.get(as_of=table.as_of)

        with timed("export: read rows (3 queries)", results):
            rows = reading.read_report(report)
            summary = stats.report_summary(report)
        with timed("export: render .xlsx", results):
            data = excel.render_xlsx(rows, summary)
        with timed("export: total (export_xlsx)", results):
            data = excel.export_xlsx(report)
        with timed("export: csv", results):
            excel.render_csv(reading.read_report(report))

        workbook = load_workbook(io.BytesIO(data))
        sheet = workbook[excel.LIST_SHEET]
        edited = 0
        for row in sheet.iter_rows(min_row=excel.HEADER_ROW + 1, max_col=5):
            if edited >= args.changes:
                break
            code, rating = str(row[0].value or ""), str(row[4].value or "")
            if code[-1:] in "①②③④" and rating.startswith(("A", "B", "C")):
                row[4].value = "D 未着手"
                edited += 1
        output = io.BytesIO()
        workbook.save(output)
        edited_data = output.getvalue()

        with timed("import: plan, unchanged workbook", results):
            assert excel.plan_import(data, report).changes == ()
        with timed(f"import: plan, {edited} ratings changed", results):
            plan = excel.plan_import(edited_data, report)
        with timed(f"import: apply {len(plan.changes)} changes with history", results):
            editing.apply_workbook(plan, reason="bench")
        transaction.set_rollback(True)

    print(f"Excel benchmark: {args.sub_items:,} sub-items, {connection.vendor}, "
          f"workbook {len(data) / 1024:,.0f} KiB")
    print(f"  {'':<45} {'wall':>8} {'cpu':>8}")
    for label, wall, cpu in results:
        print(f"  {label:<45} {wall:7.2f}s {cpu:7.2f}s")
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
