"""HTML of the parts a page repeats per sub-item or per change, built with ``format_html``.

A template include costs a tenth of a millisecond or more each time it runs; a chapter of a
large report shows hundreds of sub-items and a comparison thousands of changes. These parts
are Python functions instead — each the one place of its markup, every value escaped by
``format_html`` — so a page's rendering costs little beside the data it shows. The parts
that are the same on many pages (a rating's badge) are built once per process.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from .reading import item_url_in, numbered_paths, page_path

if TYPE_CHECKING:
    from django.forms import Form
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise

    from . import reading
    from .changes import Comparison, ItemChange, RatingDelta, SubItemTimeline, TimelineEntry, Trend
    from .models import Report
    from .ratings import Level
    from .reading import Item
    from .stats import Breakdown, ChapterBreakdown, RatingFigure
    from .views import FootnoteDisplay, ShownItem


def _escaped(value: object) -> str:
    if type(value) is str:  # the most common value: plain text, mostly with nothing to escape
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return html.escape(value)
        return value
    if type(value) is int or type(value) is float:  # a number's text has nothing to escape
        return str(value)
    if type(value) is SafeString:  # HTML already, most often a fragment of this module
        return value
    if hasattr(value, "__html__"):  # SafeString and the like: HTML already
        return value.__html__()
    return html.escape(str(value))


def format_html(template: str, /, *args: object, **kwargs: object) -> SafeString:
    """Django's ``format_html`` with the same escaping (``html.escape`` of every value that is
    not HTML already), minus its check of each value for a lazy string — which costs more than
    the escaping itself when a page formats tens of thousands of values (a lazy string is
    turned into text like any other value)."""
    return SafeString(template.format(
        *map(_escaped, args), **{name: _escaped(value) for name, value in kwargs.items()}
    ))


def format_html_join(
    separator: str, template: str, values: Iterable[tuple[object, ...]]
) -> SafeString:
    """Django's ``format_html_join`` with this module's escaping: ``template`` formatted with
    each tuple of ``values``, joined by ``separator``."""
    return SafeString(separator.join(template.format(*map(_escaped, args)) for args in values))


def badge(level: Level | None, size: str = "") -> SafeString:
    """A rating as its code and label (never colour alone), coloured by the level's tone;
    ``level`` None for no rating, ``size`` "small" or "large" for the variants."""
    return _badge(level, size, get_language())


@lru_cache(maxsize=512)
def _badge(level: Level | None, size: str, language: str | None) -> SafeString:
    # A page shows a few levels many times: each badge is built once per level, size and
    # language (the only translated word is 未評価's) in this process.
    if level is None:
        return format_html('<span class="badge badge--none">{}</span>', _("未評価"))
    return format_html(
        '<span class="badge {}{}"><span class="badge__code">{}</span>'
        ' <span class="badge__label">{}</span></span>',
        level.css_class, f" badge--{size}" if size else "", level.code, level.label,
    )


# --------------------------------------------------------------------------------------------
# A sub-item as the chapter and pledge pages show it


def sub_item(shown: ShownItem, heading: int, report: Report) -> SafeString:
    """One sub-item's article: title (an ``h{heading}``), badge, how it moved since the
    previous report, content, notes (新 before those added since then), footnotes, the day it
    last changed and, with more than one report, its timeline."""
    item = shown.item
    return format_html(
        '<article class="item" id="{anchor}" aria-labelledby="{anchor}-title">\n'
        '  <div class="item__head">\n'
        '    <h{heading} class="item__title" id="{anchor}-title"><span class="item__code">'
        "{code}</span> {title}</h{heading}>\n"
        "    {badge}{movement}\n"
        "  </div>\n"
        '  <p class="item__label">{content_label}</p>\n'
        '  <p class="item__content">{content}</p>\n'
        '  <div class="item__notes">\n'
        '    <p class="item__notes-label">{notes_label}</p>\n'
        "    {notes}\n"
        "  </div>\n"
        "{footnotes}"
        '  <p class="item__updated">{updated_label} {updated}</p>\n'
        "{timeline}"
        "</article>\n",
        anchor=item.anchor,
        heading=heading,
        code=item.code,
        title=item.title,
        badge=badge(item.level),
        movement=_movement_flag(shown.movement),
        content_label=_("公約の内容"),
        content=item.content,
        notes_label=_("取組状況"),
        notes=_notes(item, shown.new_notes),
        footnotes=format_html_join(
            "", "{}", ((footnote(display, carried),) for display, carried in shown.footnotes)
        ),
        updated_label=_("最終更新"),
        updated=_updated(item),
        timeline=timeline(shown.timeline, report) if shown.timeline else "",
    )


def _movement_flag(movement: str) -> SafeString:
    if movement == "back":
        return format_html(' <strong class="flag-back">{}</strong>', _("後退"))
    if movement == "forward":
        return format_html(' <span class="flag-forward">{}</span>', _("前進"))
    if movement == "completed":
        return format_html(' <span class="flag-completed">{}</span>', _("完了になりました"))
    return SafeString("")


def _new_flag(note: str, new_notes: frozenset[str]) -> SafeString:
    """「新」 before a note added since the previous report."""
    if note in new_notes:
        return format_html('<span class="flag-new">{}</span> ', _("新"))
    return SafeString("")


def _notes(item: Item, new_notes: frozenset[str]) -> SafeString:
    # A list when the city bulleted them (or there are several), else one paragraph.
    if len(item.notes) > 1 or (item.notes and item.notes_bulleted):
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}{}</li>", ((_new_flag(note, new_notes), note) for note in item.notes)
        ))
    if item.notes:
        note = item.notes[0]
        return format_html("<p>{}{}</p>", _new_flag(note, new_notes), note)
    return format_html('<p class="item__empty">{}</p>', _("記載はありません。"))


def _updated(item: Item) -> SafeString:
    # The day staff last changed it; data as the city published it dates from its report's
    # month, not from the day it was imported.
    if item.updated:
        when = timezone.localtime(item.updated)
        return format_html(
            '<time datetime="{}">{}</time>', when.isoformat(), formats.date_format(when)
        )
    return format_html('<time datetime="{}">{}</time>', item.month, item.month_label)


def footnote(display: FootnoteDisplay, carried: bool) -> SafeString:
    """A ※N footnote beside a sub-item: ``carried`` for the one marked on its rating, else one
    whose text names it; references to sub-items are links."""
    label = format_html(
        "{} {}", _("注記") if carried else _("関連する注記"), display.marker
    )
    pieces = format_html_join(
        "", "{}", (
            (format_html('<a href="{}">{}</a>', url, text) if url else text,)
            for text, url in display.pieces
        )
    )
    return format_html(
        '  <aside class="footnote" aria-label="{label}">\n'
        '    <p><span class="footnote__marker">{label}</span>\n    {pieces}</p>\n'
        "  </aside>\n",
        label=label,
        pieces=pieces,
    )


def timeline(line: SubItemTimeline, report: Report) -> SafeString:
    """One sub-item's reports, newest first; ``report`` is the one on show."""
    return format_html(
        '  <section class="timeline" aria-labelledby="timeline-{anchor}">\n'
        '    <h3 id="timeline-{anchor}">{heading}</h3>\n'
        '    <ol class="timeline-entries">\n{entries}    </ol>\n'
        "  </section>\n",
        anchor=line.anchor,
        heading=_("%(code)sの経過") % {"code": line.code},
        entries=format_html_join(
            "", "{}", ((_timeline_entry(entry, report),) for entry in line.entries)
        ),
    )


