"""Reports over time: what changed between two published reports, timelines, the trend.

Sub-items are matched across reports by (chapter number, pledge number, position) — the ``Key``.
Everything here runs a fixed number of queries whatever the size of the reports:

- ``trend()``: two queries → every published report with its counts per rating;
- ``item_states(reports)``: the reports' items through ``reading.read_reports`` (one query),
  which are then matched by key in Python;
- ``compare(before, after)``: two queries whatever the size of the reports — where each
  sub-item is, with its title and rating (``reading.sub_item_rows``), and the notes the later
  report added (``reading.notes_added``: the database compares the notes, a comparison does not
  read the ones both reports have); ``compare_reports`` adds the counting.

Counts always come from the database (``stats.counts_by_report``); Python only matches
sub-items by key and sorts them into groups.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TypeVar

from . import reading, stats
from .models import Report
from .ratings import Level, Scale
from .reading import Item, Key, SubItemState
from .stats import Breakdown

# Groups of an ItemChange, in the order the pages show them.
COMPLETED = "completed"  # reached 完了 from any other rating
FORWARD = "forward"  # improved, but not (yet) to 完了
BACK = "back"  # worse than before
NEW_NOTES = "new_notes"  # same rating, but notes the earlier report did not have
UNCHANGED = "unchanged"
ADDED = "added"  # only in the later report
REMOVED = "removed"  # only in the earlier report


def signed(number: int) -> str:
    """``+4``, ``−2`` (minus sign), ``±0``: a difference as people write it."""
    if number > 0:
        return f"+{number}"
    if number < 0:
        return f"−{-number}"
    return "±0"


# --------------------------------------------------------------------------------------------
# Counts per report


@dataclass(frozen=True)
class ReportFigures:
    """A published report and how its sub-items split over the ratings."""

    report: Report
    breakdown: Breakdown

    def as_dict(self) -> dict:
        return {
            "month": self.report.month,
            "label": self.report.month_label,
            **self.breakdown.as_dict(),
        }


@dataclass(frozen=True)
class RatingDelta:
    """One level's count in two reports."""

    level: Level
    before: int
    after: int

    @property
    def code(self) -> str:
        return self.level.code

    @property
    def label(self) -> str:
        return self.level.label

    @property
    def difference(self) -> int:
        return self.after - self.before

    @property
    def signed_difference(self) -> str:
        return signed(self.difference)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": str(self.label),
            "from": self.before,
            "to": self.after,
            "difference": self.difference,
        }


def rating_deltas(before: Breakdown, after: Breakdown) -> tuple[RatingDelta, ...]:
    return tuple(
        RatingDelta(b.level, b.count, a.count)
        for b, a in zip(before.ratings, after.ratings, strict=True)
    )


def published_figures(
    reports: Iterable[Report] | None = None, manifesto_id: int | None = None
) -> list[ReportFigures]:
    """Published reports (all, those of ``reports`` or of one manifesto), oldest first, with
    counts, each on its own scale: two queries (the reports, then their counts per rating)."""
    queryset = Report.objects.published()
    if manifesto_id is not None:
        queryset = queryset.filter(manifesto_id=manifesto_id)
    if reports is not None:
        queryset = queryset.filter(pk__in=[report.pk for report in reports])
    return figures_of(list(queryset.order_by("as_of")))


def figures_of(reports: Sequence[Report]) -> list[ReportFigures]:
    """``reports`` (as read already, in their order) with their counts: one query."""
    counts = stats.counts_by_report(reports)
    return [
        ReportFigures(
            report,
            Breakdown.from_counts(counts[report.pk], sum(counts[report.pk].values()), report.scale),
        )
        for report in reports
    ]


# --------------------------------------------------------------------------------------------
# Sub-item states and their matching


def item_states(
    reports: Sequence[Report], *, pledge: int | None = None
) -> dict[int, dict[Key, Item]]:
    """{report id: {key: item}} for every sub-item of ``reports`` (or of pledge ``pledge``),
    read through ``reading.read_reports``: one query whatever their number."""
    return {
        report_id: data.by_key
        for report_id, data in reading.read_reports(
            list(reports), pledge=pledge, footnotes=False
        ).items()
    }


def new_notes_of(before: Item | None, after: Item) -> tuple[str, ...]:
    """The notes of ``after`` whose exact text ``before`` lacks (all of them without ``before``)."""
    known = set(before.notes) if before else set()
    return tuple(note for note in after.notes if note not in known)


