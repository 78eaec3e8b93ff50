"""``manage.py import_xlsx FILE --report 2022-03 [--dry-run]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pledges.choosing import command_report
from pledges.editing import ConflictError, StalePlanError, apply_workbook
from pledges.excel import ImportPlan, WorkbookError, plan_import
from pledges.xlsx_reading import MAX_UPLOAD_BYTES


class Command(BaseCommand):
    help = (
        "Take an edited workbook (sheet 一覧, as written by export_xlsx) back into a report, draft "
        "or published. Only 取組状況 and 評価 of the sub-item rows may differ; rows are matched by "
        "position and any added, removed or reordered row, changed fixed cell or unknown rating "
        "is listed with its cell and nothing is applied. Sub-items others changed since the export "
        "keep their current values; a sub-item changed both in the workbook and by someone else "
        "since is a conflict, refused unless --overwrite. Changes are applied in one transaction "
        "and recorded in the edit history. The 集計 sheet is never read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="FILE", help="the edited .xlsx")
        parser.add_argument("--report", required=True, metavar="YYYY-MM",
                            help="the report the workbook was exported from")
        parser.add_argument("--dry-run", action="store_true",
                            help="list the changes, write nothing")
        parser.add_argument("--overwrite", action="store_true",
                            help="apply sub-items others changed since the export too, replacing "
                                 "their edits")

    def handle(
        self, *args, path: str, report: str, dry_run: bool, overwrite: bool, **options
    ) -> None:
        chosen = command_report(report)
        try:
            if Path(path).stat().st_size > MAX_UPLOAD_BYTES:
                raise CommandError(
                    f"{path}: ファイルが大きすぎます(上限 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)。"
                )
            data = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: 読めません({error.strerror})。") from None
        try:
            plan = plan_import(data, chosen)
        except WorkbookError as error:
            raise CommandError(
                f"{path}: {len(error.errors)} 件の問題があり、何も反映していません:\n" + str(error)
            ) from None
        self.describe(plan)
        if not plan.changes:
            self.stdout.write(self.style.WARNING(f"{plan.month}: 変更はありません。"))
            return
        if dry_run:
            self.stdout.write(self.style.WARNING(
                f"{plan.month}: {len(plan.changes)} 件の項目が変わります"
                "(--dry-run のため何も書き込んでいません)。"
            ))
            return
        try:
            apply_workbook(plan, reason=f"import_xlsx {Path(path).name}", overwrite=overwrite)
        except ConflictError as error:
            raise CommandError(f"{error}(--overwrite で他の人の変更を上書きします)") from None
        except StalePlanError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{plan.month}: {len(plan.changes)} 件の項目を更新しました。"
        ))

    def describe(self, plan: ImportPlan) -> None:
        if plan.kept:
            self.stdout.write(
                f"書き出しの後に他の人が変更し、ブックでは変えていない項目(今の内容のまま): "
                f"{'、'.join(plan.kept)}"
            )
        if not plan.from_export:
            self.stdout.write(self.style.WARNING(
                "このブックには書き出し元の記録がありません。変更はすべて競合として扱います。"
            ))
        for change in plan.changes:
            if change.conflict:
                self.stdout.write(self.style.WARNING(
                    f"{change.code} 競合: 書き出しの後に他の人も変更しています"
                ))
            if change.rating_changed:
                old, new = change.old_rating or "—", change.new_rating or "—"
                self.stdout.write(f"{change.code} 評価: {old} → {new}")
            if change.notes_changed:
                self.stdout.write(
                    f"{change.code} 取組状況:\n  - {change.old_notes_text or '(なし)'}\n"
                    f"  + {change.new_notes_text or '(なし)'}"
                )