def _timeline_entry(entry: TimelineEntry, report: Report) -> SafeString:
    current = entry.report.pk == report.pk
    flags = []
    if entry.movement == "completed":
        flags.append(format_html('<span class="flag-completed">{}</span>', _("完了になりました")))
    elif entry.movement == "forward":
        flags.append(format_html(
            '<span class="flag-forward">{}</span>',
            _("前進(前回 %(rating)s)") % {"rating": _label(entry.previous_level)},
        ))
    elif entry.movement == "back":
        flags.append(format_html(
            '<strong class="flag-back">{}</strong>',
            _("後退(前回 %(rating)s)") % {"rating": _label(entry.previous_level)},
        ))
    if entry.added:
        flags.append(format_html('<span class="flag-added">{}</span>', _("この報告で追加")))
    if current:
        flags.append(format_html('<span class="timeline-here">{}</span>', _("表示中の報告")))
    parts = []
    if entry.previous_title is not None:
        parts.append(format_html(
            '<p class="title-changed">{}</p>',
            _("項目名が「%(previous)s」から「%(title)s」に変わりました")
            % {"previous": entry.previous_title, "title": entry.state.title},
        ))
    # Each note's text is printed once on the page: the item's own notes above, here only
    # what a report added that is not up there; the rest is counted.
    if entry.listed_notes:
        parts.append(format_html('<ul class="timeline-notes">{}</ul>', format_html_join(
            "", "{}", (
                (format_html(
                    '<li class="note-new"><span class="flag-new">{}</span> {}</li>',
                    _("新"), note.text,
                ) if note.is_new else format_html("<li>{}</li>", note.text),)
                for note in entry.listed_notes
            ),
        )))
    if entry.above:
        count = entry.above
        text = (
            ngettext("記述%(counter)s件(上の取組状況に掲載)",
                     "記述%(counter)s件(上の取組状況に掲載)", count)
            if entry.first else
            ngettext("新しい記述%(counter)s件(上の取組状況に掲載)",
                     "新しい記述%(counter)s件(上の取組状況に掲載)", count)
        )
        parts.append(format_html(
            '<p class="timeline-summary">{}</p>', text % {"counter": count}
        ))
    if entry.unchanged_count:
        count = entry.unchanged_count
        text = (
            ngettext("ほか%(counter)s件は前回から変更なし",
                     "ほか%(counter)s件は前回から変更なし", count) % {"counter": count}
            if entry.listed_notes or entry.above else _("前回から変更なし")
        )
        parts.append(format_html(
            '<p class="timeline-summary timeline-unchanged">{}</p>', text
        ))
    elif not entry.notes and not entry.above:
        parts.append(format_html(
            '<p class="timeline-no-notes">{}</p>', _("取組状況の記載はありません。")
        ))
    return format_html(
        '      <li class="timeline-entry timeline-{movement}{current}">\n'
        '        <p class="timeline-head"><span class="timeline-month">{month}</span> '
        "{badge}{flags}</p>\n"
        "        {parts}\n"
        "      </li>\n",
        movement=entry.movement,
        current=" timeline-current" if current else "",
        month=entry.report.month_label,
        badge=badge(entry.state.level),
        flags=format_html_join("", " {}", ((flag,) for flag in flags)),
        parts=format_html_join("\n        ", "{}", ((part,) for part in parts)),
    )


