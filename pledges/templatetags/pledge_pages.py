"""Template helpers of the public pages."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString

from .. import fragments, views
from ..fragments import format_html_join
from ..reading import page_path
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
    url = page_path(name, *args)
    return f"{url}#{fragment}" if fragment else url


@register.simple_tag
def path(name: str, *args: object, **kwargs: object) -> str:
    """``{% path "pledges:feed" %}``: ``{% url %}`` reversed once per process
    (``reading.page_path``)."""
    return page_path(name, *args, **kwargs)


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
# {% trend_chart trend %},
# {% change_groups comparison %},
# {% rating_figures figure_changes report %}, {% chapter_cards summary.chapters report %},
# {% rating_change_table comparison %}, {% chapter_pledges pledges report %},
# {% item_filters filter.form sort_choices sort report %}.
for fragment in (
    fragments.item_filters,
    fragments.chapter_pledges, fragments.rating_change_table, fragments.rating_figures,
    fragments.chapter_cards,
    fragments.pledge_heading, fragments.as_of, fragments.manifesto_line,
    fragments.progress_bar, fragments.legend, fragments.trend_chart, fragments.change_groups,
):
    register.simple_tag(fragment)


@register.simple_tag(takes_context=True)
def sub_items(
    context: template.Context, shown: Iterable[ShownItem], heading: int
) -> SafeString:
    """``{% sub_items items 3 %}``: each ShownItem's article, headed ``h3`` (``fragments``)."""
    report = context["report"]
    return format_html_join(
        "", "{}", ((fragments.sub_item(entry, heading, report),) for entry in shown)
    )
