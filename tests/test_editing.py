"""pledges.editing: every write path shows on the next public request; the rules live in one place.

``WRITE_PATHS`` lists every way staff or commands change the data. Each case warms the public
page cache, writes, and asks the same page again through the cache: a new write path that forgot
to bump the report's version would be served the stale page. Add a case here with every new path.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from pledges import editing, excel, loading
from pledges.models import Assessment, Chapter, Footnote, ProgressNote, Report, SubItem
from pledges.testing import generated_table
from tests.workbooks import edited, row_of

from .admin_forms import change_url, form_data, post_change
from .lookups import assessment, counts, summary

pytestmark = pytest.mark.django_db

APRIL_2023 = date(2023, 4, 1)


def draft_of(report: Report) -> Report:
    return editing.copy_to_draft(report, APRIL_2023)


@dataclass(frozen=True)
class World:
    public: Client
    admin: Client
    report: Report


@dataclass(frozen=True)
class WritePath:
    """``prepare`` (optional) sets up what the write needs and returns it; ``write`` changes
    the data; ``shown`` reads the public page and says whether it shows the write."""

    write: Callable[[World, object], None]
    shown: Callable[[Client], bool]
    prepare: Callable[[World], object] = lambda world: None


# -- the writes --------------------------------------------------------------------------------


def admin_rating(world: World, _prepared) -> None:
    assert post_change(world.admin, assessment(world.report, 3, 1), rating="A").status_code == 302


def admin_notes_only(world: World, _prepared) -> None:
    target = assessment(world.report, 3, 1)
    page = world.admin.get(change_url(target))
    data = form_data(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data[f"{prefix}-{index}-text"] = "市民説明会を開催"
    data[f"{prefix}-{index}-assessment"] = target.pk
    assert world.admin.post(change_url(target), data).status_code == 302


def admin_footnote(world: World, _prepared) -> None:
    footnote = world.report.footnotes.get()
    response = post_change(world.admin, footnote, text="※の注記を書き直しました。")
    assert response.status_code == 302


def admin_set_rating(world: World, _prepared) -> None:
    selected = [assessment(world.report, 3, 1).pk, assessment(world.report, 3, 2).pk]
    response = world.admin.post(
        reverse("admin:pledges_assessment_changelist"),
        {"action": "set_rating_D", "_selected_action": selected},
    )
    assert response.status_code == 302


def admin_copy(world: World, _prepared) -> None:
    response = world.admin.post(
        reverse("admin:pledges_report_copy", args=[world.report.pk]), {"month": "2023-04"}
    )
    assert response.status_code == 302


def admin_publish(world: World, draft: Report) -> None:
    response = world.admin.post(reverse("admin:pledges_report_publish", args=[draft.pk]))
    assert response.status_code == 302


def admin_publish_action(world: World, draft: Report) -> None:
    world.admin.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )


def admin_delete_report(world: World, newer: Report) -> None:
    response = world.admin.post(
        reverse("admin:pledges_report_delete", args=[newer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302


def admin_delete_action(world: World, newer: Report) -> None:
    world.admin.post(
        reverse("admin:pledges_report_changelist"),
        {"action": "delete_selected", "_selected_action": [newer.pk], "post": "yes"},
    )


def admin_chapter(world: World, _prepared) -> None:
    chapter = Chapter.objects.get(report=world.report, number=1)
    assert post_change(world.admin, chapter, title="デジタル未来都市づくり").status_code == 302


def admin_sub_item_added_to_a_draft(world: World, draft: Report) -> None:
    pledge = draft.chapters.get(number=1).pledges.order_by("number").first()
    response = world.admin.post(
        reverse("admin:pledges_subitem_add"),
        {"pledge": pledge.pk, "position": 9, "title": "追加した項目", "content": "追加の内容"},
    )
    assert response.status_code == 302
    added = SubItem.objects.get(pledge=pledge, position=9)
    post_change(world.admin, added.assessment, rating="B")
    editing.publish(draft)


def workbook_apply(world: World, _prepared) -> None:
    def rate_3_1(workbook) -> None:
        sheet = workbook[excel.LIST_SHEET]
        sheet[f"E{row_of(sheet, '3①')}"] = "A 完了"

    data = edited(excel.export_xlsx(world.report), rate_3_1)
    editing.apply_workbook(excel.plan_import(data, world.report), reason="test")


def import_new_month(world: World, _prepared) -> None:
    loading.load_table(generated_table(sub_items=8, as_of=date(2023, 3, 1)), same_manifesto=True)


def import_replace(world: World, _prepared) -> None:
    call_command("import_progress", str(_real_path()), "--replace", stdout=io.StringIO())


def publish(world: World, draft: Report) -> None:
    editing.publish(draft)


def copy(world: World, _prepared) -> None:
    draft_of(world.report)


def delete_report(world: World, newer: Report) -> None:
    editing.delete_report(newer)


def _real_path():
    from tests.conftest import REAL_2022

    return REAL_2022


def _newer(world: World) -> Report:
    loading.load_table(generated_table(sub_items=8, as_of=date(2023, 3, 1)), same_manifesto=True)
    return Report.objects.get(as_of=date(2023, 3, 1))


def _renamed_chapter(world: World) -> None:
    # import_replace reimports the real file: rename its first chapter first, so the public
    # page showing the file's own title again proves the replacement is shown.
    Chapter.objects.filter(report=world.report, number=1).update(title="古い章名")


def draft_versioned() -> bool:
    """The copied draft exists with a version of its own: its pages, once published, are never
    served from keys of an earlier state."""
    return Report.objects.filter(as_of=APRIL_2023, content_version__gt=0).exists()


def _chapter_title(client: Client) -> str:
    return summary(client)["chapters"][0]["title"]


WRITE_PATHS: dict[str, WritePath] = {
    "admin assessment form (rating)": WritePath(
        admin_rating, lambda public: counts(summary(public))["A"] == 9),
    "admin assessment form (notes only)": WritePath(
        admin_notes_only,
        lambda public: "市民説明会を開催" in public.get("/chapters/1/").content.decode()),
    "admin footnote form": WritePath(
        admin_footnote,
        lambda public: "書き直しました" in public.get("/pledges/4/").content.decode()),
    "admin set-rating action": WritePath(
        admin_set_rating, lambda public: counts(summary(public))["D"] == 2),
    "admin copy": WritePath(
        admin_copy,
        # A draft is never public: the pages keep showing the published report.
        lambda public: summary(public)["report"] == "2022-03" and draft_versioned()),
    "admin publish": WritePath(
        admin_publish, lambda public: summary(public)["report"] == "2023-04",
        lambda world: draft_of(world.report)),
    "admin publish action": WritePath(
        admin_publish_action, lambda public: summary(public)["report"] == "2023-04",
        lambda world: draft_of(world.report)),
    "admin delete report": WritePath(
        admin_delete_report, lambda public: summary(public)["report"] == "2022-03", _newer),
    "admin delete action": WritePath(
        admin_delete_action, lambda public: summary(public)["report"] == "2022-03", _newer),
    "admin structure (chapter of a published report)": WritePath(
        admin_chapter, lambda public: _chapter_title(public) == "デジタル未来都市づくり"),
    "admin structure (sub-item added to a draft)": WritePath(
        admin_sub_item_added_to_a_draft,
        lambda public: "追加した項目" in public.get("/chapters/1/").content.decode(),
        lambda world: draft_of(world.report)),
    "workbook apply": WritePath(workbook_apply, lambda public: counts(summary(public))["A"] == 9),
    "import new month": WritePath(
        import_new_month, lambda public: summary(public)["report"] == "2023-03"),
    "import --replace": WritePath(
        import_replace, lambda public: _chapter_title(public) == "デジタル未来都市",
        _renamed_chapter),
    "publish": WritePath(
        publish, lambda public: summary(public)["report"] == "2023-04",
        lambda world: draft_of(world.report)),
    "copy": WritePath(
        copy,
        lambda public: summary(public)["report"] == "2022-03" and draft_versioned()),
    "delete report": WritePath(
        delete_report, lambda public: summary(public)["report"] == "2022-03", _newer),
}


@pytest.mark.parametrize("name", list(WRITE_PATHS))
def test_every_write_path_shows_on_the_next_public_request(
    name: str, report_2022: Report, admin_client: Client
):
    path = WRITE_PATHS[name]
    world = World(public=Client(), admin=admin_client, report=report_2022)
    prepared = path.prepare(world)
    assert not path.shown(world.public)  # the page is now in the cache, before the write
    path.write(world, prepared)
    assert path.shown(world.public)


# -- rules, in the service whatever the caller ---------------------------------------------------


def test_a_blank_rating_is_refused_on_a_published_report_by_every_writer(report_2022: Report):
    target = assessment(report_2022, 3, 1)
    target.rating = ""
    with pytest.raises(editing.EditError, match="空欄にできません"):
        editing.save_assessment(target)
    with pytest.raises(editing.EditError, match="空欄にできません"):
        editing.set_rating(Assessment.objects.filter(pk=target.pk), "")
    assert assessment(report_2022, 3, 1).rating == "C"


def test_a_draft_may_hold_a_blank_rating_until_it_is_published(report_2022: Report):
    draft = draft_of(report_2022)
    target = assessment(draft, 3, 1)
    target.rating = ""
    assert editing.save_assessment(target)
    with pytest.raises(editing.UnratedSubItems, match="3①"):
        editing.publish(draft)


def test_a_draft_comes_after_the_newest_published_report(report_2022: Report):
    with pytest.raises(editing.EditError, match="より後の月"):
        editing.copy_to_draft(report_2022, date(2021, 3, 1))
    assert Report.objects.count() == 1


def test_a_part_is_added_to_a_draft_only_but_a_footnote_anywhere(report_2022: Report):
    pledge = report_2022.chapters.get(number=1).pledges.first()
    with pytest.raises(editing.EditError, match="下書きに追加"):
        editing.save_part(SubItem(pledge=pledge, position=9, title="t", content="c"))
    editing.save_part(Footnote(report=report_2022, marker="※2", text="追加の注記"))
    assert report_2022.footnotes.count() == 2


def test_a_sub_item_added_to_a_draft_gets_its_unrated_assessment(report_2022: Report):
    draft = draft_of(report_2022)
    pledge = draft.chapters.get(number=1).pledges.first()
    added = SubItem(pledge=pledge, position=9, title="追加", content="内容")
    editing.save_part(added)
    assert Assessment.objects.get(sub_item=added).rating == ""


def test_footnotes_are_ordered_by_their_number(report_2022: Report):
    for marker in ("※10", "※2"):
        editing.save_part(Footnote(report=report_2022, marker=marker, text=f"{marker}の注記"))
    footnotes = Footnote.objects.filter(report=report_2022)
    assert [(f.marker, f.number) for f in footnotes] == [("※1", 1), ("※2", 2), ("※10", 10)]


def test_a_copy_keeps_footnote_numbers_and_the_bullet_of_each_assessment(report_2022: Report):
    unbulleted = {
        a.sub_item.code for a in Assessment.objects.filter(
            sub_item__pledge__chapter__report=report_2022, notes_bulleted=False
        ).select_related("sub_item__pledge")
    }
    assert len(unbulleted) == 2
    draft = draft_of(report_2022)
    assert {
        a.sub_item.code for a in Assessment.objects.filter(
            sub_item__pledge__chapter__report=draft, notes_bulleted=False
        ).select_related("sub_item__pledge")
    } == unbulleted
    assert list(draft.footnotes.values_list("marker", "number")) == [("※1", 1)]


@pytest.mark.parametrize(
    "edit",
    [
        lambda a: setattr(a, "rating", "A"),
        lambda a: setattr(a, "footnote", a.report.footnotes.get()),
        lambda a: setattr(a, "notes_bulleted", False),
    ],
    ids=["rating", "footnote", "notes_bulleted"],
)
def test_every_change_of_an_assessment_bumps_its_revision_once(report_2022: Report, edit):
    target = assessment(report_2022, 3, 1)
    before = target.revision
    edit(target)
    assert editing.save_assessment(target)
    assert assessment(report_2022, 3, 1).revision == before + 1


def test_notes_written_alone_bump_the_revision_and_keep_history(report_2022: Report,
                                                                 admin_user):
    target = assessment(report_2022, 3, 1)
    kept = list(target.notes.order_by("position"))
    notes = [editing.NoteEdit("新しい記述"), editing.NoteEdit(kept[0].text, kept[0].pk)]
    assert editing.save_assessment(target, notes=notes, user=admin_user, reason="test")
    assert list(target.notes.order_by("position").values_list("text", flat=True)) == [
        "新しい記述", kept[0].text,
    ]
    assert assessment(report_2022, 3, 1).revision == target.revision
    deleted = ProgressNote.history.filter(history_type="-", assessment_id=target.pk)
    assert {(row.history_user, row.history_change_reason) for row in deleted} == {
        (admin_user, "test")
    }


def test_an_unchanged_assessment_is_not_written(report_2022: Report):
    target = assessment(report_2022, 3, 1)
    notes = [editing.NoteEdit(n.text, n.pk) for n in target.notes.order_by("position")]
    assert not editing.save_assessment(target, notes=notes)
    assert target.history.count() == 1


def test_the_admin_form_sets_the_bullet_of_the_notes(report_2022: Report, admin_client: Client):
    target = assessment(report_2022, 3, 1)
    assert post_change(admin_client, target, notes_bulleted=None).status_code == 302
    after = assessment(report_2022, 3, 1)
    assert (after.notes_bulleted, after.revision) == (False, target.revision + 1)


def test_deleting_a_report_in_the_admin_lists_counts_and_records_history(
    report_2022: Report, admin_client: Client, admin_user
):
    newer = draft_of(report_2022)
    url = reverse("admin:pledges_report_delete", args=[newer.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert dict(page.context["model_count"])[str(SubItem._meta.verbose_name_plural)] == 60
    admin_client.post(url, {"post": "yes"})
    assert not Report.objects.filter(pk=newer.pk).exists()
    deleted = SubItem.history.filter(history_type="-")
    assert deleted.count() == 60
    assert {(row.history_user, row.history_change_reason) for row in deleted} == {
        (admin_user, "delete")
    }
