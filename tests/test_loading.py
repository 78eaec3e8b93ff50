"""Loading a parsed table into the database: all of it in one transaction, or nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from django.db import IntegrityError, connection
from django.db.models.deletion import Collector
from django.test.utils import CaptureQueriesContext
from simple_history.utils import get_history_model_for_model

from pledges import loading, report_tree, table_format
from pledges.models import (
    Assessment,
    Chapter,
    Footnote,
    Pledge,
    ProgressNote,
    Report,
    StatedTotal,
    SubItem,
)

from .lookups import row_counts

pytestmark = pytest.mark.django_db


def test_loads_the_real_table_into_models(report_2022):
    assert report_2022.month == "2022-03"
    assert report_2022.month_label == "令和4年3月"
    assert report_2022.title == "市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】"
    assert report_2022.is_published
    assert len(report_2022.source_sha256) == 64
    assert Chapter.objects.filter(report=report_2022).count() == 6
    assert Pledge.objects.filter(chapter__report=report_2022).count() == 30
    assert SubItem.objects.filter(pledge__chapter__report=report_2022).count() == 60
    ratings = Assessment.objects.filter(sub_item__pledge__chapter__report=report_2022)
    assert {code: ratings.filter(rating=code).count() for code in "ABCD"} == {
        "A": 8,
        "B": 28,
        "C": 24,
        "D": 0,
    }
    assert [(t.rating, t.count, str(t.percent)) for t in report_2022.stated_totals.all()] == [
        ("A", 8, "13.33"),
        ("B", 28, "46.67"),
        ("C", 24, "40.00"),
        ("D", 0, "0.00"),
    ]


def test_keeps_notes_in_order_and_footnotes_on_their_items(report_2022):
    item_2_1 = SubItem.objects.get(
        pledge__chapter__report=report_2022, pledge__number=2, position=1
    )
    notes = list(item_2_1.assessment.notes.values_list("text", flat=True))
    assert len(notes) == 4
    assert notes[0] == "マイナンバーカード交付率 42.04%(3月31日現在)"
    footnoted = Assessment.objects.filter(
        sub_item__pledge__chapter__report=report_2022, footnote__isnull=False
    ).order_by("sub_item__pledge__number")
    assert [a.sub_item.code for a in footnoted] == ["4①", "28①"]
    assert {a.footnote.marker for a in footnoted} == {"※1"}
    assert Footnote.objects.get(report=report_2022).text.startswith("4①産官学連携")


def test_records_history_for_every_imported_row(report_2022):
    assert Assessment.history.filter(history_type="+").count() == 60
    assert ProgressNote.history.count() == ProgressNote.objects.count()
    assert Report.history.get().history_change_reason.startswith("import ")


def test_history_holds_every_imported_row_as_written_with_one_author_reason_and_time(
    real_bytes, django_user_model
):
    importer = django_user_model.objects.create_user("importer")
    loading.load_file(real_bytes, source_name="2022.txt", user=importer)
    imported_at = Report.history.get().history_date
    for model, _lookup in report_tree.REPORT_TREE:
        # StatedTotal keeps no history; the report's version moves on after its history row.
        if model in (StatedTotal, Report):
            continue
        historical = get_history_model_for_model(model)
        tracked = [field.attname for field in historical.tracked_fields]
        records = historical.objects.filter(history_type="+")
        assert sorted(records.values_list(*tracked)) == sorted(
            model._default_manager.values_list(*tracked)
        ), model
        assert {
            (record.history_user, record.history_change_reason, record.history_date)
            for record in records
        } == {(importer, "import 2022.txt", imported_at)}, model


def test_rows_added_after_an_import_get_ids_of_their_own(report_2022):
    # The import gives its rows their ids itself: each table's own counter must have moved on.
    chapter = Chapter.objects.get(report=report_2022, number=1)
    pledge = Pledge.objects.get(chapter=chapter, number=1)
    sub_item = SubItem.objects.create(pledge=pledge, position=49, title="追加", content="追加")
    assessment = Assessment.objects.create(sub_item=sub_item)
    added = [
        sub_item,
        assessment,
        ProgressNote.objects.create(assessment=assessment, position=1, text="追加"),
        Pledge.objects.create(chapter=chapter, number=999, field="追加", title="追加"),
        Chapter.objects.create(report=report_2022, number=99, title="追加"),
        Footnote.objects.create(report=report_2022, marker="※9", number=9, text="追加"),
        StatedTotal.objects.create(report=report_2022, rating="E", count=0, percent=0),
    ]
    for row in added:
        imported = type(row)._default_manager.exclude(pk=row.pk).values_list("pk", flat=True)
        assert row.pk > max(imported), type(row)


def test_same_file_again_changes_nothing(report_2022, real_bytes):
    before = row_counts()
    result = loading.load_file(real_bytes, source_name="again.txt")
    assert result.action == "unchanged"
    assert row_counts() == before


def test_different_file_for_the_same_month_is_refused(report_2022, real_text):
    edited = real_text.replace(
        "・令和4年4月にデジタル行政推進課を新設予定", "・デジタル行政推進課を新設"
    )
    before = row_counts()
    with pytest.raises(loading.LoadError, match="2022-03 already exists"):
        loading.load_file(edited.encode(), source_name="edited.txt")
    assert row_counts() == before


def test_replace_swaps_the_report_in_one_go(report_2022, real_text):
    edited = real_text.replace(
        "・令和4年4月にデジタル行政推進課を新設予定", "・デジタル行政推進課を新設"
    )
    result = loading.load_file(edited.encode(), source_name="edited.txt", replace=True)
    assert result.action == "replaced"
    report = Report.objects.get()
    assert report.source_name == "edited.txt"
    first = SubItem.objects.get(pledge__chapter__report=report, pledge__number=1, position=1)
    assert first.assessment.notes.first().text == "デジタル行政推進課を新設"
    assert SubItem.objects.count() == 60


EDITED_NOTE = ("・令和4年4月にデジタル行政推進課を新設予定", "・デジタル行政推進課を新設")


def rows_of(report: Report) -> dict[type, set[int]]:
    """The ids of every row in ``report``'s tree, per model (the report itself included)."""
    return {
        model: set(model.objects.filter(**{lookup: report.pk}).values_list("pk", flat=True))
        for model, lookup in report_tree.REPORT_TREE
    }


