"""Template helpers of the public pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from .. import fragments, views
from ..changes import ItemChange
from ..fragments import Badges, format_html_join
from ..ratings import Level
from ..views import ShownItem

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


@register.simple_tag(takes_context=True)
def site_header(context: template.Context) -> SafeString:
    """``{% site_header %}``: name, navigation, languages and month selector (``fragments``),
    from the page's ``report``, ``reports``, ``selector_action`` and ``selector_keep``."""
    return fragments.site_header(
        context.get("request"), context.get("report"), context.get("reports") or (),
        selector_action=context.get("selector_action") or "",
        selector_keep=context.get("selector_keep") or (),
    )


@register.simple_tag(takes_context=True)
def site_footer(context: template.Context) -> SafeString:
    """``{% site_footer %}``: the downloads of the page's ``report`` (and its
    ``filtered_csv_url``), the source, the report on show."""
    return fragments.site_footer(
        context.get("report"), context.get("filtered_csv_url") or ""
    )


# Fragments a template writes as they are: {% pledge_heading pledge %}, {% as_of report %},
# {% manifesto_line report %}, {% progress_bar breakdown "large" %}, {% legend breakdown %},
# {% trend_chart trend %}.
for fragment in (
    fragments.pledge_heading, fragments.as_of, fragments.manifesto_line,
    fragments.progress_bar, fragments.legend, fragments.trend_chart,
):
    register.simple_tag(fragment)


def _badges(context: template.Context) -> Badges:
    # One per rendering of a page (the render context's bottom layer lives as long as the
    # page's rendering): each level's badge is rendered once however often the page shows it.
    layer = cast("dict[str, Any]", context.render_context.dicts[0])
    if "pledges.badges" not in layer:
        layer["pledges.badges"] = Badges()
    return layer["pledges.badges"]


@register.simple_tag(takes_context=True)
def badge(context: template.Context, level: Level | None, size: str = "") -> SafeString:
    """``{% badge level "small" %}``: the rating badge of ``level`` (None for unrated)."""
    return _badges(context)(level, size)


@register.simple_tag(takes_context=True)
def sub_items(
    context: template.Context, shown: Iterable[ShownItem], heading: int
) -> SafeString:
    """``{% sub_items items 3 %}``: each ShownItem's article, headed ``h3`` (``fragments``)."""
    badges, report = _badges(context), context["report"]
    return format_html_join(
        "", "{}", ((fragments.sub_item(entry, heading, report, badges),) for entry in shown)
    )


@register.simple_tag(takes_context=True)
def change_group(
    context: template.Context, group: str, changes: Sequence[ItemChange], heading: str,
    empty: str = "",
) -> SafeString:
    """``{% change_group "back" comparison.back heading empty %}``: one group of changes,
    headed ``heading``, or ``empty`` when it has none."""
    return fragments.change_group(
        group, changes, heading, empty, fragments.ChangeItems(_badges(context))
    )