def movement(before: str, after: str, scale: Scale) -> str:
    """COMPLETED, FORWARD, BACK or UNCHANGED for a rating going from ``before`` to ``after``.

    A blank rating (drafts only) has no progress and never counts as a move.
    """
    progress_before, progress_after = scale.progress(before), scale.progress(after)
    if before == after or progress_before is None or progress_after is None:
        return UNCHANGED
    if after == scale.best.code:
        return COMPLETED
    return FORWARD if progress_after > progress_before else BACK


@dataclass(frozen=True)
class ItemChange:
    """One matched (or unmatched) sub-item between two reports and the group it falls in."""

    kind: str
    before: SubItemState | None
    after: SubItemState | None
    new_notes: tuple[str, ...] = ()

    @property
    def current(self) -> SubItemState:
        """The later state when there is one (its title and link are the ones to show)."""
        state = self.after or self.before
        assert state is not None
        return state

    @property
    def key(self) -> Key:
        return self.current.key

    @property
    def title_changed(self) -> bool:
        return bool(self.before and self.after and self.before.title != self.after.title)

    def as_dict(self) -> dict:
        state = self.current
        return {
            "code": state.code,
            "chapter": state.chapter,
            "pledge": state.pledge,
            "position": state.position,
            "title": state.title,
            "previous_title": self.before.title if self.before and self.title_changed else None,
            "from": self.before.rating if self.before else None,
            "to": self.after.rating if self.after else None,
            "change": self.kind,
            "new_notes": list(self.new_notes),
            "url": state.url,
        }


State = TypeVar("State", bound=SubItemState)


def match(
    before: Mapping[Key, State], after: Mapping[Key, State],
    notes_added: Callable[[State | None, State], tuple[str, ...]],
) -> list[ItemChange]:
    """The sub-items that changed from ``before`` to ``after`` — moved, added, removed, with
    new notes or a new title — as ItemChanges, in (chapter, pledge, position) order;
    ``notes_added(old, new)`` tells the notes ``new`` has that ``old`` (None: it is new)
    lacks — ``new_notes_of`` for ``Item``s."""
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if new is None:
            changes.append(ItemChange(REMOVED, old, None))
        elif old is None:
            changes.append(ItemChange(ADDED, None, new, notes_added(None, new)))
        else:
            kind = movement(old.rating, new.rating, new.scale)
            notes = notes_added(old, new)
            if kind == UNCHANGED and notes:
                kind = NEW_NOTES
            if kind != UNCHANGED or old.title != new.title:
                changes.append(ItemChange(kind, old, new, notes))
    return changes


MOVES = (COMPLETED, FORWARD, BACK)


def move_counts(before: Report, after: Report) -> dict[str, int]:
    """How many sub-items moved from ``before`` to ``after``: {COMPLETED, FORWARD, BACK: count},
    matched by key and classified by ``movement`` as ``match`` does; the database counts each
    pair of ratings (one grouped query, for a page that shows only these counts)."""
    counts = dict.fromkeys(MOVES, 0)
    for (earlier, later), count in stats.rating_transitions(before, after).items():
        if (kind := movement(earlier, later, after.scale)) in counts:
            counts[kind] += count
    return counts


def moves(before: dict[Key, Item], after: dict[Key, Item]) -> dict[Key, str]:
    """{key: COMPLETED, FORWARD or BACK} for the sub-items whose rating moved (no query)."""
    return {
        change.key: change.kind
        # Only the ratings matter here: no notes compared.
        for change in match(before, after, lambda _old, _new: ())
        if change.kind in MOVES
    }


# --------------------------------------------------------------------------------------------
# Two reports compared


