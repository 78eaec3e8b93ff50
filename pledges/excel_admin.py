"""Staff pages around a report's workbook: download it (drafts too), upload an edited one,
preview the changes, confirm them.

Upload → preview reads the workbook and writes nothing; the plan (old → new values, no file)
waits in the server-side session under a random token that the confirm form sends back, so
nothing the browser sends is trusted but that token. Confirm applies the plan in one
transaction with the staff user in the history, and refuses if the report changed meanwhile.
Every view needs a staff login; download needs ``view_assessment`` (or change), the rest
``change_assessment``.

Mounted at ``admin/reports/<int:pk>/xlsx/`` (before ``admin.site.urls``) by the project urls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import editing, excel
from .export_views import XLSX_TYPE, content_disposition
from .models import Report
from .xlsx_reading import MAX_UPLOAD_BYTES

EDIT_PERMISSION = "pledges.change_assessment"
VIEW_PERMISSION = "pledges.view_assessment"
SESSION_KEY = "pledges_xlsx_preview"

app_name = "pledges_xlsx"


def staff_with_permission(
    *permissions: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Staff login (else the admin login page), then any one of ``permissions`` (else 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(permission) for permission in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_member_required(checked)

    return decorator


class UploadForm(forms.Form):
    workbook = forms.FileField(
        label=_("編集したExcelファイル(.xlsx)"),
        help_text=_("このページの「Excelをダウンロード」で出力し、取組状況と評価だけを編集したもの。"),
    )

    def clean_workbook(self):
        workbook = self.cleaned_data["workbook"]
        if workbook.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます(上限 %(limit)d MB)。"),
                params={"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return workbook


def _report_admin_url(request: HttpRequest, report: Report) -> str | None:
    """The report's admin page for the breadcrumbs, if this user may see it."""
    if request.user.has_perm("pledges.view_report") or request.user.has_perm(
        "pledges.change_report"
    ):
        return reverse("admin:pledges_report_change", args=[report.pk])
    return None


def _context(request: HttpRequest, report: Report, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "opts": Report._meta,
        "report": report,
        "report_admin_url": _report_admin_url(request, report),
        "title": _("Excelで取組状況・評価を更新"),
        **extra,
    }


@staff_with_permission(EDIT_PERMISSION)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the upload form. POST: read the workbook and show the preview (nothing written)."""
    report = get_object_or_404(Report, pk=pk)
    if request.method != "POST":
        return render(request, "admin/pledges/report_xlsx_upload.html",
                      _context(request, report, form=UploadForm()))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "admin/pledges/report_xlsx_upload.html",
                      _context(request, report, form=form))
    workbook = form.cleaned_data["workbook"]
    try:
        plan = excel.plan_import(workbook.read(), report)
    except excel.WorkbookError as error:
        context = _context(request, report, form=UploadForm(), errors=error.errors,
                           file_name=workbook.name)
        return render(request, "admin/pledges/report_xlsx_upload.html", context)
    token = get_random_string(32)
    request.session[SESSION_KEY] = {
        "token": token, "file_name": workbook.name, "plan": plan.as_dict()
    }
    context = _context(request, report, plan=plan, token=token, file_name=workbook.name)
    return render(request, "admin/pledges/report_xlsx_preview.html", context)


@staff_with_permission(EDIT_PERMISSION)
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the previewed plan of this session; back to the upload page if it is gone."""
    report = get_object_or_404(Report, pk=pk)
    stored = request.session.get(SESSION_KEY)
    if (
        not stored
        or not constant_time_compare(stored["token"], request.POST.get("token", ""))
        or stored["plan"]["report_id"] != report.pk
    ):
        messages.error(
            request, _("確認画面の有効期限が切れました。もう一度アップロードしてください。")
        )
        return redirect("pledges_xlsx:upload", pk=report.pk)
    plan = excel.ImportPlan.from_dict(stored["plan"])
    try:
        editing.apply_workbook(
            plan,
            user=request.user,
            reason=f"Excel: {stored['file_name']}",
            overwrite=request.POST.get("overwrite") == "yes",
        )
    except editing.ConflictError as error:
        # The preview stays valid: the user can tick the box or leave.
        messages.error(request, str(error))
        context = _context(request, report, plan=plan, token=stored["token"],
                           file_name=stored["file_name"])
        return render(request, "admin/pledges/report_xlsx_preview.html", context, status=409)
    except editing.StalePlanError as error:
        del request.session[SESSION_KEY]
        messages.error(request, str(error))
        return redirect("pledges_xlsx:upload", pk=report.pk)
    del request.session[SESSION_KEY]
    messages.success(
        request,
        _("%(month)s の %(count)d 件の項目を更新しました。")
        % {"month": report.month, "count": len(plan.changes)},
    )
    # The changed assessments, which anyone allowed to confirm may see.
    return redirect(reverse("admin:pledges_assessment_changelist") + f"?report={report.month}")


@staff_with_permission(VIEW_PERMISSION, EDIT_PERMISSION)
@require_safe
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's workbook whatever its status, to be edited and uploaded back."""
    report = get_object_or_404(Report, pk=pk)
    response = HttpResponse(excel.export_xlsx(report), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition(report, "xlsx")
    return response


urlpatterns = [
    path("", upload, name="upload"),
    path("confirm/", confirm, name="confirm"),
    path("download/", download, name="download"),
]