def test_replace_records_each_deleted_row_in_history_with_the_user_and_reason(
    report_2022, real_text, django_user_model
):
    importer = django_user_model.objects.create_user("importer")
    old = rows_of(report_2022)
    assert len(old[ProgressNote]) > 60 and len(old[StatedTotal]) == 4
    loading.load_file(
        real_text.replace(*EDITED_NOTE).encode(),
        source_name="edited.txt",
        replace=True,
        user=importer,
    )
    # The deletions and the new report's rows carry the one time of the import.
    replaced_at = Report.history.get(history_type="+", source_name="edited.txt").history_date
    for model, ids in old.items():
        if model is StatedTotal:  # keeps no history
            continue
        deleted = model.history.filter(history_type="-")
        assert sorted(deleted.values_list("id", flat=True)) == sorted(ids), model
        assert {(row.history_user, row.history_change_reason) for row in deleted} == {
            (importer, "import edited.txt")
        }, model
        assert {row.history_date for row in deleted} == {replaced_at}, model
    # The deleted values are kept, as a per-row delete would have kept them.
    note = ProgressNote.history.get(history_type="-", text=EDITED_NOTE[0][1:])
    assert note.assessment_id in old[Assessment]


def test_replace_leaves_no_row_of_the_old_report(report_2022, real_text):
    old = rows_of(report_2022)
    loading.load_file(real_text.replace(*EDITED_NOTE).encode(), replace=True)
    new = rows_of(Report.objects.get())
    for model, ids in old.items():
        assert not model.objects.filter(pk__in=ids).exists(), model
        # Whatever is left belongs to the new report: nothing orphaned.
        assert model.objects.count() == len(new[model]) == len(ids), model


def test_replace_deletes_every_model_djangos_cascade_would(report_2022):
    collector = Collector(using="default")
    collector.collect([report_2022])
    cascaded = set(collector.data) | {qs.model for qs in collector.fast_deletes}
    assert cascaded == {model for model, _ in report_tree.REPORT_TREE}


