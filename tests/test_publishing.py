"""Copying a published report into a draft and publishing the draft (pledges.editing)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from pledges import editing, loading, stats
from pledges.models import Assessment, Chapter, Pledge, ProgressNote, Report, SubItem
from pledges.testing import generated_table

APRIL_2023 = date(2023, 4, 1)


def tree_of(report: Report) -> list[tuple]:
    """Everything a report says, without ids: structure, ratings, notes, footnotes."""
    return [
        (
            a.sub_item.pledge.chapter.number, a.sub_item.pledge.chapter.title,
            a.sub_item.pledge.number, a.sub_item.pledge.field, a.sub_item.pledge.title,
            a.sub_item.position, a.sub_item.title, a.sub_item.content, a.rating,
            a.footnote.marker if a.footnote else None, a.footnote.text if a.footnote else None,
            a.notes_bulleted,
            tuple(a.notes.order_by("position").values_list("position", "text")),
        )
        for a in Assessment.objects.filter(sub_item__pledge__chapter__report=report)
        .select_related("sub_item__pledge__chapter", "footnote")
        .order_by("sub_item__pledge__number", "sub_item__position")
    ]


@pytest.fixture
def staff(db) -> User:
    return User.objects.create(username="shokuin", is_staff=True)


def test_copy_makes_a_draft_with_the_whole_tree_of_the_real_report(report_2022: Report, staff):
    draft = editing.copy_to_draft(report_2022, APRIL_2023, user=staff)

    assert draft.status == Report.Status.DRAFT
    assert draft.published_at is None
    assert draft.title == "市長公約(政策宣言)進捗状況一覧表【令和5年4月現在】"
    assert draft.month == "2023-04"
    assert Chapter.objects.filter(report=draft).count() == 6
    assert Pledge.objects.filter(chapter__report=draft).count() == 30
    assert SubItem.objects.filter(pledge__chapter__report=draft).count() == 60
    notes = ProgressNote.objects.filter(assessment__sub_item__pledge__chapter__report=draft)
    assert notes.count() == 111
    assert tree_of(draft) == tree_of(report_2022)
    summary = stats.report_summary(draft).overall
    assert [(f.code, f.count, str(f.percent)) for f in summary.ratings] == [
        ("A", 8, "13.33"), ("B", 28, "46.67"), ("C", 24, "40.00"), ("D", 0, "0.00"),
    ]


def test_copied_footnotes_belong_to_the_draft(report_2022: Report):
    draft = editing.copy_to_draft(report_2022, APRIL_2023)

    noted = Assessment.objects.filter(
        sub_item__pledge__chapter__report=draft, footnote__isnull=False
    )
    assert sorted(a.sub_item.code for a in noted) == ["28①", "4①"]
    assert {a.footnote.report_id for a in noted} == {draft.pk}
    assert draft.footnotes.get().text.startswith("4①産官学連携")


def test_copy_leaves_the_stated_totals_and_the_source_alone(report_2022: Report):
    before = tree_of(report_2022)

    draft = editing.copy_to_draft(report_2022, APRIL_2023)

    assert not draft.stated_totals.exists()
    assert report_2022.stated_totals.count() == 4
    assert tree_of(report_2022) == before


def test_copy_is_recorded_in_history_with_who_and_why(report_2022: Report, staff):
    draft = editing.copy_to_draft(report_2022, APRIL_2023, user=staff)

    record = draft.history.get()
    assert (record.history_user, record.history_change_reason) == (staff, "copy of 2022-03")
    assessment = Assessment.objects.filter(sub_item__pledge__chapter__report=draft).first()
    assert assessment.history.get().history_user == staff
    assert ProgressNote.history.filter(history_change_reason="copy of 2022-03").count() == 111


def test_copy_refuses_a_month_that_has_a_report(report_2022: Report):
    editing.copy_to_draft(report_2022, APRIL_2023)

    for as_of in (APRIL_2023, report_2022.as_of):
        with pytest.raises(editing.EditError, match="すでにあります"):
            editing.copy_to_draft(report_2022, as_of)
    assert Report.objects.count() == 2


def test_copy_refuses_a_draft_as_source(report_2022: Report):
    draft = editing.copy_to_draft(report_2022, APRIL_2023)

    with pytest.raises(editing.EditError, match="公開中の報告だけ"):
        editing.copy_to_draft(draft, date(2023, 5, 1))


def test_copy_writes_in_batches_not_row_by_row(
    db, django_assert_max_num_queries
):
    loading.load_table(generated_table(sub_items=2000, as_of=date(2030, 3, 1)), same_manifesto=True)
    big = Report.objects.get(as_of=date(2030, 3, 1))

    # About 17,000 rows (tree + history); SQLite's parameter limit splits them into ~130 batches.
    with django_assert_max_num_queries(200):
        editing.copy_to_draft(big, date(2031, 3, 1))

    assert SubItem.objects.filter(pledge__chapter__report__as_of=date(2031, 3, 1)).count() == 2000
    assert ProgressNote.objects.filter(
        assessment__sub_item__pledge__chapter__report__as_of=date(2031, 3, 1)
    ).count() == 4000


def test_publish_makes_the_draft_the_newest_published_report(report_2022: Report, staff):
    draft = editing.copy_to_draft(report_2022, APRIL_2023)
    assert Report.objects.latest_published() == report_2022

    editing.publish(draft, user=staff)

    draft.refresh_from_db()
    assert draft.is_published and draft.published_at is not None
    assert Report.objects.latest_published() == draft
    newest = draft.history.order_by("-history_date", "-history_id").first()
    assert (newest.history_user, newest.status, newest.prev_record.status) == (
        staff, "published", "draft",
    )


def test_publish_lists_every_unrated_sub_item_and_changes_nothing(report_2022: Report):
    draft = editing.copy_to_draft(report_2022, APRIL_2023)
    Assessment.objects.filter(
        sub_item__pledge__chapter__report=draft, sub_item__pledge__number__in=[4, 28],
        sub_item__position=1,
    ).update(rating="")

    with pytest.raises(editing.UnratedSubItems) as refused:
        editing.publish(draft)

    assert [item.code for item in refused.value.sub_items] == ["4①", "28①"]
    assert "4①" in str(refused.value) and "28①" in str(refused.value)
    draft.refresh_from_db()
    assert draft.status == Report.Status.DRAFT


def test_publish_refuses_a_published_report(report_2022: Report):
    with pytest.raises(editing.EditError, match="すでに公開"):
        editing.publish(report_2022)
