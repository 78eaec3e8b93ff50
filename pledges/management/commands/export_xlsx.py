"""``manage.py export_xlsx [--report 2022-03] -o FILE``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pledges.choosing import command_report
from pledges.excel import export_xlsx


class Command(BaseCommand):
    help = (
        "Write a report as an Excel workbook in the city's layout (sheets 一覧 and 集計), the same "
        "file as the /export/<month>.xlsx download. Without --report the newest published report "
        "is written; with it, any report, drafts included, so staff can edit a draft in Excel and "
        "bring it back with import_xlsx."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--report", metavar="YYYY-MM", help="the report's as-of month")
        parser.add_argument("-o", "--output", required=True, metavar="FILE",
                            help="where to write the .xlsx")

    def handle(self, *args, report: str | None, output: str, **options) -> None:
        chosen = command_report(report)
        data = export_xlsx(chosen)
        try:
            Path(output).write_bytes(data)
        except OSError as error:
            raise CommandError(f"{output}: cannot write: {error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(
            f"{chosen.month}: wrote {output} ({len(data):,} bytes, status {chosen.status})"
        ))