@dataclass(frozen=True)
class Comparison:
    """Report ``before`` against the later report ``after``.

    ``ratings`` has the count per rating in both and the difference; the groups hold ItemChanges
    in (chapter, pledge, position) order; ``retitled`` repeats the matched sub-items whose title
    changed, whatever their group.
    """

    before: ReportFigures
    after: ReportFigures
    items: tuple[ItemChange, ...] = field(repr=False)

    @cached_property
    def ratings(self) -> tuple[RatingDelta, ...]:
        return rating_deltas(self.before.breakdown, self.after.breakdown)

    @property
    def total_difference(self) -> int:
        return self.after.breakdown.total - self.before.breakdown.total

    @property
    def signed_total_difference(self) -> str:
        return signed(self.total_difference)

    def _group(self, kind: str) -> tuple[ItemChange, ...]:
        return tuple(change for change in self.items if change.kind == kind)

    @cached_property
    def completed(self) -> tuple[ItemChange, ...]:
        return self._group(COMPLETED)

    @cached_property
    def forward(self) -> tuple[ItemChange, ...]:
        return self._group(FORWARD)

    @cached_property
    def back(self) -> tuple[ItemChange, ...]:
        return self._group(BACK)

    @cached_property
    def new_notes(self) -> tuple[ItemChange, ...]:
        return self._group(NEW_NOTES)

    @cached_property
    def added(self) -> tuple[ItemChange, ...]:
        return self._group(ADDED)

    @cached_property
    def removed(self) -> tuple[ItemChange, ...]:
        return self._group(REMOVED)

    @cached_property
    def retitled(self) -> tuple[ItemChange, ...]:
        return tuple(change for change in self.items if change.title_changed)

    @property
    def has_changes(self) -> bool:
        return any(
            (
                self.completed,
                self.forward,
                self.back,
                self.new_notes,
                self.retitled,
                self.added,
                self.removed,
            )
        )

    def as_dict(self) -> dict:
        """The JSON API's shape: the same content as the changes page."""

        def items(changes: tuple[ItemChange, ...]) -> list[dict]:
            return [change.as_dict() for change in changes]

        return {
            "manifesto": self.after.report.manifesto.as_dict(),
            "from": self.before.as_dict(),
            "to": self.after.as_dict(),
            "ratings": [delta.as_dict() for delta in self.ratings],
            "total_difference": self.total_difference,
            "completed": items(self.completed),
            "forward": items(self.forward),
            "back": items(self.back),
            "new_notes": items(self.new_notes),
            "retitled": items(self.retitled),
            "added": items(self.added),
            "removed": items(self.removed),
        }


def compare(before: ReportFigures, after: ReportFigures) -> Comparison:
    """Match the sub-items of two reports: two queries whatever their size (where each
    sub-item is with its title and rating, and the notes ``after`` added); counts come with the
    figures. Only a sub-item whose row differs (or is on one side only, or has new notes)
    becomes a SubItemState to match: year after year, most are the same."""
    rows = reading.sub_item_rows([before.report, after.report])
    old, new = rows[before.report.pk], rows[after.report.pk]
    added = reading.notes_added(before.report, after.report)
    differing = [
        key for key in old.keys() | new.keys()
        if key not in old or key not in new
        or old[key].title != new[key].title or old[key].rating != new[key].rating
        or new[key].sub_item_id in added
    ]
    items = match(
        {key: reading.sub_item_state(before.report, key, old[key])
         for key in differing if key in old},
        {key: reading.sub_item_state(after.report, key, new[key])
         for key in differing if key in new},
        lambda _old, state: added.get(state.sub_item_id, ()),
    )
    return Comparison(before=before, after=after, items=tuple(items))


def compare_reports(before: Report, after: Report) -> Comparison:
    """``compare`` for two published reports, counting them first (four queries in all)."""
    figures = {f.report.pk: f for f in published_figures([before, after])}
    return compare(figures[before.pk], figures[after.pk])


def consecutive_comparisons(figures: Sequence[ReportFigures]) -> list[Comparison]:
    """Each report of ``figures`` (oldest first) against the one before it in its manifesto
    (the first of a manifesto has none: another term's pledges are not comparable): one query
    for all their items."""
    states = item_states([f.report for f in figures])
    by_manifesto: dict[int, list[ReportFigures]] = defaultdict(list)
    for figure in figures:
        by_manifesto[figure.report.manifesto_id].append(figure)
    return [
        Comparison(
            before=older,
            after=newer,
            items=tuple(
                match(states[older.report.pk], states[newer.report.pk], new_notes_of)
            ),
        )
        for group in by_manifesto.values()
        for older, newer in itertools.pairwise(group)
    ]


# --------------------------------------------------------------------------------------------
# Trend over all published reports


