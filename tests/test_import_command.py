"""``manage.py import_progress`` end to end."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pledges.management.commands import import_progress
from pledges.models import Assessment, Report, SubItem

from .lookups import row_counts
from .paths import REAL_2022
from .variants import VARIANTS, Variant

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_progress", *args, stdout=out)
    return out.getvalue()


def test_prints_month_structure_and_counts_per_rating():
    output = run(str(REAL_2022))
    assert "2022-03: imported" in output
    assert "6 chapters, 30 pledges, 60 sub-items" in output
    assert "A 完了 8, B 実施中 28, C 着手 24, D 未着手 0" in output
    assert SubItem.objects.count() == 60


def test_importing_the_same_file_again_says_nothing_changed():
    run(str(REAL_2022))
    assert "already imported, nothing changed" in run(str(REAL_2022))
    assert Report.objects.count() == 1


def test_a_different_file_for_the_same_month_needs_replace(tmp_path: Path, real_text: str):
    run(str(REAL_2022))
    edited = tmp_path / "edited.txt"
    edited.write_text(real_text.replace("A 完了\n②高度", "A 完了\n②高い"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"already exists.*--replace"):
        run(str(edited))
    assert "2022-03: replaced" in run(str(edited), "--replace")
    assert Report.objects.get().source_name == "edited.txt"
    assert SubItem.objects.filter(title__startswith="高い").count() == 1


def test_dry_run_validates_and_writes_nothing():
    output = run(str(REAL_2022), "--dry-run")
    assert "dry run, nothing written" in output
    assert Report.objects.count() == 0


def test_an_invalid_file_fails_with_file_and_line(tmp_path: Path, real_text: str):
    broken = tmp_path / "broken.txt"
    broken.write_text(real_text.replace("※1 C 着手", "※1 E 着手"), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(broken))
    assert str(caught.value).startswith(f"{broken}:25: rating is not one of")
    assert Report.objects.count() == 0


def test_a_refused_huge_value_is_quoted_by_its_start_and_length(tmp_path: Path, real_text: str):
    huge = tmp_path / "huge-title.txt"
    title = "長" * 1_000_000
    huge.write_text(real_text.replace("①企業誘致戦略の策定", f"①{title}"), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(huge))
    assert str(caught.value).startswith(f"{huge}:21: SubItem.title (項目名) is 1,000,000 ")
    assert str(caught.value).endswith(f"(found '{'長' * 40}'… (1,000,000 characters))")
    assert len(str(caught.value)) < 250


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CommandError, match="cannot read"):
        run(str(tmp_path / "nope.txt"))


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(import_progress.MAX_FILE_BYTES + 1)  # sparse: nothing written to disk
    with pytest.raises(CommandError) as caught:
        run(str(huge))
    assert str(caught.value) == (
        f"{huge}: larger than 20 MB, far more than a progress table; nothing imported"
    )
    assert Report.objects.count() == 0


def test_a_file_of_exactly_the_limit_is_imported_one_byte_more_is_not(monkeypatch):
    size = REAL_2022.stat().st_size
    monkeypatch.setattr(import_progress, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(CommandError, match="nothing imported"):
        run(str(REAL_2022))
    monkeypatch.setattr(import_progress, "MAX_FILE_BYTES", size)
    assert "2022-03: imported" in run(str(REAL_2022))


def test_if_empty_imports_only_into_an_empty_database():
    assert "imported" in run(str(REAL_2022), "--if-empty")
    assert "nothing imported" in run(str(REAL_2022), "--if-empty")
    assert Report.objects.count() == 1


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_refuses_a_broken_table_with_its_line_and_writes_nothing(
    variant: Variant, tmp_path: Path, real_text: str
):
    run(str(REAL_2022))  # something already there, which must stay exactly as it is
    before = row_counts()
    data, line = variant.build(real_text)
    path = tmp_path / "broken.txt"
    path.write_bytes(data)
    with pytest.raises(CommandError) as caught:
        run(str(path), "--replace")
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert variant.message in str(caught.value)
    assert row_counts() == before


def test_same_file_after_staff_edits_reports_the_database_and_replace_restores_it():
    run(str(REAL_2022))
    edited = Assessment.objects.filter(rating="B").first()
    edited.rating = "A"
    edited.save()
    output = run(str(REAL_2022))
    assert "already imported, nothing changed" in output
    assert "A 完了 9, B 実施中 27" in output
    assert "--replace restores the file" in output
    assert "2022-03: replaced" in run(str(REAL_2022), "--replace")
    assert Assessment.objects.filter(rating="A").count() == 8