def _label(level: Level | None) -> str:
    return level.label if level else ""


# --------------------------------------------------------------------------------------------
# A change between two reports, as /changes/ lists it


# The groups of a comparison in the order the changes page lists them, each with its heading
# and what it says when empty ("": an empty group is left out). The names are Comparison's.
CHANGE_GROUPS = (
    ("completed", gettext_lazy("完了になった"), gettext_lazy("完了になった項目はありません。")),
    ("forward", gettext_lazy("前進した"), gettext_lazy("前進した項目はありません。")),
    ("back", gettext_lazy("後退した"), gettext_lazy("後退した項目はありません。")),
    ("new_notes", gettext_lazy("評価は同じで取組が増えた"),
     gettext_lazy("評価が同じまま取組状況が増えた項目はありません。")),
    ("retitled", gettext_lazy("項目名が変わった"), ""),
    ("added", gettext_lazy("追加された項目"), ""),
    ("removed", gettext_lazy("なくなった項目"), ""),
)


def change_groups(comparison: Comparison) -> SafeString:
    """The comparison's groups of changes (``CHANGE_GROUPS``), each a section, after a table
    of contents that links each with its count."""
    shown = [
        (group, heading, empty, getattr(comparison, group))
        for group, heading, empty in CHANGE_GROUPS
        if empty or getattr(comparison, group)
    ]
    contents = format_html_join("", '    <li><a href="#changes-{}">{} ({})</a></li>\n', (
        (group, heading, len(changes)) for group, heading, _empty, changes in shown
    ))
    items = ChangeItems()
    return format_html(
        '<nav class="changes-toc" aria-label="{}">\n  <ul>\n{}  </ul>\n</nav>\n\n{}',
        _("変化の一覧"), contents, SafeString("".join(
            change_group(group, changes, heading, empty, items)
            for group, heading, empty, changes in shown
        )),
    )


def change_group(
    group: str, changes: Sequence[ItemChange], heading: StrOrPromise, empty: StrOrPromise,
    items: ChangeItems,
) -> SafeString:
    """One group of a comparison (``group`` its id: completed, back…) under ``heading``: its
    ``changes`` as a list, or ``empty`` ("": the group is left empty) when there are none;
    ``items`` writes each change (made once for all the groups of a page)."""
    count = len(changes)
    if changes:
        body = format_html(
            '  <ul class="change-list">\n    {}\n  </ul>\n',
            SafeString("".join(map(items, changes))),
        )
    elif empty:
        body = format_html("  <p>{}</p>\n", empty)
    else:
        body = SafeString("")
    return format_html(
        '<section id="changes-{group}" class="change-group change-group-{group}"'
        ' aria-labelledby="changes-{group}-heading">\n'
        '  <h2 id="changes-{group}-heading">{flag}{heading} <span class="change-count">'
        "({count})</span></h2>\n"
        "{body}"
        "</section>\n",
        group=group,
        flag=format_html('<span class="flag-back">{}</span> ', _("注意")) if group == "back"
        else "",
        heading=heading,
        count=ngettext("%(counter)s件", "%(counter)s件", count) % {"counter": count},
        body=body,
    )