@dataclass(frozen=True)
class Trend:
    """Published reports with their counts, oldest first: all of them, or one manifesto's —
    the only reports comparisons, "前回" figures and the chart put side by side."""

    points: tuple[ReportFigures, ...]

    def of_manifesto(self, manifesto_id: int) -> Trend:
        """The points of one manifesto (no query)."""
        return Trend(tuple(p for p in self.points if p.report.manifesto_id == manifesto_id))

    def __len__(self) -> int:
        return len(self.points)

    @property
    def latest(self) -> ReportFigures | None:
        return self.points[-1] if self.points else None

    def for_month(self, month: str) -> ReportFigures | None:
        return next((p for p in self.points if p.report.month == month), None)

    def previous_of(self, report: Report) -> ReportFigures | None:
        """The published report just before ``report`` (by month), if any."""
        earlier = [p for p in self.points if p.report.as_of < report.as_of]
        return earlier[-1] if earlier else None

    def deltas_for(self, report: Report) -> tuple[RatingDelta, ...] | None:
        """Each rating's change from the previous report to ``report``; None for the first."""
        current = next((p for p in self.points if p.report.pk == report.pk), None)
        previous = self.previous_of(report)
        if current is None or previous is None:
            return None
        return rating_deltas(previous.breakdown, current.breakdown)

    @property
    def pairs(self) -> list[tuple[ReportFigures, ReportFigures]]:
        """Consecutive (older, newer) reports, newest pair first: the comparisons worth listing."""
        return list(itertools.pairwise(self.points))[::-1]

    @cached_property
    def chart(self) -> TrendChart:
        return trend_chart(self.points)


def trend(
    manifesto_id: int | None = None, published: Sequence[Report] | None = None
) -> Trend:
    """The published reports (of one manifesto, or all) with their counts per rating: two
    queries, or one when the request has read the ``published`` reports already
    (``choosing.published_reports``)."""
    if published is None:
        return Trend(tuple(published_figures(manifesto_id=manifesto_id)))
    chosen = sorted(
        (report for report in published
         if manifesto_id is None or report.manifesto_id == manifesto_id),
        key=lambda report: report.as_of,
    )
    return Trend(tuple(figures_of(chosen)))


# --------------------------------------------------------------------------------------------
# The trend chart, drawn on the server as SVG geometry (``fragments.trend_chart`` writes it out)

# Levels are told apart by line pattern, marker shape and the legend, not by colour alone; the
# colour is the level's tone (site.css), the same as its badge's. One style per tone.
LINE_STYLES: tuple[dict[str, str], ...] = (
    {"dash": "", "shape": "circle"},
    {"dash": "8 4", "shape": "square"},
    {"dash": "4 3 1 3", "shape": "triangle"},
    {"dash": "2 4", "shape": "diamond"},
    {"dash": "10 4 2 4", "shape": "cross"},
)
CHART_WIDTH = 480
CHART_HEIGHT = 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 464, 16, 214
MARKER_SIZE = 5
MAX_X_LABELS = 5  # more would overlap on a phone, where the chart is drawn smaller


@dataclass(frozen=True)
class ChartMarker:
    x: float
    y: float
    d: str  # SVG path of the marker shape
    count: int
    month_label: str


@dataclass(frozen=True)
class ChartLine:
    code: str
    label: str
    css_class: str  # the level's tone
    dash: str
    points: str  # SVG polyline points
    markers: tuple[ChartMarker, ...]
    legend_marker: str  # SVG path of the marker shape in the legend


@dataclass(frozen=True)
class ChartTick:
    position: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    y_ticks: tuple[ChartTick, ...]
    x_ticks: tuple[ChartTick, ...]
    lines: tuple[ChartLine, ...]

    @property
    def legend(self) -> str:
        """``A 完了・B 実施中・…``: what the lines are, for the chart's description."""
        return "・".join(f"{line.code} {line.label}" for line in self.lines)


def marker_path(shape: str, x: float, y: float, size: float = MARKER_SIZE) -> str:
    """An SVG path ``d`` for a marker of ``shape`` centred on (x, y)."""
    s = size
    if shape == "circle":
        return f"M{x - s:.1f},{y:.1f}a{s},{s} 0 1,0 {2 * s},0a{s},{s} 0 1,0 {-2 * s},0Z"
    if shape == "square":
        s *= 0.9
        return f"M{x - s:.1f},{y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}Z"
    if shape == "triangle":
        corners = [(x, y - s * 1.2), (x + s * 1.1, y + s * 0.8), (x - s * 1.1, y + s * 0.8)]
    elif shape == "cross":
        t = s * 0.45
        corners = [
            (x - t, y - s), (x + t, y - s), (x + t, y - t), (x + s, y - t), (x + s, y + t),
            (x + t, y + t), (x + t, y + s), (x - t, y + s), (x - t, y + t), (x - s, y + t),
            (x - s, y - t), (x - t, y - t),
        ]
    else:  # diamond
        corners = [(x, y - s * 1.2), (x + s, y), (x, y + s * 1.2), (x - s, y)]
    return "M" + "L".join(f"{cx:.1f},{cy:.1f}" for cx, cy in corners) + "Z"


