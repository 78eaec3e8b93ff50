"""Public pages and the JSON API: small functions; queries live in ``stats``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from . import changes, stats
from .models import Pledge, Report


def published_report(month: str | None) -> Report:
    """The published report for ``YYYY-MM``, or the newest one; 404 when there is none."""
    reports = Report.objects.published()
    report = reports.for_month(month).first() if month else reports.order_by("-as_of").first()
    if report is None:
        raise Http404("no such report")
    return report


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    report = published_report(request.GET.get("report"))
    context = {
        "report": report,
        "summary": stats.report_summary(report),
        **changes.overview_context(report),
    }
    return render(request, "pledges/overview.html", context)


@require_GET
def pledge(request: HttpRequest, number: int) -> HttpResponse:
    """One pledge of the chosen report with each sub-item's timeline across the reports."""
    report = published_report(request.GET.get("report"))
    pledge = get_object_or_404(
        Pledge.objects.select_related("chapter"), chapter__report=report, number=number
    )
    context = {"report": report, "pledge": pledge, **changes.timeline_context(number)}
    return render(request, "pledges/pledge.html", context)


@require_GET
def summary_json(request: HttpRequest, month: str | None = None) -> JsonResponse:
    report = published_report(month)
    return JsonResponse(
        stats.report_summary(report).as_dict(), json_dumps_params={"ensure_ascii": False}
    )


# --------------------------------------------------------------------------------------------
# Reports over time (issue 7)


def comparison_or_404(trend: changes.Trend, before: str, after: str) -> changes.Comparison:
    """The comparison of two published months in ``trend``; 404 when either is unknown."""
    older, newer = trend.for_month(before), trend.for_month(after)
    if older is None or newer is None or older == newer:
        raise Http404("no such pair of reports")
    return changes.compare(older, newer)


def changes_context(trend: changes.Trend, comparison: changes.Comparison | None) -> dict:
    return {"trend": trend, "comparison": comparison}


@require_GET
def changes_latest(request: HttpRequest) -> HttpResponse:
    """The newest published report against the one before it (a friendly page while only one)."""
    trend = changes.trend()
    comparison = None
    if len(trend) >= 2:
        older, newer = trend.points[-2], trend.points[-1]
        comparison = changes.compare(older, newer)
    return render(request, "pledges/changes.html", changes_context(trend, comparison))


@require_GET
def changes_between(request: HttpRequest, before: str, after: str) -> HttpResponse:
    """``/changes/<from>/<to>/``; the months the wrong way round redirect to the right order."""
    if before > after:
        return redirect("pledges:changes_between", before=after, after=before)
    trend = changes.trend()
    comparison = comparison_or_404(trend, before, after)
    return render(request, "pledges/changes.html", changes_context(trend, comparison))


@require_GET
def changes_json(request: HttpRequest, before: str, after: str) -> HttpResponse:
    if before > after:
        return redirect("pledges:changes_json", before=after, after=before)
    comparison = comparison_or_404(changes.trend(), before, after)
    return JsonResponse(comparison.as_dict(), json_dumps_params={"ensure_ascii": False})