def rating_change_table(comparison: Comparison) -> SafeString:
    """The count per rating in the two reports of ``comparison`` and the difference."""
    def difference_class(difference: int) -> str:
        return " difference-up" if difference > 0 else " difference-down" if difference < 0 else ""

    return format_html(
        '<table class="rating-changes">\n'
        "  <thead>\n    <tr>\n"
        '      <th scope="col">{rating}</th>\n'
        '      <th scope="col">{before}</th>\n'
        '      <th scope="col">{after}</th>\n'
        '      <th scope="col">{difference}</th>\n'
        "    </tr>\n  </thead>\n"
        "  <tbody>\n{rows}  </tbody>\n"
        "  <tfoot>\n    <tr>\n"
        '      <th scope="row">{total_label}</th>\n'
        "      <td>{total_before}</td>\n      <td>{total_after}</td>\n"
        '      <td class="difference">{total_difference}</td>\n'
        "    </tr>\n  </tfoot>\n"
        "</table>",
        rating=_("評価"),
        before=comparison.before.report.month_label,
        after=comparison.after.report.month_label,
        difference=_("増減"),
        rows=format_html_join("", (
            '    <tr>\n      <th scope="row">{}</th>\n      <td>{}</td>\n      <td>{}</td>\n'
            '      <td class="difference{}">{}</td>\n    </tr>\n'
        ), (
            (badge(delta.level), delta.before, delta.after,
             difference_class(delta.difference), delta.signed_difference)
            for delta in comparison.ratings
        )),
        total_label=_("項目数"),
        total_before=comparison.before.breakdown.total,
        total_after=comparison.after.breakdown.total,
        total_difference=comparison.signed_total_difference,
    )


class ChangeItems:
    """List items of changes, each linking to the sub-item on its pledge page: the words
    translated and the path's pattern found once per list, not once per change."""

    def __init__(self) -> None:
        self._pledge_paths = numbered_paths("pledges:pledge")
        self._back = format_html('<strong class="flag-back">{}</strong>', _("後退"))
        self._added = format_html('<span class="flag-added">{}</span>', _("追加"))
        self._removed = format_html('<span class="flag-removed">{}</span>', _("削除"))
        self._new = format_html('<span class="flag-new">{}</span>', _("新"))
        self._title_changed = _("項目名が変わりました(前回:「%(title)s」)")

    def __call__(self, change: ItemChange) -> SafeString:
        before, after, current = change.before, change.after, change.current
        if before and after:
            ratings = badge(before.level)
            if before.rating != after.rating:
                ratings = format_html('{} <span class="arrow">→</span> {}', ratings,
                                      badge(after.level))
            if change.kind == "back":
                ratings = format_html("{} {}", ratings, self._back)
        elif after:
            ratings = format_html("{} {}", self._added, badge(after.level))
        else:
            assert before is not None
            ratings = format_html("{} {}", self._removed, badge(before.level))
        title_changed = (
            format_html('<p class="title-changed">{}</p>',
                        self._title_changed % {"title": before.title})
            if change.title_changed and before else ""
        )
        new_notes = (
            format_html('<ul class="new-notes">{}</ul>', format_html_join(
                "", "<li>{} {}</li>", ((self._new, note) for note in change.new_notes),
            ))
            if change.new_notes and before else ""
        )
        url = item_url_in(self._pledge_paths, current.month, current.pledge, current.position)
        return format_html(
            '<li class="change change-{}"><a href="{}"><span class="item-code">{}</span> {}</a>'
            ' <span class="change-ratings">{}</span>{}{}</li>\n',
            change.kind, url, current.code, current.title, ratings, title_changed,
            new_notes,
        )


# --------------------------------------------------------------------------------------------
# Figures drawn as SVG: the stacked bar of a breakdown, its legend, the trend chart


def progress_bar(breakdown: Breakdown, size: str = "") -> SafeString:
    """A stacked bar of ``breakdown``; the figures are given as text beside it, so the SVG is
    decoration. Ratings with no sub-item draw no empty sliver."""
    segments, start = [], 0.0
    for figure in breakdown.ratings:
        width = float(figure.percent)
        if figure.count:
            segments.append(format_html(
                '<rect class="bar__seg {}" x="{}%" y="0" width="{}%" height="100%"/>',
                figure.level.css_class, f"{start:.2f}", f"{width:.2f}",
            ))
        start += width
    return format_html(
        '<svg class="bar{}" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"'
        ' focusable="false">\n'
        '  <rect class="bar__track" x="0" y="0" width="100%" height="100%"/>\n  {}\n</svg>',
        f" bar--{size}" if size else "", SafeString("".join(segments)),
    )


def legend(breakdown: Breakdown) -> SafeString:
    """The count of each rating of ``breakdown``, with its colour swatch."""
    return format_html(
        '<ul class="legend" aria-label="{}">\n{}</ul>',
        _("評価ごとの項目数"),
        format_html_join("", (
            '  <li class="legend__item"><span class="legend__swatch {}" aria-hidden="true">'
            "</span>{} {} <strong>{}</strong></li>\n"
        ), (
            (figure.level.css_class, figure.code, figure.label, figure.count)
            for figure in breakdown.ratings
        )),
    )


