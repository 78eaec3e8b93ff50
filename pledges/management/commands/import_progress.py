"""``manage.py import_progress PATH [--dry-run] [--replace] [--new-manifesto SLUG | --manifesto
SLUG] [--same-manifesto]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pledges.loading import LoadError, LoadResult, NewManifesto, load_file
from pledges.models import Report
from pledges.table_format import ParseError

# The real table is 36 KB, a generated one of 10,000 sub-items 1.8 MB (100,000: 18.8 MB);
# anything larger is not a progress table, and is refused before it is read into memory.
MAX_FILE_BYTES = 20 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import the city's published progress table (tab-separated text, e.g. "
        "fixtures/iruma-pledge-progress-2022-03.txt) as the report for its as-of month. "
        "The whole file is validated first and written in one transaction; importing the same "
        "file again changes nothing. The report joins the current manifesto (the newest "
        "report's; on an empty database a first one is made from the table) unless "
        "--manifesto or --new-manifesto says otherwise; a table whose legend or sub-items do "
        "not match the manifesto is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the table as published (UTF-8 text)")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report, write nothing"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace an existing report for the same month that came from a different file",
        )
        chosen = parser.add_mutually_exclusive_group()
        chosen.add_argument(
            "--new-manifesto", metavar="SLUG",
            help="start a new manifesto (a new term's pledges) with this table; its scale is "
                 "the table's legend",
        )
        chosen.add_argument(
            "--manifesto", metavar="SLUG", help="add the report to this existing manifesto"
        )
        parser.add_argument("--title", default="", help="the new manifesto's title")
        parser.add_argument("--mayor", default="", help="the new manifesto's mayor")
        parser.add_argument(
            "--same-manifesto", action="store_true",
            help="add the table to the manifesto even though most of its sub-items differ",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="import only when the database holds no report yet (used by bin/serve)",
        )

    def handle(
        self, *args, path: str, dry_run: bool, replace: bool, if_empty: bool,
        new_manifesto: str | None, manifesto: str | None, title: str, mayor: str,
        same_manifesto: bool, **options,
    ) -> None:
        if (title or mayor) and not new_manifesto:
            raise CommandError("--title and --mayor describe a new manifesto: add --new-manifesto")
        if if_empty and Report.objects.exists():
            self.stdout.write("The database already holds a report; nothing imported.")
            return
        source = Path(path)
        data = read_bounded(source)
        try:
            result = load_file(
                data, source_name=source.name, replace=replace, dry_run=dry_run,
                manifesto=manifesto,
                new_manifesto=(
                    NewManifesto(new_manifesto, title, mayor) if new_manifesto else None
                ),
                same_manifesto=same_manifesto,
            )
        except ParseError as error:
            raise CommandError(error.located(path)) from None
        except LoadError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(self.describe(result))

    def describe(self, result: LoadResult) -> str:
        verb = {
            "created": "imported",
            "replaced": "replaced",
            "unchanged": "already imported, nothing changed",
        }[result.action]
        if result.dry_run and result.changed:
            verb = f"would be {verb} (dry run, nothing written)"
        ratings = ", ".join(
            f"{result.scale.text(code)} {count}" for code, count in result.rating_counts.items()
        )
        line = (
            f"{result.month}: {verb} — {result.chapters} chapters, {result.pledges} pledges, "
            f"{result.sub_items} sub-items; {ratings}; manifesto {result.manifesto}"
            + (" (new)" if result.new_manifesto else "")
        )
        if result.edited_since:
            line += (
                "\nStaff have edited ratings since this file was imported (figures above are the "
                "database's); --replace restores the file as published."
            )
        return self.style.SUCCESS(line) if result.changed else self.style.WARNING(line)


def read_bounded(source: Path) -> bytes:
    """The file's bytes; CommandError when it cannot be read or exceeds MAX_FILE_BYTES, which
    is checked before reading."""
    too_large = (
        f"{source}: larger than {MAX_FILE_BYTES // 2**20} MB, far more than a progress table; "
        "nothing imported"
    )
    try:
        if source.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(too_large)
        with source.open("rb") as file:
            # Bounded even when the size said otherwise (a pipe, a file still being written).
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CommandError(f"{source}: cannot read: {error.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise CommandError(too_large)
    return data
