"""Which report a request, a command or a staff filter means: the one place that chooses.

Public pages choose among published reports only (drafts stay staff-only): the month in the URL,
else ``?report=YYYY-MM``, else the newest. The published reports are read once per request (one
query, a city publishes one report a year) and shared by the page cache, which keys each page by
the version of the report chosen here. Staff tools (commands, admin filters) may name a draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.management.base import CommandError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from .models import Report


def published_reports(request: HttpRequest) -> list[Report]:
    """All published reports, newest first; one query, remembered on the request."""
    reports: list[Report] | None = getattr(request, "_published_reports", None)
    if reports is None:
        reports = list(Report.objects.published().order_by("-as_of"))
        request._published_reports = reports  # type: ignore[attr-defined]  # a memo on the request
    return reports


def month_asked(request: HttpRequest, kwargs: Mapping[str, object] | None = None) -> str | None:
    """The month a public request names: the URL's ``month``, else ``?report=`` (the page cache
    has removed it from views that ignore it); None for the newest."""
    month = (kwargs or {}).get("month")
    return str(month) if month else request.GET.get("report")


def shown_report(reports: list[Report], month: str | None) -> Report | None:
    """The report of ``month`` among ``reports`` (newest first), the newest for None."""
    if month is None:
        return reports[0] if reports else None
    return next((report for report in reports if report.month == month), None)


def chosen_report(
    request: HttpRequest, kwargs: Mapping[str, object] | None = None
) -> tuple[Report, list[Report]]:
    """(the report the request asks for, all published reports newest first).

    Http404 for a month that is malformed, unknown or not published, and when nothing is
    published yet.
    """
    reports = published_reports(request)
    report = shown_report(reports, month_asked(request, kwargs))
    if report is None:
        raise Http404(_("指定された時点の進捗報告はありません。"))
    return report, reports


def staff_report(month: str | None) -> Report | None:
    """For staff tools: the report of ``month`` in any status, else the newest published one."""
    if month:
        return Report.objects.for_month(month).first()
    return Report.objects.latest_published()


def command_report(month: str | None) -> Report:
    """``staff_report`` for a command's ``--report``; CommandError naming the known months."""
    report = staff_report(month)
    if report is not None:
        return report
    if month is None:
        raise CommandError(
            "公開中の報告がまだありません。--report YYYY-MM で報告を指定してください。"
        )
    known = "、".join(r.month for r in Report.objects.order_by("as_of"))
    raise CommandError(
        f"{month!r} の報告はありません(YYYY-MM の形で指定します。ある報告: {known or 'なし'})。"
    )


def previous_report(report: Report, reports: Sequence[Report]) -> Report | None:
    """The report of ``reports`` just before ``report`` in its manifesto (no query): another
    term's pledges are not comparable."""
    earlier = [
        other for other in reports
        if other.manifesto_id == report.manifesto_id and other.as_of < report.as_of
    ]
    return max(earlier, key=lambda other: other.as_of) if earlier else None