def test_a_failure_after_deleting_the_old_report_restores_it(report_2022, real_table):
    # Footnote markers are unique per report: the second copy fails in the database, after
    # the old report's tree has been deleted.
    doubled = dataclasses.replace(real_table, footnotes=real_table.footnotes * 2)
    before = row_counts()
    with pytest.raises(IntegrityError):
        loading.load_table(doubled, source_name="doubled.txt", replace=True)
    assert row_counts() == before
    assert Report.objects.get().pk == report_2022.pk
    assert not Assessment.history.filter(history_type="-").exists()


def test_a_replaced_month_shows_the_new_file_on_the_next_request(
    client, report_2023, real_text
):
    report_2022 = Report.objects.get(as_of=date(2022, 3, 1))
    page = client.get("/chapters/1/?report=2022-03")
    other_month = client.get("/?report=2023-03")
    assert EDITED_NOTE[0][1:] in page.content.decode()
    unchanged = client.get("/chapters/1/?report=2022-03", HTTP_IF_NONE_MATCH=page["ETag"])
    assert unchanged.status_code == 304

    loading.load_file(real_text.replace(*EDITED_NOTE).encode(), replace=True)

    assert Report.objects.get(as_of=date(2022, 3, 1)).pk != report_2022.pk
    again = client.get("/chapters/1/?report=2022-03", HTTP_IF_NONE_MATCH=page["ETag"])
    assert again.status_code == 200
    assert EDITED_NOTE[1][1:] in again.content.decode()
    assert EDITED_NOTE[0][1:] not in again.content.decode()
    # The month selector of every other page lists the new report: their keys change too.
    other_again = client.get("/?report=2023-03", HTTP_IF_NONE_MATCH=other_month["ETag"])
    assert other_again.status_code == 200


@contextmanager
def no_transaction_nor_write() -> Iterator[None]:
    """Asserts that the block opens no transaction (so takes no write lock) and writes nothing.

    Tests run inside a transaction, so a nested ``atomic()`` would show as a SAVEPOINT.
    """
    with CaptureQueriesContext(connection) as captured:
        yield
    statements = [query["sql"].lstrip().split(None, 1)[0].upper() for query in captured]
    assert statements, "nothing was read"
    assert set(statements) <= {"SELECT"}, statements


def test_dry_run_writes_nothing(real_bytes):
    before = row_counts()
    with no_transaction_nor_write():
        result = loading.load_file(real_bytes, dry_run=True)
    assert (result.action, result.dry_run, result.sub_items) == ("created", True, 60)
    assert result.write_seconds == 0
    assert row_counts() == before


def test_dry_run_of_a_replacement_reads_only(report_2022, real_text):
    before = row_counts()
    edited = real_text.replace(*EDITED_NOTE).encode()
    with no_transaction_nor_write():
        result = loading.load_file(edited, dry_run=True, replace=True)
    assert (result.action, result.dry_run) == ("replaced", True)
    assert row_counts() == before


def test_dry_run_refuses_what_an_import_refuses_by_reading_only(report_2022, real_text):
    with no_transaction_nor_write(), pytest.raises(loading.LoadError, match="already exists"):
        loading.load_file(real_text.replace(*EDITED_NOTE).encode(), dry_run=True)
    too_long = real_text.replace("①企業誘致戦略の策定", "①" + "長" * 400)
    with no_transaction_nor_write(), pytest.raises(table_format.ParseError, match="at most 300"):
        loading.load_file(too_long.encode(), dry_run=True, replace=True)


def test_dry_run_recognises_the_same_file(report_2022, real_bytes):
    with no_transaction_nor_write():
        result = loading.load_file(real_bytes, dry_run=True)
    assert result.action == "unchanged"


def test_same_file_and_refusals_take_no_write_lock(report_2022, real_bytes, real_text):
    with no_transaction_nor_write():
        assert loading.load_file(real_bytes).action == "unchanged"
    with no_transaction_nor_write(), pytest.raises(loading.LoadError):
        loading.load_file(real_text.replace(*EDITED_NOTE).encode())


def test_an_import_says_how_long_it_held_the_write_lock(real_bytes):
    result = loading.load_file(real_bytes)
    assert 0 < result.write_seconds < 60


def test_a_parse_error_writes_nothing(real_text):
    broken = real_text.replace("※1 C 着手", "※2 C 着手")
    with pytest.raises(table_format.ParseError):
        loading.load_file(broken.encode())
    assert set(row_counts().values()) == {0}