def trend_chart(trend: Trend) -> SafeString:
    """The counts of each level across ``trend``'s reports: an SVG line chart drawn from
    ``changes.trend_chart``'s geometry, and the same numbers as a table beside it."""
    chart = trend.chart
    y_ticks = SafeString("".join(
        format_html(
            '        <line class="trend-gridline" x1="{left}" x2="{right}" y1="{y}" y2="{y}"'
            ' stroke="#d0d4da" stroke-width="1"/>\n'
            '        <text class="trend-axis-label" x="{label_x}" y="{y}" dy="0.35em"'
            ' text-anchor="end" font-size="12" fill="#333">{label}</text>\n',
            left=chart.left, right=chart.right, y=tick.position, label_x=chart.left - 6,
            label=tick.label,
        )
        for tick in chart.y_ticks
    ))
    x_ticks = format_html_join("", (
        '        <text class="trend-axis-label" x="{}" y="{}" text-anchor="middle"'
        ' font-size="12" fill="#333">{}</text>\n'
    ), ((tick.position, chart.bottom + 20, tick.label) for tick in chart.x_ticks))
    series = SafeString("".join(
        format_html(
            '      <g class="trend-series {}">\n'
            '        <polyline class="trend-line" points="{}" fill="none" stroke-width="2.5"{}/>\n'
            "{}      </g>\n",
            line.css_class, line.points, _dash(line.dash),
            format_html_join("", (
                '        <path class="trend-marker" d="{}" stroke="#fff" stroke-width="1">'
                "<title>{} {} {}: {}</title></path>\n"
            ), (
                (marker.d, marker.month_label, line.code, line.label, marker.count)
                for marker in line.markers
            )),
        )
        for line in chart.lines
    ))
    keys = format_html_join("", (
        '        <li><svg class="trend-legend-key {}" viewBox="0 0 48 20" width="48" height="20"'
        ' aria-hidden="true"><line x1="2" x2="46" y1="10" y2="10" stroke-width="2.5"{}/>'
        '<path d="{}" stroke="#fff" stroke-width="1"/></svg>{} {}</li>\n'
    ), (
        (line.css_class, _dash(line.dash), line.legend_marker, line.code, line.label)
        for line in chart.lines
    ))
    heads = format_html_join("", '<th scope="col">{} {}</th>', (
        (line.code, line.label) for line in chart.lines
    ))
    rows = SafeString("".join(
        format_html(
            '      <tr>\n        <th scope="row">{}</th>\n        {}\n        <td>{}</td>\n'
            "      </tr>\n",
            point.report.month_label,
            format_html_join("", '<td>{}<span class="trend-percent">({}%)</span></td>', (
                (figure.count, figure.percent) for figure in point.breakdown.ratings
            )),
            point.breakdown.total,
        )
        for point in trend.points
    ))
    count = len(trend.points)
    description = ngettext(
        "%(counter)s回分の進捗報告について、%(levels)sの件数を折れ線で示します。"
        "同じ数字を隣の表に載せています。",
        "%(counter)s回分の進捗報告について、%(levels)sの件数を折れ線で示します。"
        "同じ数字を隣の表に載せています。",
        count,
    ) % {"counter": count, "levels": chart.legend}
    # Wider than a phone: the table scrolls in its own region, named by its caption and
    # reachable by keyboard, instead of the page.
    return format_html(
        '<div class="trend">\n'
        '  <figure class="trend-figure">\n'
        '    <svg class="trend-chart" viewBox="0 0 {width} {height}" width="100%" role="img"'
        ' aria-labelledby="trend-chart-title trend-chart-desc"'
        ' xmlns="http://www.w3.org/2000/svg">\n'
        '      <title id="trend-chart-title">{title}</title>\n'
        '      <desc id="trend-chart-desc">{description}</desc>\n'
        '      <g class="trend-grid" aria-hidden="true">\n{y_ticks}{x_ticks}      </g>\n'
        "{series}"
        "    </svg>\n"
        '    <figcaption>\n      <ul class="trend-legend">\n{keys}      </ul>\n'
        "    </figcaption>\n"
        "  </figure>\n"
        '  <div class="scroll-region" role="region" aria-labelledby="trend-table-caption"'
        ' tabindex="0">\n'
        '  <table class="trend-table">\n'
        '    <caption id="trend-table-caption">{caption}</caption>\n'
        "    <thead>\n      <tr>\n"
        '        <th scope="col">{when}</th>{heads}<th scope="col">{total}</th>\n'
        "      </tr>\n    </thead>\n"
        "    <tbody>\n{rows}    </tbody>\n"
        "  </table>\n"
        "  </div>\n"
        "</div>\n",
        width=chart.width, height=chart.height, title=_("評価ごとの件数の推移"),
        description=description, y_ticks=y_ticks, x_ticks=x_ticks, series=series, keys=keys,
        caption=_("評価ごとの件数(各報告時点)"), when=_("時点"), heads=heads, total=_("計"),
        rows=rows,
    )


def _dash(dash: str) -> SafeString:
    return format_html(' stroke-dasharray="{}"', dash) if dash else SafeString("")


# --------------------------------------------------------------------------------------------
# Headings of the report and pledge pages


