"""Template helpers of the public pages."""

from __future__ import annotations

from django import template
from django.urls import reverse

from .. import views
from ..stats import Breakdown

register = template.Library()


@register.simple_tag(takes_context=True)
def report_url(context: template.Context, name: str, *args: object, fragment: str = "") -> str:
    """``{% report_url "pledges:chapter" 1 %}``: the URL kept on the report the page shows.

    Without a ``report`` in the context (404/500 pages) it is the plain URL, i.e. the newest.
    """
    report = context.get("report")
    if report is not None:
        return views.report_url(name, report, *args, fragment=fragment)
    url = reverse(name, args=args)
    return f"{url}#{fragment}" if fragment else url


@register.filter
def bar_segments(breakdown: Breakdown) -> list[dict]:
    """A Breakdown's ratings as stacked-bar segments: code, label, count, percent, x (start %).

    Zero-count ratings are left out so no empty sliver is drawn.
    """
    segments = []
    start = 0.0
    for figure in breakdown.ratings:
        width = float(figure.percent)
        if figure.count:
            segments.append(
                {
                    "code": figure.code,
                    "label": figure.label,
                    "css_class": figure.level.css_class,
                    "count": figure.count,
                    "x": f"{start:.2f}",
                    "width": f"{width:.2f}",
                }
            )
        start += width
    return segments
