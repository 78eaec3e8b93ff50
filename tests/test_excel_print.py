"""The exported workbook on paper: every line of every cell is printed, not only the first.

LibreOffice (Debian's libreoffice-calc, run headless) prints the real 2022 export to PDF, and
poppler's pdftotext reads the text back. Without row heights in the workbook LibreOffice keeps
each row one line high and prints only the first line of 内容 and 取組状況. The pages are also
saved as PNG under ``artifacts/print/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from pledges import excel
from pledges.models import Report
from pledges.reading import read_report

from .workbooks import open_workbook, row_of

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "print"  # git-ignored
CONVERT_TIMEOUT = 180  # seconds; a cold LibreOffice start on a busy machine takes ~10


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed to print the workbook (see the apt-get line in .ci/run)"
    return path


def printed(text: str) -> str:
    """``text`` as compared with a PDF's: the PDF breaks lines inside a cell and may use other
    code points for the same character (NFKC), so whitespace is dropped altogether."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def print_to_pdf(workbook: Path, outdir: Path, profile: Path) -> Path:
    """``workbook`` printed by LibreOffice as ``outdir/<name>.pdf``.

    Each run has its own LibreOffice profile: two runs sharing one (parallel test workers, or
    a clerk's open LibreOffice) would hand the conversion to each other or fail on its lock.
    """
    result = subprocess.run(
        [
            tool("soffice"),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless", "--norestore",
            "--convert-to", "pdf", "--outdir", str(outdir), str(workbook),
        ],
        capture_output=True, text=True, timeout=CONVERT_TIMEOUT, check=False,
    )
    pdf = outdir / f"{workbook.stem}.pdf"
    # soffice exits 0 even when it converted nothing; the file is the proof.
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    return pdf


def pdf_text(pdf: Path) -> str:
    # -raw keeps the order in which LibreOffice drew the text, cell by cell, so that a note
    # wrapped over several lines reads on as one; the layout modes interleave neighbouring cells.
    return subprocess.run(
        [tool("pdftotext"), "-raw", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout


def save_pages(pdf: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", "80", str(pdf), str(ARTIFACTS / name)],
        timeout=120, check=True,
    )


@pytest.mark.django_db
def test_libreoffice_prints_every_note_and_every_content_of_the_2022_export(
    report_2022: Report, tmp_path: Path
) -> None:
    workbook = tmp_path / "2022-03.xlsx"
    workbook.write_bytes(excel.export_xlsx(report_2022))
    pdf = print_to_pdf(workbook, tmp_path, tmp_path / "libreoffice-profile")
    save_pages(pdf, "2022-03")
    text = printed(pdf_text(pdf))

    items = read_report(report_2022).items
    notes = [(item.code, note) for item in items for note in item.notes]
    assert len(items) == 60 and len(notes) == 111
    assert "4月にデジタル行政推進課を新設予定" in text  # the PDF's text is readable at all
    missing_notes = [(code, note) for code, note in notes if printed(note) not in text]
    missing_contents = [
        (item.code, item.content) for item in items if printed(item.content) not in text
    ]
    assert missing_notes == []
    assert missing_contents == []


# -- the height estimate on its own ------------------------------------------------------------


def test_a_full_width_character_takes_two_columns_of_the_line() -> None:
    room = 20 - 3  # a column 20 wide leaves 17 for text
    assert excel.wrapped_lines("あ" * 8, 20) == 1
    assert excel.wrapped_lines("あ" * 9, 20) == 2
    assert excel.wrapped_lines("a" * room, 20) == 1
    assert excel.wrapped_lines("a" * (room + 1), 20) == 2


def test_each_line_of_the_notes_cell_starts_a_new_line() -> None:
    notes = excel.notes_cell(["短い", "短い", "短い"])
    assert excel.wrapped_lines(notes, excel.COLUMN_WIDTHS["D"]) == 3


def test_an_ascii_word_moves_to_the_next_line_whole() -> None:
    assert excel.wrapped_lines("あ" * 7 + "DX-Vision", 20) == 2  # 14 + 9 > 17


def test_row_height_follows_its_tallest_cell_up_to_what_excel_accepts() -> None:
    widths = excel.COLUMN_WIDTHS
    one_line = excel.row_height({"C": "内容", "D": ""}, widths)
    three_lines = excel.row_height({"C": "内容", "D": "・一\n・二\n・三"}, widths)
    assert three_lines - one_line == 2 * excel.LINE_HEIGHT
    assert excel.row_height({"D": "・注\n" * 100}, widths) == excel.MAX_ROW_HEIGHT


def test_every_sub_item_row_of_the_export_has_a_height_for_its_lines(
    report_2022: Report,
) -> None:
    sheet = open_workbook(excel.export_xlsx(report_2022))[excel.LIST_SHEET]
    for item in read_report(report_2022).items:
        height = sheet.row_dimensions[row_of(sheet, item.code)].height
        notes = excel.notes_cell(item.notes, item.notes_bulleted)
        lines = excel.wrapped_lines(notes, excel.COLUMN_WIDTHS["D"])
        assert height >= lines * excel.LINE_HEIGHT, item.code