def pledge_heading(pledge: reading.Pledge) -> SafeString:
    """A pledge's number, field and title as the city writes them (1:【デジタル】…)."""
    return format_html(
        '<span class="pledge-no">{}</span> <span class="pledge-field">【{}】</span>{}',
        pledge.number, pledge.field, pledge.title,
    )


def item_filters(
    form: Form, sort_choices: Iterable[tuple[str, str]], sort: str, report: Report
) -> SafeString:
    """The /items/ form: a control per filter of ``form`` (a choice as a select, anything else
    as a text input, each with its label, help and errors), the order of the rows, and a link
    that clears it all; every value kept on ``report``.

    Written here rather than by each widget's templates (a template per option of a select):
    django-filter still builds, validates and applies the form."""
    fields = []
    for field in form:
        current = field.value()
        # The help and the errors are read with the control; an error marks it invalid.
        described = [f"{field.auto_id}_helptext"] if field.help_text else []
        errors = [(f"{field.auto_id}_error{index or ''}", error)
                  for index, error in enumerate(field.errors)]
        described += [error_id for error_id, _error in errors]
        state = format_html(
            '{}{}', SafeString(' aria-invalid="true"') if errors else "",
            format_html(' aria-describedby="{}"', " ".join(described)) if described else "",
        )
        choices = getattr(field.field, "choices", None)
        if choices is not None:
            control = format_html(
                '<select name="{}" id="{}"{}>{}</select>', field.html_name, field.auto_id, state,
                _options(choices, "" if current is None else str(current)),
            )
        else:
            max_length = getattr(field.field, "max_length", None)
            control = format_html(
                '<input type="{}" name="{}" value="{}"{}{} id="{}">',
                getattr(field.field.widget, "input_type", "text"), field.html_name,
                "" if current is None else current,
                format_html(' maxlength="{}"', max_length) if max_length else "",
                state, field.auto_id,
            )
        fields.append(format_html(
            '  <div class="filters__field{}">\n'
            '    <label for="{}">{}</label>\n'
            "    {}\n{}{}"
            "  </div>\n",
            " filters__field--error" if errors else "",
            field.id_for_label, field.label, control,
            format_html('    <p class="filters__help" id="{}_helptext">{}</p>\n',
                        field.auto_id, field.help_text) if field.help_text else "",
            format_html_join(
                "", '    <p class="filters__error" id="{}" role="alert">{}</p>\n', errors
            ),
        ))
    items = page_path("pledges:items")
    return format_html(
        '<form class="filters" method="get" action="{items}" role="search"'
        ' aria-label="{label}">\n'
        '  <input type="hidden" name="report" value="{month}">\n'
        "{fields}"
        '  <div class="filters__field">\n'
        '    <label for="id_sort">{sort_label}</label>\n'
        '    <select name="sort" id="id_sort">{sorts}</select>\n'
        "  </div>\n"
        '  <div class="filters__actions">\n'
        '    <button type="submit">{submit}</button>\n'
        '    <a href="{items}?report={month}">{clear}</a>\n'
        "  </div>\n"
        "</form>",
        items=items, label=_("項目の絞り込み"), month=report.month,
        fields=SafeString("".join(fields)), sort_label=_("並べ替え"),
        sorts=_options(sort_choices, sort), submit=_("絞り込む"), clear=_("条件をクリア"),
    )


def _options(choices: Iterable[tuple[object, object]], current: str) -> SafeString:
    # The empty choice ("すべての…") is selected when nothing is chosen.
    return format_html_join("", "<option value=\"{}\"{}>{}</option>", (
        (value, " selected" if str(value) == current else "", label)
        for value, label in choices
    ))


def chapter_pledges(
    pledges: Sequence[tuple[reading.Pledge, Sequence[ShownItem]]], report: Report
) -> SafeString:
    """A chapter page's body: the list of its pledges with their sub-items' badges, then each
    pledge's section with its sub-items (``sub_item``) and a link to the pledge's page."""
    pledge_path = numbered_paths("pledges:pledge")
    toc = format_html_join("", (
        '    <li><a href="#pledge-{}">{}</a>\n'
        '      <span class="toc__ratings">{}</span></li>\n'
    ), (
        (pledge.number, pledge_heading(pledge),
         SafeString("".join(badge(shown.item.level, "small") for shown in items)))
        for pledge, items in pledges
    ))
    sections = SafeString("".join(
        format_html(
            '<section class="pledge" id="pledge-{number}"'
            ' aria-labelledby="pledge-{number}-title">\n'
            '  <h2 id="pledge-{number}-title">{heading}</h2>\n'
            "  {items}\n"
            '  <p class="pledge__link"><a href="{path}?report={month}">{link}</a></p>\n'
            "</section>\n",
            number=pledge.number, heading=pledge_heading(pledge),
            items=SafeString("".join(sub_item(shown, 3, report) for shown in items)),
            path=pledge_path(pledge.number), month=report.month,
            link=_("公約%(n)sのページへ") % {"n": pledge.number},
        )
        for pledge, items in pledges
    ))
    return format_html(
        '<nav class="toc" aria-labelledby="toc-title">\n'
        '  <h2 id="toc-title">{}</h2>\n'
        "  <ul>\n{}  </ul>\n"
        "</nav>\n{}",
        _("この章の公約"), toc, sections,
    )


