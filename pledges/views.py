"""Public pages and the JSON API: small functions; queries live in ``stats``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import stats
from .caching import cached_page, published_reports
from .models import Report


def published_report(request: HttpRequest, month: str | None) -> Report:
    """The published report for ``YYYY-MM``, or the newest one; 404 when there is none."""
    reports = published_reports(request)
    if month is None:
        report = reports[0] if reports else None
    else:
        report = next((candidate for candidate in reports if candidate.month == month), None)
    if report is None:
        raise Http404("no such report")
    return report


@require_GET
@cached_page
def overview(request: HttpRequest) -> HttpResponse:
    report = published_report(request, request.GET.get("report"))
    context = {"report": report, "summary": stats.report_summary(report)}
    return render(request, "pledges/overview.html", context)


@require_GET
@cached_page
def summary_json(request: HttpRequest, month: str | None = None) -> JsonResponse:
    report = published_report(request, month)
    return JsonResponse(
        stats.report_summary(report).as_dict(), json_dumps_params={"ensure_ascii": False}
    )
