"""Public downloads of a published report: the workbook in the city's layout, CSV and JSON.

Kept apart from ``views`` (the HTML pages) so the page views stay small; both share
``choosing.chosen_report``, so a draft is a 404 here exactly as on the pages.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from . import excel, stats
from .caching import cached_page
from .choosing import chosen_report
from .models import Report
from .reading import read_report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(report: Report, extension: str, disposition: str = "attachment") -> str:
    """``attachment; filename="iruma-pledges-2022-03.xlsx"; filename*=UTF-8''…`` with the
    Japanese name percent-encoded (RFC 6266), the ASCII one for clients that ignore it."""
    ascii_name, name = excel.download_name(report, extension)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download(
    report: Report, body: bytes, content_type: str, extension: str, disposition: str = "attachment"
) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition(report, extension, disposition)
    return response


@require_safe
@cached_page(parameters=())
def export_xlsx(request: HttpRequest, month: str | None = None) -> HttpResponse:
    """The published report for ``month`` (or the newest) as .xlsx; 404 for a draft."""
    report, _reports = chosen_report(request, {"month": month})
    return _download(report, excel.export_xlsx(report), XLSX_TYPE, "xlsx")


@require_safe
@cached_page
def export_csv(request: HttpRequest, month: str) -> HttpResponse:
    """One line per sub-item of the report, the same columns as /items.csv."""
    report, _reports = chosen_report(request, {"month": month})
    body = excel.render_csv(read_report(report))
    return _download(report, body, "text/csv; charset=utf-8", "csv")


@require_safe
@cached_page
def export_json(request: HttpRequest, month: str) -> HttpResponse:
    """The whole report as JSON, shown in the browser (inline) but saved under its name."""
    report, _reports = chosen_report(request, {"month": month})
    data = excel.render_json(read_report(report), stats.report_summary(report))
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return _download(report, body, "application/json; charset=utf-8", "json", "inline")
