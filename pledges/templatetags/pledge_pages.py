"""Template helpers of the public pages."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .. import views
from ..changes import ItemChange
from ..stats import Breakdown
from ..tables import Badges

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


@register.simple_tag
def change_items(changes: Iterable[ItemChange]) -> SafeString:
    """``{% change_items changes %}``: each ItemChange as a list item linking to its pledge.

    Built with ``format_html`` rather than an include per change: a comparison with a report
    of thousands of sub-items lists thousands of them.
    """
    badge = Badges()
    paths: dict[int, str] = {}
    return format_html_join(
        "", "{}", ((_change_item(change, badge, paths),) for change in changes)
    )


def _change_item(change: ItemChange, badge: Badges, paths: dict[int, str]) -> SafeString:
    before, after, current = change.before, change.after, change.current
    if before and after:
        ratings = badge(before.level)
        if before.rating != after.rating:
            ratings = format_html('{} <span class="arrow">→</span> {}', ratings,
                                  badge(after.level))
        if change.kind == "back":
            ratings = format_html('{} <strong class="flag-back">{}</strong>', ratings, _("後退"))
    elif after:
        ratings = format_html('<span class="flag-added">{}</span> {}', _("追加"),
                              badge(after.level))
    else:
        assert before is not None
        ratings = format_html('<span class="flag-removed">{}</span> {}', _("削除"),
                              badge(before.level))
    title_changed = (
        format_html('<p class="title-changed">{}</p>',
                    _("項目名が変わりました(前回:「%(title)s」)") % {"title": before.title})
        if change.title_changed and before else ""
    )
    new_notes = (
        format_html('<ul class="new-notes">{}</ul>', format_html_join(
            "", '<li><span class="flag-new">{}</span> {}</li>',
            ((_("新"), note) for note in change.new_notes),
        ))
        if change.new_notes and before else ""
    )
    # ``current.url`` with one reverse() per pledge instead of one per change.
    if current.pledge not in paths:
        paths[current.pledge] = reverse("pledges:pledge", args=[current.pledge])
    url = f"{paths[current.pledge]}?report={current.month}#{current.anchor}"
    return format_html(
        '<li class="change change-{}"><a href="{}"><span class="item-code">{}</span> {}</a>'
        ' <span class="change-ratings">{}</span>{}{}</li>\n',
        change.kind, url, current.code, current.title, ratings, title_changed,
        new_notes,
    )