def nice_step(largest: int, steps: int = 4) -> int:
    """A round tick step (1, 2, 5, 10, 20, 25, 50, …): about ``steps`` ticks reach ``largest``."""
    raw = max(largest, 1) / steps
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and step == int(step):
            return int(step)
    return int(10 * magnitude)


def trend_chart(points: Sequence[ReportFigures]) -> TrendChart:
    """Coordinates of a line chart: one line per level of the newest report's scale, one point
    per report (oldest left)."""
    largest = max((f.count for p in points for f in p.breakdown.ratings), default=0)
    step = nice_step(largest)
    top_value = max(step, math.ceil(largest / step) * step)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    inset = 24  # keeps the first and last markers off the axes

    def y_of(count: int) -> float:
        return round(PLOT_BOTTOM - count / top_value * plot_height, 1)

    def x_of(index: int) -> float:
        if len(points) == 1:
            return (PLOT_LEFT + PLOT_RIGHT) / 2
        span = PLOT_RIGHT - PLOT_LEFT - 2 * inset
        return round(PLOT_LEFT + inset + index * span / (len(points) - 1), 1)

    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    x_ticks = tuple(
        ChartTick(x_of(i), p.report.month_label)
        for i, p in enumerate(points)
        if (len(points) - 1 - i) % every == 0  # always label the newest report
    )
    y_ticks = tuple(ChartTick(y_of(value), str(value)) for value in range(0, top_value + 1, step))
    lines = []
    for level in (figure.level for figure in points[-1].breakdown.ratings) if points else ():
        style = LINE_STYLES[level.tone]
        markers = []
        for i, p in enumerate(points):
            count = p.breakdown.count_of(level.code)
            x, y = x_of(i), y_of(count)
            markers.append(
                ChartMarker(x, y, marker_path(style["shape"], x, y), count, p.report.month_label)
            )
        lines.append(
            ChartLine(
                code=level.code,
                label=level.label,
                css_class=level.css_class,
                dash=style["dash"],
                points=" ".join(f"{m.x},{m.y}" for m in markers),
                markers=tuple(markers),
                legend_marker=marker_path(style["shape"], 24, 10),
            )
        )
    return TrendChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=PLOT_LEFT,
        right=PLOT_RIGHT,
        top=PLOT_TOP,
        bottom=PLOT_BOTTOM,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        lines=tuple(lines),
    )


# --------------------------------------------------------------------------------------------
# One pledge's sub-items across all published reports


@dataclass(frozen=True)
class TimelineNote:
    text: str
    is_new: bool


@dataclass(frozen=True)
class TimelineEntry:
    """A sub-item in one report: ``movement`` and ``is_new`` compare it with the report before.

    ``previous_title`` is set when the title differs from the previous report's; ``added`` when
    the sub-item was not in the previous report. The oldest report (``first``) has nothing to
    compare with: no movement, no new notes.

    ``notes`` may leave out notes shown elsewhere on the page (``SubItemTimeline.beside``):
    ``above`` counts those first recorded in this report; carried-over ones are only counted.
    """

    report: Report
    state: Item
    notes: tuple[TimelineNote, ...]
    movement: str = UNCHANGED
    previous_rating: str = ""
    previous_title: str | None = None
    added: bool = False
    first: bool = False
    above: int = 0

    @property
    def previous_level(self) -> Level | None:
        return self.state.scale.level(self.previous_rating)

    @property
    def new_note_count(self) -> int:
        return sum(1 for note in self.notes if note.is_new)

    @property
    def listed_notes(self) -> tuple[TimelineNote, ...]:
        """The notes this report added (all of them in the first report), to print in full."""
        return tuple(note for note in self.notes if note.is_new or self.first or self.added)

    @property
    def unchanged_count(self) -> int:
        """Notes carried over word for word from the previous report: counted, not repeated."""
        return len(self.notes) - len(self.listed_notes)


