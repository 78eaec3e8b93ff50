"""Staff editing: what the city's staff change between publications, with history.

Every ModelAdmin is a HistoryAdmin (SimpleHistoryAdmin), so each change page has a 履歴
(history) link listing who changed what, when, old → new. Editors (``pledges.roles``) change
assessments and their progress notes; the structure (reports, chapters, pledges, sub-items,
footnotes) is view-only for them. Reports are never added through a form: they come from an
import or from copying a published report into a draft, which is then published from its change
page. Every save, delete and action writes through ``pledges.editing``, which holds the rules,
the history and the public pages' cache version; the forms here only ask it.

ReportAdmin's extra pages are declared in ``report_urls``, the buttons above a report in
``report_tools`` and above the report list in ``report_list_tools``: add a URL and a button there
for further report tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import editing, ratings, report_tree
from .models import (
    Assessment,
    Chapter,
    Footnote,
    Manifesto,
    Pledge,
    ProgressNote,
    Report,
    StatedTotal,
    SubItem,
    parse_month,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

REPORT_PATH = "sub_item__pledge__chapter__report"


class HistoryAdmin(SimpleHistoryAdmin):
    """A ModelAdmin whose 履歴 page lists who changed what and when, old → new, in Japanese."""

    object_history_template = "admin/pledges/object_history.html"
    object_history_list_template = "admin/pledges/object_history_list.html"

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history saves whatever is POSTed to an old version's page after checking only
        # *view* permission, bypassing read-only fields and the publishing workflow. Old versions
        # are for reading; a change goes through the normal change form.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_view_title(self, request, obj) -> str:
        return gettext("変更履歴: %(object)s") % {"object": obj}

    def history_form_view_title(self, request, obj) -> str:
        return gettext("過去の版: %(object)s") % {"object": obj}


class EditingAdmin(HistoryAdmin):
    """A HistoryAdmin whose saves and deletes go through ``editing`` with the staff user."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        editing.save_part(obj, user=request.user)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # No model here has many-to-many fields, and the inlines of these admins are read-only.
        pass

    def delete_model(self, request: HttpRequest, obj) -> None:
        editing.delete_part(obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            editing.delete_part(obj, user=request.user)


def report_label(report: Report) -> str:
    """How admin lists and filters name a report: 令和5年3月, with (下書き) for a draft."""
    if report.is_published:
        return report.month_label
    return f"{report.month_label} ({report.get_status_display()})"


def report_column(report: Report):
    """``report_label`` for a list column; a draft's status in bold."""
    if report.is_published:
        return report.month_label
    return format_html("{} <strong>({})</strong>", report.month_label, report.get_status_display())


# ---------------------------------------------------------------------------------------------
# List filters shared by the structure admins

class ReportFilter(admin.SimpleListFilter):
    """Filter by report month (``?report=2022-03``); ``path`` is the lookup to Report."""

    title = _("進捗報告")
    parameter_name = "report"
    path = REPORT_PATH

    def lookups(self, request, model_admin):
        reports = Report.objects.order_by("-as_of")
        return [(report.month, report_label(report)) for report in reports]

    def queryset(self, request, queryset):
        month = self.value()
        if not month:
            return queryset
        as_of = parse_month(month)
        return queryset.filter(**{f"{self.path}__as_of": as_of}) if as_of else queryset.none()


class ChapterFilter(admin.SimpleListFilter):
    """Filter by chapter number, labelled with the titles of the chosen (or newest) report."""

    title = _("章")
    parameter_name = "chapter"
    path = "sub_item__pledge__chapter"

    def lookups(self, request, model_admin):
        as_of = parse_month(request.GET.get(ReportFilter.parameter_name, ""))
        report = Report.objects.filter(as_of=as_of).first() if as_of else None
        report = report or Report.objects.order_by("-as_of").first()
        chapters = Chapter.objects.filter(report=report).order_by("number")
        return [(str(chapter.number), str(chapter)) for chapter in chapters]

    def queryset(self, request, queryset):
        number = self.value()
        if not number:
            return queryset
        if not number.isdigit():
            return queryset.none()
        return queryset.filter(**{f"{self.path}__number": int(number)})


class RatingFilter(admin.SimpleListFilter):
    """The levels of the scale, plus 未評価 (only drafts may have it)."""

    title = _("評価")
    parameter_name = "rating"
    UNRATED = "none"

    def lookups(self, request, model_admin):
        return [*((level.code, level.text) for level in ratings.IRUMA),
                (self.UNRATED, _("未評価"))]

    def queryset(self, request, queryset):
        if self.value() == self.UNRATED:
            return queryset.filter(rating="")
        if self.value() in ratings.IRUMA:
            return queryset.filter(rating=self.value())
        return queryset


def report_filter(lookup_path: str) -> type[ReportFilter]:
    return type("ReportFilter", (ReportFilter,), {"path": lookup_path})


def chapter_filter(lookup_path: str) -> type[ChapterFilter]:
    return type("ChapterFilter", (ChapterFilter,), {"path": lookup_path})


# ---------------------------------------------------------------------------------------------
# Assessments: what editors change

class ProgressNoteForm(forms.ModelForm):
    position = forms.IntegerField(
        label=_("順番"), required=False, min_value=0, max_value=9999,
        widget=forms.NumberInput(attrs={"class": "vSmallField"}),
        help_text=_("小さい順に並びます。空欄なら最後。保存すると1から振り直します。"),
    )

    class Meta:
        model = ProgressNote
        fields = ("position", "text")
        widgets: ClassVar = {"text": forms.Textarea(attrs={"rows": 2, "cols": 80})}

    def clean_position(self) -> int:
        # An empty position means "append": larger than any renumbered position.
        position = self.cleaned_data["position"]
        return 10_000 if position is None else position


class ProgressNoteInline(admin.TabularInline):
    model = ProgressNote
    form = ProgressNoteForm
    # Labels on every input, and a class for static/pledges/admin.css to stack the rows on a
    # phone, where the table's columns would run off the screen.
    template = "admin/pledges/assessment/notes_inline.html"
    classes = ("notes-inline",)
    extra = 1
    max_num = ProgressNote.MAX_PER_ASSESSMENT
    verbose_name = _("取組状況")
    verbose_name_plural = _("取組状況(上から順に表示されます)")


class AssessmentForm(forms.ModelForm):
    """Rating, footnote and the notes' 「・」; the footnote must be one of the same report's.

    ``opened_revision`` carries the assessment's revision from when the form was opened: a
    save against a newer one would silently undo a colleague's edit, so it is refused.
    """

    opened_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The levels come from the report's scale (set in __init__), as radio buttons in a row.
    rating = forms.ChoiceField(
        label=_("評価"), required=False,
        widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
    )

    class Meta:
        model = Assessment
        fields = ("rating", "footnote", "notes_bulleted")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opened_revision"].initial = self.instance.revision
        if not self.instance.sub_item_id:
            return
        report = self.instance.sub_item.pledge.chapter.report
        if isinstance(rating := self.fields.get("rating"), forms.ChoiceField):
            # "A 完了" rather than the bare label; blank only where it is allowed (drafts).
            choices = [(level.code, level.text) for level in report.scale]
            if not editing.needs_every_rating(report):
                choices.insert(0, ("", gettext("未評価")))
            rating.choices = choices
        if isinstance(footnote := self.fields.get("footnote"), forms.ModelChoiceField):
            footnote.queryset = Footnote.objects.filter(report=report)

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is None:
            return cleaned
        # The admin's transaction keeps the row locked from this check to the write.
        conflict = editing.edit_conflict(self.instance.pk, cleaned.get("opened_revision"))
        if conflict:
            raise forms.ValidationError(conflict, code="stale")
        return cleaned

    def clean_rating(self) -> str:
        rating = self.cleaned_data["rating"]
        if self.instance.sub_item_id:
            report = self.instance.sub_item.pledge.chapter.report
            if problem := editing.blank_rating_refused(report, rating):
                raise forms.ValidationError(problem)
        return rating


def set_rating_action(code: str, label: str):
    """An admin action setting the rating ``code`` on the selected assessments."""

    @admin.action(
        permissions=["change"],
        description=format_lazy(_("選択した項目の評価を「{code} {label}」にする"), code=code,
                                label=label),
    )
    def action(modeladmin: AssessmentAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        modeladmin.set_rating(request, queryset, code)

    action.__name__ = f"set_rating_{code}"
    return action


@admin.register(Assessment)
class AssessmentAdmin(HistoryAdmin):
    form = AssessmentForm
    inlines = (ProgressNoteInline,)
    list_display = ("report_month", "chapter_number", "pledge_title", "sub_item_title",
                    "rating_code", "footnote_marker", "updated_at")
    list_display_links = ("sub_item_title",)
    list_filter = (ReportFilter, ChapterFilter, RatingFilter)
    list_select_related = (f"{REPORT_PATH}__manifesto", "footnote")
    list_per_page = 100
    search_fields = (
        "sub_item__title", "sub_item__content", "sub_item__pledge__title",
        "sub_item__pledge__field", "sub_item__pledge__chapter__title", "notes__text",
    )
    search_help_text = _("項目名・内容・公約名・章名・取組状況から探します。")
    actions = tuple(set_rating_action(level.code, level.label) for level in ratings.IRUMA)
    readonly_fields = ("report_month", "chapter_title", "pledge_title", "sub_item_title",
                       "sub_item_content", "updated_at")
    fieldsets = (
        (None, {"fields": ("report_month", "chapter_title", "pledge_title", "sub_item_title",
                           "sub_item_content")}),
        (_("評価"), {"fields": ("rating", "footnote", "notes_bulleted", "updated_at",
                              "opened_revision")}),
    )
    object_history_template = "admin/pledges/assessment/object_history.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return super().get_queryset(request).select_related(
            f"{REPORT_PATH}__manifesto", "footnote"
        )

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if self.has_change_permission(request, obj):
            return self.fieldsets
        # A read-only page shows model values; the revision a form was opened at is no value.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "opened_revision"]})
            for name, options in self.fieldsets
        ]

    # Assessments exist exactly once per sub-item: created by imports, copies and SubItemAdmin.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("進捗報告"), ordering="sub_item__pledge__chapter__report__as_of")
    def report_month(self, obj: Assessment) -> str:
        return report_column(obj.sub_item.pledge.chapter.report)

    @admin.display(description=_("章"), ordering="sub_item__pledge__chapter__number")
    def chapter_number(self, obj: Assessment) -> str:
        return gettext("第%(number)s章") % {"number": obj.sub_item.pledge.chapter.number}

    @admin.display(description=_("章"))
    def chapter_title(self, obj: Assessment) -> str:
        return str(obj.sub_item.pledge.chapter)

    @admin.display(description=_("公約"), ordering="sub_item__pledge__number")
    def pledge_title(self, obj: Assessment) -> str:
        return str(obj.sub_item.pledge)

    @admin.display(description=_("項目"), ordering="sub_item__position")
    def sub_item_title(self, obj: Assessment) -> str:
        return f"{obj.sub_item.marker}{obj.sub_item.title}"

    @admin.display(description=_("内容"))
    def sub_item_content(self, obj: Assessment) -> str:
        return obj.sub_item.content

    @admin.display(description=_("評価"), ordering="rating")
    def rating_code(self, obj: Assessment) -> str:
        return obj.report.scale.text(obj.rating) or gettext("未評価")

    @admin.display(description=_("注記"), ordering="footnote__marker")
    def footnote_marker(self, obj: Assessment) -> str:
        return obj.footnote.marker if obj.footnote else ""

    def save_model(self, request: HttpRequest, obj: Assessment, form, change: bool) -> None:
        # Written with its notes in save_related, in one call: one revision for the whole form.
        pass

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        (notes,) = formsets
        editing.save_assessment(form.instance, notes=note_edits(notes), user=request.user)

    def set_rating(self, request: HttpRequest, queryset: QuerySet[Assessment], code: str) -> None:
        """Set ``code`` on the selected assessments that differ, with one history row each."""
        changed = editing.set_rating(queryset, code, user=request.user,
                                     reason=f"bulk rating {code}")
        self.message_user(
            request,
            ngettext(
                "%(count)d件の評価を「%(rating)s」にしました。",
                "%(count)d件の評価を「%(rating)s」にしました。",
                changed,
            ) % {"count": changed, "rating": ratings.IRUMA.text(code)},
            messages.SUCCESS,
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        extra_context = {**(extra_context or {}), "note_changes": note_changes(unquote(object_id))}
        return super().history_view(request, object_id, extra_context)


def note_edits(formset) -> list[editing.NoteEdit]:
    """The notes the inline ``formset`` keeps, in the order staff gave: by position, ties
    keeping their age (existing notes by id, then new ones in form order)."""
    formset.save(commit=False)  # writes nothing; sets what the change message lists
    deleted = {note.pk for note in formset.deleted_objects}
    kept = [form.instance for form in formset.initial_forms if form.instance.pk not in deleted]
    kept += formset.new_objects
    ordered = sorted(
        enumerate(kept),
        key=lambda pair: (pair[1].position, pair[1].pk is None, pair[1].pk or pair[0]),
    )
    return [editing.NoteEdit(note.text, note.pk) for _index, note in ordered]


class NoteChange(NamedTuple):
    when: object
    user: object
    kind: str  # "+" created, "~" changed, "-" deleted
    reason: str | None
    text: str
    changes: list[tuple[StrOrPromise, object, object]]  # (field's verbose name, old, new)


def note_changes(assessment_id: str, limit: int = 200) -> list[NoteChange]:
    """The progress-note history of an assessment, newest first, with old → new per field."""
    records = list(
        ProgressNote.history.filter(assessment_id=assessment_id)
        .select_related("history_user")
        .order_by("history_date", "history_id")[:limit]
    )
    fields = [ProgressNote._meta.get_field("position"), ProgressNote._meta.get_field("text")]
    previous: dict[int, object] = {}
    result = []
    for record in records:
        before = previous.get(record.id)
        changes = [
            (field.verbose_name, getattr(before, field.name), getattr(record, field.name))
            for field in fields
            if before is not None and getattr(before, field.name) != getattr(record, field.name)
        ]
        previous[record.id] = record
        result.append(NoteChange(record.history_date, record.history_user,
                                 record.history_type, record.history_change_reason,
                                 record.text, changes))
    return result[::-1]


# ---------------------------------------------------------------------------------------------
# Reports: drafts, copying and publishing

class CopyToDraftForm(forms.Form):
    month = forms.CharField(
        label=_("新しい報告の年月"), max_length=7,
        help_text=_(
            "YYYY-MM の形で入力します(例: 2023-03)。公開中の最新の報告より後の月にします。"
        ),
    )

    def clean_month(self):
        # Only read here: which months may be copied to is the service's rule (copy_to_draft).
        value = self.cleaned_data["month"].strip()
        as_of = parse_month(value)
        if as_of is None:
            raise forms.ValidationError(
                _("「%(value)s」は年月として読めません。2023-03 のように入力してください。"),
                params={"value": value},
            )
        return as_of


class ObjectTool(NamedTuple):
    """A button above a change form."""

    url: str
    label: str


class StatedTotalInline(admin.TabularInline):
    model = StatedTotal
    fields = ("rating", "count", "percent")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _(
        "元ファイルに印刷された集計(比較用。このサイトの数字は評価から計算します)"
    )

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Manifesto)
class ManifestoAdmin(HistoryAdmin):
    """One term's manifesto: its name, mayor and term are edited here; its scale comes from
    the legend of its first table and is shown, never edited. Manifestos are created by the
    import (``--new-manifesto``)."""

    list_display = ("title", "slug", "mayor", "term_label", "scale_legend", "report_count")
    fields = ("title", "slug", "mayor", "term_start", "term_end", "scale_legend")
    readonly_fields = ("slug", "scale_legend")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Manifesto]:
        return super().get_queryset(request).annotate(published_reports=Count("reports"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # its reports hold on to it; delete them instead

    def save_model(self, request: HttpRequest, obj: Manifesto, form, change: bool) -> None:
        editing.save_manifesto(obj, user=request.user)

    @admin.display(description=_("任期"))
    def term_label(self, obj: Manifesto) -> str:
        return obj.term_label

    @admin.display(description=_("評価の段階"))
    def scale_legend(self, obj: Manifesto) -> str:
        return obj.scale.legend()

    @admin.display(description=_("報告の数"), ordering="published_reports")
    def report_count(self, obj: Manifesto) -> int:
        return getattr(obj, "published_reports", 0)  # annotated by get_queryset


@admin.register(Report)
class ReportAdmin(EditingAdmin):
    list_display = ("month", "label", "manifesto", "title", "status", "published_at",
                    "updated_at")
    list_filter = ("status", "manifesto")
    search_fields = ("title",)
    fields = ("manifesto", "as_of", "title", "status", "published_at", "source_name",
              "source_sha256", "created_at", "updated_at")
    readonly_fields = ("manifesto", "as_of", "status", "published_at", "source_name",
                       "source_sha256", "created_at", "updated_at")
    inlines = (StatedTotalInline,)
    actions = ("copy_to_draft", "publish_selected")
    formfield_overrides: ClassVar = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 80})}
    }

    def get_deleted_objects(self, objs, request: HttpRequest):
        # A report goes with its whole tree in bulk (editing.delete_report): the page counts the
        # rows instead of listing thousands, and only the permission to delete reports counts,
        # not the per-row permissions of the parts (editors may never delete an assessment).
        reports = list(objs)
        counts = report_tree.row_counts([report.pk for report in reports])
        return [str(report) for report in reports], counts, set(), []

    def view_on_site(self, obj: Report) -> str | None:
        # A draft's public URL is a 404 until it is published.
        return obj.get_absolute_url() if obj.is_published else None

    @admin.display(description=_("年月"), ordering="as_of")
    def month(self, obj: Report) -> str:
        return obj.month

    @admin.display(description=_("時点"), ordering="as_of")
    def label(self, obj: Report) -> str:
        return gettext("%(label)s現在") % {"label": obj.month_label}

    # Reports come from an import or from copying a published report, never from an empty form.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_copy_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("pledges.add_report")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("pledges.change_report")

    # -- extra pages and buttons ---------------------------------------------------------------

    def get_urls(self):
        return self.report_urls() + super().get_urls()

    def report_urls(self) -> list:
        """Extra report pages under ``/admin/pledges/report/<id>/…`` (staff login required)."""
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/copy/", view(self.copy_view), name="pledges_report_copy"),
            path("<path:object_id>/publish/", view(self.publish_view),
                 name="pledges_report_publish"),
        ]

    def report_tools(self, request: HttpRequest, report: Report) -> list[ObjectTool]:
        """Buttons above the change form of ``report`` that ``request.user`` may use."""
        tools = [ObjectTool(
            reverse("admin:pledges_assessment_changelist") + f"?report={report.month}",
            gettext("この報告の評価と取組状況"),
        )]
        tools.append(ObjectTool(reverse("pledges_xlsx:download", args=[report.pk]),
                                gettext("Excelをダウンロード")))
        if request.user.has_perm("pledges.change_assessment"):
            tools.append(ObjectTool(reverse("pledges_xlsx:upload", args=[report.pk]),
                                    gettext("Excelで更新")))
        if report.is_published and self.has_copy_permission(request):
            tools.append(ObjectTool(reverse("admin:pledges_report_copy", args=[report.pk]),
                                    gettext("次の報告の下書きを作る")))
        if not report.is_published and self.has_publish_permission(request):
            tools.append(ObjectTool(reverse("admin:pledges_report_publish", args=[report.pk]),
                                    gettext("公開する")))
        return tools

    def report_list_tools(self, request: HttpRequest) -> list[ObjectTool]:
        """Buttons above the report list (none yet; e.g. an upload page would go here)."""
        return []

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "report_tools": self.report_list_tools(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, unquote(object_id))
        tools = self.report_tools(request, report) if report is not None else []
        extra_context = {**(extra_context or {}), "report_tools": tools}
        return super().change_view(request, object_id, form_url, extra_context)

    def report_page(self, request: HttpRequest, template: str, title: str, report: Report,
                    **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": title, "report": report, **context,
        }
        return TemplateResponse(request, f"admin/pledges/report/{template}", context)

    def copy_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the month form; POST: copy the published report into a draft for that month."""
        if not self.has_copy_permission(request):
            raise PermissionDenied
        source = self.get_object(request, unquote(object_id))
        if source is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not source.is_published:
            self.message_user(request, gettext("複製できるのは公開中の報告だけです。"),
                              messages.ERROR)
            return HttpResponseRedirect(reverse("admin:pledges_report_change", args=[source.pk]))
        form = CopyToDraftForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                draft = editing.copy_to_draft(source, form.cleaned_data["month"],
                                              user=request.user)
            except editing.EditError as error:
                form.add_error("month", str(error))
            else:
                self.log_addition(request, draft, f"copy of {source.month}")
                self.message_user(
                    request,
                    gettext("%(source)s を複製して下書き %(draft)s を作りました。評価と取組状況を"
                            "更新してから公開してください。") % {"source": source, "draft": draft},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:pledges_report_change", args=[draft.pk])
                )
        return self.report_page(request, "copy_to_draft.html", gettext("次の報告の下書きを作る"),
                                source, form=form)

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: confirm (listing unrated sub-items, if any); POST: publish the draft."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        report = self.get_object(request, unquote(object_id))
        if report is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:pledges_report_change", args=[report.pk])
        if report.is_published:
            self.message_user(request, gettext("%(report)s はすでに公開されています。")
                              % {"report": report}, messages.WARNING)
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            try:
                editing.publish(report, user=request.user)
            except editing.EditError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.log_change(request, report, "publish")
                self.message_user(
                    request, gettext("%(report)s を公開しました。") % {"report": report},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        unrated = list(editing.unrated_sub_items(report))
        return self.report_page(request, "publish.html", gettext("下書きを公開する"), report,
                                unrated=unrated, assessment_admin_url=reverse(
                                    "admin:pledges_assessment_changelist"))

    # -- actions -------------------------------------------------------------------------------

    @admin.action(
        permissions=["copy"], description=_("選択した公開中の報告を複製して次の報告の下書きを作る")
    )
    def copy_to_draft(self, request: HttpRequest, queryset: QuerySet[Report]):
        reports = list(queryset[:2])
        if len(reports) != 1:
            self.message_user(request, gettext("複製する報告を1つだけ選んでください。"),
                              messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:pledges_report_copy", args=[reports[0].pk]))

    @admin.action(permissions=["publish"], description=_("選択した下書きを公開する"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        for report in queryset.order_by("as_of"):
            try:
                editing.publish(report, user=request.user)
            except editing.EditError as error:
                self.message_user(request, f"{report}: {error}", messages.ERROR)
            else:
                self.log_change(request, report, "publish")
                self.message_user(
                    request, gettext("%(report)s を公開しました。") % {"report": report},
                    messages.SUCCESS,
                )


# ---------------------------------------------------------------------------------------------
# Structure: view-only for editors, editable by superusers

class StructureAdmin(EditingAdmin):
    """Admin of a part of a report's tree (chapter, pledge, sub-item, footnote).

    ``parent`` names the foreign key towards the report, ``parent_to_report`` the attribute
    path from that parent to its Report ("" when the parent is the report). The parent is fixed
    once saved (moving a part to another report would silently rewrite what both reports said),
    and (unless ``add_to_drafts_only`` is off) parts are added only to drafts: a published
    report keeps the structure it was published with, and never gains an unrated sub-item.
    """

    parent: str
    parent_to_report: str = ""
    add_to_drafts_only = True

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, self.parent) if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None or not self.add_to_drafts_only:
            return form
        parent_name, path = self.parent, self.parent_to_report

        # Subclasses the form the admin built for this request, which mypy cannot see.
        class AddToDraftOnly(form):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                report = cleaned.get(parent_name)
                for name in filter(None, path.split(".")):
                    report = getattr(report, name, None)
                if report is not None and (
                    problem := editing.part_refused(self._meta.model, report)
                ):
                    raise forms.ValidationError(problem)
                return cleaned

        return AddToDraftOnly


@admin.register(Chapter)
class ChapterAdmin(StructureAdmin):
    parent = "report"
    list_display = ("__str__", "report_month")
    list_filter = (report_filter("report"),)
    list_select_related = ("report__manifesto",)
    search_fields = ("title",)

    @admin.display(description=_("進捗報告"), ordering="report__as_of")
    def report_month(self, obj: Chapter) -> str:
        return report_column(obj.report)


@admin.register(Pledge)
class PledgeAdmin(StructureAdmin):
    parent, parent_to_report = "chapter", "report"
    list_display = ("__str__", "chapter", "report_month")
    list_filter = (report_filter("chapter__report"), chapter_filter("chapter"))
    list_select_related = ("chapter__report__manifesto",)
    search_fields = ("title", "field")

    @admin.display(description=_("進捗報告"), ordering="chapter__report__as_of")
    def report_month(self, obj: Pledge) -> str:
        return report_column(obj.chapter.report)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "chapter":
            kwargs["queryset"] = Chapter.objects.select_related("report")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(SubItem)
class SubItemAdmin(StructureAdmin):
    parent, parent_to_report = "pledge", "chapter.report"
    list_display = ("code_and_title", "pledge", "report_month", "rating")
    list_filter = (report_filter("pledge__chapter__report"), chapter_filter("pledge__chapter"))
    list_select_related = ("pledge__chapter__report__manifesto", "assessment")
    search_fields = ("title", "content", "pledge__title")
    readonly_fields = ("assessment_link",)
    raw_id_fields = ("pledge",)

    @admin.display(description=_("項目"), ordering="position")
    def code_and_title(self, obj: SubItem) -> str:
        return f"{obj.code}{obj.title}"

    @admin.display(description=_("進捗報告"), ordering="pledge__chapter__report__as_of")
    def report_month(self, obj: SubItem) -> str:
        return report_column(obj.pledge.chapter.report)

    @admin.display(description=_("評価"))
    def rating(self, obj: SubItem) -> str:
        assessment = getattr(obj, "assessment", None)
        return obj.pledge.chapter.report.scale.label(assessment.rating) if assessment else ""

    @admin.display(description=_("評価と取組状況"))
    def assessment_link(self, obj: SubItem) -> str:
        assessment = getattr(obj, "assessment", None)
        if assessment is None:
            return ""
        url = reverse("admin:pledges_assessment_change", args=[assessment.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("評価と取組状況を編集する"))


@admin.register(Footnote)
class FootnoteAdmin(StructureAdmin):
    parent = "report"
    add_to_drafts_only = False  # a ※ note may be added between publications
    list_display = ("marker", "text", "report_month")
    list_filter = (report_filter("report"),)
    list_select_related = ("report__manifesto",)
    search_fields = ("text",)

    @admin.display(description=_("進捗報告"), ordering="report__as_of")
    def report_month(self, obj: Footnote) -> str:
        return report_column(obj.report)