def rating_figures(
    figure_changes: Sequence[tuple[RatingFigure, RatingDelta | None]], report: Report
) -> SafeString:
    """The overview's figure per rating: badge, count, percent, the change since the previous
    report (``RatingDelta``, None for a first report) and a link to the rating's sub-items."""
    items_path = page_path("pledges:items")
    entries = []
    for figure, delta in figure_changes:
        change = format_html(
            ' <span class="rating-delta">{}</span>',
            _("前回 %(before)s → %(after)s, %(difference)s") % {
                "before": delta.before, "after": delta.after,
                "difference": delta.signed_difference,
            },
        ) if delta else ""
        # The message holds markup of its own: only the label is text.
        more = format_html(
            '<a class="figure__more" href="{}?report={}&amp;rating={}">{}</a>',
            items_path, report.month, figure.code,
            SafeString(_('<span class="visually-hidden">%(label)sの</span>項目を見る')
                       % {"label": _escaped(figure.label)}),
        ) if figure.count else ""
        entries.append(format_html(
            '    <li class="figure {css}" data-rating="{code}">\n'
            "      {badge}\n"
            '      <span class="figure__count"><span class="figure__number">{count}</span>'
            "{unit}</span>\n"
            '      <span class="figure__percent">{percent}%</span>{change}\n'
            "      {more}\n"
            "    </li>\n",
            css=figure.level.css_class, code=figure.code, badge=badge(figure.level),
            count=figure.count, unit=_("項目"), percent=figure.percent, change=change,
            more=more,
        ))
    return format_html('<ul class="figures">\n{}  </ul>', SafeString("".join(entries)))


def chapter_cards(chapters: Iterable[ChapterBreakdown], report: Report) -> SafeString:
    """The overview's list of chapters, each a link with its stacked bar and legend."""
    chapter_path = numbered_paths("pledges:chapter")
    return format_html('<ol class="chapter-list">\n{}  </ol>', format_html_join("", (
        '    <li class="chapter-card">\n'
        '      <a class="chapter-card__link" href="{}?report={}">\n{}\n      </a>\n'
        "      {}\n      {}\n"
        "    </li>\n"
    ), (
        (chapter_path(chapter.number), report.month,
         _("第%(n)s章 %(title)s") % {"n": chapter.number, "title": chapter.title},
         progress_bar(chapter.breakdown), legend(chapter.breakdown))
        for chapter in chapters
    )))


def as_of(report: Report) -> SafeString:
    """Which month ``report`` stands at, then ``manifesto_line``."""
    return format_html(
        '<p class="asof">{}</p>\n{}',
        _("%(label)s現在（%(date)s）")
        % {"label": report.month_label, "date": f"{report.as_of.year}年{report.as_of.month}月"},
        manifesto_line(report),
    )


def manifesto_line(report: Report) -> SafeString:
    """Which manifesto (one term's pledges) ``report`` belongs to, with its mayor and term,
    and the link to all of them."""
    manifesto = report.manifesto
    parts = [_("公約集: %(title)s") % {"title": manifesto.title}]
    if manifesto.mayor:
        parts.append(_("（%(mayor)s市長）") % {"mayor": manifesto.mayor})
    if manifesto.term_label:
        parts.append(_("任期 %(term)s") % {"term": manifesto.term_label})
    return format_html(
        '<p class="manifesto-line">{} <a href="{}">{}</a></p>',
        " ".join(parts), page_path("pledges:manifestos"), _("公約集の一覧"),
    )


# --------------------------------------------------------------------------------------------
# The site's header and footer, on every page


def site_header(
    request: HttpRequest | None,
    report: Report | None,
    reports: Sequence[Report],
    *,
    selector_action: str = "",
    selector_keep: Iterable[tuple[str, str]] = (),
) -> SafeString:
    """The site's name, its navigation (kept on ``report``), the language switch and, with
    ``reports``, the month selector (to ``selector_action``, else this page, keeping the
    ``selector_keep`` query parameters). ``request`` is None on the 500 page."""
    overview = page_path("pledges:overview")
    items = page_path("pledges:items")
    return format_html(
        '  <header class="site-header">\n'
        '    <div class="site-header__inner">\n'
        '      <a class="site-name" href="{overview}">{site}</a>\n'
        '      <nav class="site-nav" aria-label="{nav_label}">\n'
        "        <ul>\n"
        '          <li><a href="{home}">{home_label}</a></li>\n'
        '          <li><a href="{items}">{items_label}</a></li>\n'
        '          <li><a href="{changes}">{changes_label}</a></li>\n'
        '          <li><a href="{manifestos}">{manifestos_label}</a></li>\n'
        '          <li><a href="{follow}">{follow_label}</a></li>\n'
        "        </ul>\n"
        "      </nav>\n"
        "{languages}{selector}"
        "    </div>\n"
        "  </header>\n",
        overview=overview,
        site=_("いるま公約進捗"),
        nav_label=_("サイト内"),
        home=f"{overview}?report={report.month}" if report else overview,
        home_label=_("概要"),
        items=f"{items}?report={report.month}" if report else items,
        items_label=_("全項目の一覧"),
        changes=page_path("pledges:changes_latest"),
        changes_label=_("報告ごとの変化"),
        manifestos=page_path("pledges:manifestos"),
        manifestos_label=_("公約集の一覧"),
        follow=page_path("pledges:follow"),
        follow_label=_("更新を受け取る"),
        languages=_language_switch(request),
        selector=_report_selector(
            request, report, reports, selector_action, selector_keep
        ) if reports else "",
    )