@dataclass(frozen=True)
class SubItemTimeline:
    """One sub-item (by key) through the reports that have it, newest first."""

    key: Key
    entries: tuple[TimelineEntry, ...]

    @property
    def latest(self) -> Item:
        return self.entries[0].state

    @property
    def code(self) -> str:
        return self.latest.code

    @property
    def anchor(self) -> str:
        return self.latest.anchor

    def beside(self, shown: Item) -> SubItemTimeline:
        """This timeline for a page that already prints ``shown``'s notes in full.

        Each note's text then appears once on the page: notes a report added that ``shown``
        also has are left out of that report's entry and counted in its ``above``; with two
        reports and nothing changed, the notes show once, and both entries are one line each.
        """
        above = set(shown.notes)
        return SubItemTimeline(
            self.key,
            tuple(
                replace(
                    entry,
                    notes=tuple(
                        note for note in entry.notes
                        if note not in entry.listed_notes or note.text not in above
                    ),
                    above=sum(1 for note in entry.listed_notes if note.text in above),
                )
                for entry in self.entries
            ),
        )

    def new_notes_in(self, report: Report) -> frozenset[str]:
        """The notes ``report`` added since the report before it (none in the first)."""
        for entry in self.entries:
            if entry.report.pk == report.pk:
                return frozenset(note.text for note in entry.notes if note.is_new)
        return frozenset()


def pledge_timeline(number: int, reports: Sequence[Report] | None = None) -> list[SubItemTimeline]:
    """Per sub-item of pledge ``number``: its state in every published report, newest first.

    ``reports`` defaults to all published reports (one query); then three for their items.
    """
    if reports is None:
        reports = list(Report.objects.published())
    return timelines(reading.read_reports(list(reports), pledge=number), reports)


def timelines(
    by_report: dict[int, reading.ReportData], reports: Sequence[Report]
) -> list[SubItemTimeline]:
    """Per sub-item read in ``by_report``: its state in each of ``reports``, newest first."""
    reports = sorted(reports, key=lambda report: report.as_of)
    states = {report.pk: by_report[report.pk].by_key for report in reports}
    entries: dict[Key, list[TimelineEntry]] = defaultdict(list)
    for index, report in enumerate(reports):
        previous = states[reports[index - 1].pk] if index else None
        for key, state in states[report.pk].items():
            old = previous.get(key) if previous is not None else None
            new = set(new_notes_of(old, state)) if previous is not None else set()
            entries[key].append(
                TimelineEntry(
                    report=report,
                    state=state,
                    notes=tuple(TimelineNote(text, text in new) for text in state.notes),
                    movement=(
                        movement(old.rating, state.rating, state.scale) if old else UNCHANGED
                    ),
                    previous_rating=old.rating if old else "",
                    previous_title=old.title if old and old.title != state.title else None,
                    added=previous is not None and old is None,
                    first=previous is None,
                )
            )
    return [SubItemTimeline(key, tuple(reversed(entries[key]))) for key in sorted(entries)]


# --------------------------------------------------------------------------------------------
# Context for pages that show changes beside a report


def overview_context(
    report: Report, published: Sequence[Report], breakdown: Breakdown | None = None
) -> dict:
    """What ``/`` needs to show the change since the previous report of its manifesto and the
    manifesto's trend: two queries beside the ``published`` reports the request has read.

    ``trend`` (Trend), ``current`` and ``previous`` (ReportFigures; ``previous`` is None for the
    first report), ``rating_changes`` (RatingDelta per rating, or None for the first report) and
    ``moved`` (``move_counts`` since ``previous``, or None),
    for the line of moves and ``{% trend_chart %}``. With the
    report's ``breakdown``, also ``figure_changes``: (RatingFigure, RatingDelta or None) per
    rating, to show each figure with its change (``{% rating_figures %}``).
    """
    # Another term's reports are not comparable.
    all_reports = trend(report.manifesto_id, published)
    deltas = all_reports.deltas_for(report)
    current = next((p for p in all_reports.points if p.report.pk == report.pk), None)
    previous = all_reports.previous_of(report)
    context: dict[str, object] = {
        "trend": all_reports,
        "current": current,
        "previous": previous,
        "rating_changes": deltas,
        # For the line of what moved since ``previous`` (one query).
        "moved": move_counts(previous.report, report) if previous else None,
    }
    if breakdown is not None:
        context["figure_changes"] = [
            (figure, deltas[index] if deltas else None)
            for index, figure in enumerate(breakdown.ratings)
        ]
    return context