def test_a_later_report_does_not_change_an_earlier_one(report_2022, real_table):
    later_item = table_format.SubItemEntry(
        **{**vars(real_table.pledges[0].sub_items[0]), "title": "新しい題", "rating": "B"}
    )
    pledge = real_table.pledges[0]
    chapter = real_table.chapters[0]
    new_pledge = table_format.PledgeEntry(
        pledge.number, pledge.field, pledge.title, (later_item, *pledge.sub_items[1:])
    )
    new_chapter = table_format.ChapterEntry(
        chapter.number, chapter.title, (new_pledge, *chapter.pledges[1:])
    )
    counts = {**real_table.rating_counts()}
    counts["A"] -= 1
    counts["B"] += 1
    later = table_format.Table(
        "市長公約(政策宣言)進捗状況一覧表【令和5年3月現在】",
        date(2023, 3, 1),
        (new_chapter, *real_table.chapters[1:]),
        real_table.footnotes,
        tuple(
            table_format.TotalEntry(c, n, table_format.percent_of(n, 60)) for c, n in counts.items()
        ),
    )
    loading.load_table(later, source_name="2023.txt")
    assert Report.objects.count() == 2
    old = SubItem.objects.get(pledge__chapter__report=report_2022, pledge__number=1, position=1)
    assert (old.title, old.assessment.rating) == ("デジタル未来都市推進部門の設置", "A")
    new = SubItem.objects.get(
        pledge__chapter__report__as_of=date(2023, 3, 1), pledge__number=1, position=1
    )
    assert (new.title, new.assessment.rating) == ("新しい題", "B")


def test_text_longer_than_its_column_is_refused_before_writing(real_text):
    long_title = "長" * 400
    text = real_text.replace("①企業誘致戦略の策定", f"①{long_title}")
    with pytest.raises(table_format.ParseError) as caught:
        loading.load_file(text.encode())
    assert caught.value.line == 21
    assert "400 characters long; at most 300 fit" in caught.value.message
    assert set(row_counts().values()) == {0}


@pytest.mark.parametrize(
    ("model", "field_name", "old", "line_start"),
    [
        (ProgressNote, "text", EDITED_NOTE[0], "①デジタル未来都市推進部門の設置"),
        (SubItem, "content", "①企業誘致戦略の策定\t", "①企業誘致戦略の策定"),
        (Footnote, "text", "※1：", "※1："),
    ],
    ids=["note", "content", "footnote"],
)
def test_every_text_is_checked_against_its_fields_max_length(
    monkeypatch, real_text, model, field_name, old, line_start
):
    # TextFields have no max_length yet; whatever limit a model declares applies to the import.
    monkeypatch.setattr(model._meta.get_field(field_name), "max_length", 500)
    text = real_text.replace(old, old + "長" * 500, 1)
    with pytest.raises(table_format.ParseError) as caught:
        loading.load_file(text.encode())
    lines = enumerate(real_text.split("\n"), start=1)
    assert caught.value.line == next(n for n, line in lines if line.startswith(line_start))
    assert f"{model.__name__}.{field_name}" in caught.value.message
    assert "at most 500 fit" in caught.value.message
    assert set(row_counts().values()) == {0}


# 298 characters: longer than every column the name is written to.
LONG_FILE_NAME = "入間市公約進捗" * 42 + ".txt"


def test_a_very_long_file_name_is_cut_to_fit_its_columns(real_bytes, real_text, django_user_model):
    assert len(LONG_FILE_NAME) > 255
    result = loading.load_file(real_bytes, source_name=LONG_FILE_NAME)
    assert result.action == "created"
    report = Report.objects.get()
    assert len(report.source_name) == 255 and report.source_name.endswith("…")
    reason = Report.history.get().history_change_reason
    assert reason.startswith("import 入間市公約進捗") and len(reason) == 100
    # And when replacing: the "-" rows of the old report carry the same reason.
    loading.load_file(
        real_text.replace(*EDITED_NOTE).encode(), source_name=LONG_FILE_NAME, replace=True
    )
    reasons = set(SubItem.history.values_list("history_change_reason", flat=True))
    assert {len(reason) for reason in reasons} == {100}