def _language_switch(request: HttpRequest | None) -> SafeString:
    # Plain links (views.language), not set_language's form: a CSRF token would keep the page
    # out of the page cache.
    current = get_language()
    back = quote(request.get_full_path(), safe="/") if request else ""
    links = []
    for code, _name in settings.LANGUAGES:
        name = get_language_info(code)["name_local"]
        if code == current:
            links.append(format_html(
                '<li><span aria-current="true" lang="{}">{}</span></li>', code, name
            ))
        else:
            url = f"{page_path('pledges:language', code)}?next={back}"
            links.append(format_html(
                '<li><a href="{}" hreflang="{}" lang="{}">{}</a></li>', url, code, code, name
            ))
    return format_html(
        '      <ul class="language-switch" aria-label="{}">\n        {}\n      </ul>\n',
        _("言語"), SafeString("\n        ".join(links)),
    )


def _report_selector(
    request: HttpRequest | None,
    report: Report | None,
    reports: Sequence[Report],
    action: str,
    keep: Iterable[tuple[str, str]],
) -> SafeString:
    options = format_html_join("", '<option value="{}"{}>{}（{}年{}月）</option>', (
        (option.month, " selected" if report and option.pk == report.pk else "",
         option.month_label, option.as_of.year, option.as_of.month)
        for option in reports
    ))
    return format_html(
        '      <form class="report-selector" method="get" action="{action}">\n'
        "        {keep}\n"
        '        <label for="report-month">{label}</label>\n'
        '        <select id="report-month" name="report">{options}</select>\n'
        '        <button type="submit">{show}</button>\n'
        "      </form>\n",
        action=action or (request.path if request else ""),
        keep=format_html_join("", '<input type="hidden" name="{}" value="{}">', keep),
        label=_("報告の時点"),
        options=options,
        show=_("表示"),
    )


def site_footer(report: Report | None, filtered_csv_url: str = "") -> SafeString:
    """The shown report's downloads (with ``filtered_csv_url``, the CSV of a filtered list),
    the source, and which report is on show."""
    parts = []
    if report:
        filtered = format_html(
            '\n      <li><a href="{}" download>{}</a></li>', filtered_csv_url,
            _("この一覧（絞り込み結果）をCSVで"),
        ) if filtered_csv_url else ""
        parts.append(format_html(
            '    <section class="downloads" aria-labelledby="downloads-title">\n'
            '      <h2 id="downloads-title">{title}</h2>\n'
            "      <ul>\n"
            '      <li><a href="{xlsx}" download>{xlsx_label}</a></li>{filtered}\n'
            '      <li><a href="{csv}" download>{csv_label}</a></li>\n'
            '      <li><a href="{json}">{json_label}</a></li>\n'
            "      </ul>\n"
            '      <p class="downloads__note">{note}</p>\n'
            "    </section>\n",
            title=_("データのダウンロード"),
            xlsx=page_path("pledges:export_xlsx", report.month),
            xlsx_label=_("%(label)s現在の進捗状況一覧表（Excel）")
            % {"label": report.month_label},
            filtered=filtered,
            csv=page_path("pledges:export_csv", report.month),
            csv_label=_("全項目のオープンデータ（CSV）"),
            json=page_path("pledges:export_json", report.month),
            json_label=_("全項目のオープンデータ（JSON）"),
            note=_("CSVはUTF-8（BOM付き）なので、Excelでそのまま開けます。"),
        ))
    parts.append(format_html("    <p>{}</p>\n", _(
        "出典: 入間市「市長公約(政策宣言)進捗状況一覧表」。件数と割合は、"
        "このサイトが各項目の評価から数え直したものです。"
    )))
    if report:
        parts.append(format_html(
            "    <p>{}</p>\n", _("表示中の報告: %(title)s") % {"title": report.title}
        ))
    return format_html(
        '  <footer class="site-footer">\n{}  </footer>\n', SafeString("".join(parts))
    )
