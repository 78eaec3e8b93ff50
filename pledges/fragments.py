"""HTML of the parts a page repeats per sub-item or per change, built with ``format_html``.

A template include costs a tenth of a millisecond or more each time it runs; a chapter of a
large report shows hundreds of sub-items and a comparison thousands of changes. These parts
are Python functions instead — each the one place of its markup, every value escaped by
``format_html`` — so a page's rendering costs little beside the data it shows. The rating
badge keeps its template (``rating_badge.html``), rendered once per level and size by
``Badges``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from .changes import ItemChange, SubItemTimeline, TimelineEntry
    from .models import Report
    from .ratings import Level
    from .reading import Item
    from .views import FootnoteDisplay, ShownItem


def _escaped(value: object) -> str:
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
    """Django's ``format_html_join`` on this module's ``format_html``."""
    return SafeString(separator.join(format_html(template, *args) for args in values))


class Badges:
    """Rating badges for a page that shows a few levels many times: the include
    (``rating_badge.html``, the one place of its markup) rendered once per level and size,
    then reused."""

    def __init__(self) -> None:
        self._html: dict[tuple[Level | None, str], SafeString] = {}

    def __call__(self, level: Level | None, size: str = "") -> SafeString:
        if (level, size) not in self._html:
            html = render_to_string(
                "pledges/includes/rating_badge.html", {"level": level, "size": size}
            )
            self._html[level, size] = mark_safe(html.strip())  # a rendered template, trimmed
        return self._html[level, size]


# --------------------------------------------------------------------------------------------
# A sub-item as the chapter and pledge pages show it


def sub_item(shown: ShownItem, heading: int, report: Report, badges: Badges) -> SafeString:
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
        badge=badges(item.level),
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
        timeline=timeline(shown.timeline, report, badges) if shown.timeline else "",
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


def timeline(line: SubItemTimeline, report: Report, badges: Badges) -> SafeString:
    """One sub-item's reports, newest first; ``report`` is the one on show."""
    return format_html(
        '  <section class="timeline" aria-labelledby="timeline-{anchor}">\n'
        '    <h3 id="timeline-{anchor}">{heading}</h3>\n'
        '    <ol class="timeline-entries">\n{entries}    </ol>\n'
        "  </section>\n",
        anchor=line.anchor,
        heading=_("%(code)sの経過") % {"code": line.code},
        entries=format_html_join(
            "", "{}", ((_timeline_entry(entry, report, badges),) for entry in line.entries)
        ),
    )


def _timeline_entry(entry: TimelineEntry, report: Report, badges: Badges) -> SafeString:
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
        badge=badges(entry.state.level),
        flags=format_html_join("", " {}", ((flag,) for flag in flags)),
        parts=format_html_join("\n        ", "{}", ((part,) for part in parts)),
    )


def _label(level: Level | None) -> str:
    return level.label if level else ""


# --------------------------------------------------------------------------------------------
# A change between two reports, as /changes/ lists it


class ChangeItems:
    """List items of changes, each linking to its pledge page: the words translated and each
    pledge's path reversed once per list, not once per change."""

    def __init__(self) -> None:
        self._badges = Badges()
        self._paths: dict[int, str] = {}
        self._back = format_html('<strong class="flag-back">{}</strong>', _("後退"))
        self._added = format_html('<span class="flag-added">{}</span>', _("追加"))
        self._removed = format_html('<span class="flag-removed">{}</span>', _("削除"))
        self._new = format_html('<span class="flag-new">{}</span>', _("新"))
        self._title_changed = _("項目名が変わりました(前回:「%(title)s」)")

    def __call__(self, change: ItemChange) -> SafeString:
        badge = self._badges
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
        if current.pledge not in self._paths:
            self._paths[current.pledge] = reverse("pledges:pledge", args=[current.pledge])
        url = f"{self._paths[current.pledge]}?report={current.month}#{current.anchor}"
        return format_html(
            '<li class="change change-{}"><a href="{}"><span class="item-code">{}</span> {}</a>'
            ' <span class="change-ratings">{}</span>{}{}</li>\n',
            change.kind, url, current.code, current.title, ratings, title_changed,
            new_notes,
        )
