"""Public pages and the JSON API: small functions; counting lives in ``stats``.

Every page takes ``?report=YYYY-MM`` (the newest published report without it; an unknown or
malformed month is a 404) and passes ``report`` and ``reports`` (the selector's months) to the
templates. Each page runs a fixed number of queries whatever the size of the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from . import changes, excel, reading, stats
from .caching import cached_page
from .choosing import chosen_report, previous_report, published_reports
from .filters import SubItemFilter
from .models import Manifesto, Report, SubItem
from .reading import FootnoteText, Item, Key, item_url, page_path, read_report, read_reports
from .references import split_references
from .tables import SortedIds, SubItemTable


def report_url(name: str, report: Report, *args: object, fragment: str = "") -> str:
    """The path of ``name`` with ``args`` pinned to ``report`` with ``?report=``, plus
    ``#fragment``."""
    url = page_path(name, *args) + f"?report={report.month}"
    return f"{url}#{fragment}" if fragment else url


@dataclass(frozen=True)
class FootnoteDisplay:
    """A ※N footnote ready to show: ``pieces`` are (text, url) with url "" for plain text.

    ``named`` holds the keys (pledge number, position) of every sub-item its text names that
    exists in the report; those references become links.
    """

    id: int
    marker: str
    pieces: tuple[tuple[str, str], ...]
    named: frozenset[tuple[int, int]]


def footnote_displays(
    report: Report, footnotes: Sequence[FootnoteText], items: Sequence[Item]
) -> list[FootnoteDisplay]:
    """The footnotes that concern ``items`` — marked on one's rating, or naming one — with their
    references to sub-items of ``report`` turned into links.

    A reference to a sub-item that does not exist stays plain text. One query, only when such
    a footnote names a sub-item that is not among ``items``: whether it exists.
    """
    shown = {(item.pledge, item.position) for item in items}
    marked = {item.footnote_id for item in items}
    references = {
        footnote.id: list(split_references(footnote.text)) for footnote in footnotes
    }
    concerned = [
        footnote for footnote in footnotes
        if footnote.id in marked
        or any(ref and ref.key in shown for _text, ref in references[footnote.id])
    ]
    named = {ref.key for footnote in concerned for _text, ref in references[footnote.id] if ref}
    existing = named & shown
    if elsewhere := named - shown:
        existing |= reading.existing_keys(report, elsewhere)
    displays = []
    for footnote in concerned:
        pieces, linked = [], set()
        for text, ref in references[footnote.id]:
            if ref is None or ref.key not in existing:
                pieces.append((text, ""))
                continue
            pieces.append((text, item_url(report.month, *ref.key)))
            linked.add(ref.key)
        displays.append(
            FootnoteDisplay(footnote.id, footnote.marker, tuple(pieces), frozenset(linked))
        )
    return displays


@dataclass(frozen=True)
class ShownItem:
    """A sub-item as a page shows it: the item, its footnotes — (display, carried), carried for
    the one marked on its rating, not for one whose text names it — its timeline (without the
    notes the item shows itself), ``new_notes``, its notes added since the previous report, and
    ``movement``: changes.COMPLETED, FORWARD or BACK when its rating moved since then, else "".
    """

    item: Item
    footnotes: tuple[tuple[FootnoteDisplay, bool], ...]
    timeline: changes.SubItemTimeline | None = None
    new_notes: frozenset[str] = frozenset()
    movement: str = ""


def shown_items(
    report: Report,
    items: Sequence[Item],
    footnotes: Sequence[FootnoteText],
    timelines: dict[Key, changes.SubItemTimeline] | None = None,
    moves: dict[Key, str] | None = None,
) -> list[ShownItem]:
    """``items`` ready to show; ``moves`` (changes.moves) or else ``timelines`` tell how their
    ratings moved since the previous report."""
    displays = footnote_displays(report, footnotes, items)
    timelines = timelines or {}
    if moves is None:
        moves = {
            key: entry.movement
            for key, timeline in timelines.items()
            for entry in timeline.entries
            if entry.report.pk == report.pk and entry.movement in changes.MOVES
        }
    shown = []
    for item in items:
        timeline = timelines.get(item.key)
        shown.append(
            ShownItem(
                item,
                tuple(
                    (display, display.id == item.footnote_id)
                    for display in displays
                    if display.id == item.footnote_id
                    or (item.pledge, item.position) in display.named
                ),
                timeline.beside(item) if timeline else None,
                timeline.new_notes_in(report) if timeline else frozenset(),
                moves.get(item.key, ""),
            )
        )
    return shown


def grouped_by_pledge(shown: list[ShownItem]) -> list[tuple[reading.Pledge, list[ShownItem]]]:
    """``shown`` (in table order) as [(pledge, its shown items)]."""
    pledges: dict[int, list[ShownItem]] = {}
    for entry in shown:
        pledges.setdefault(entry.item.pledge, []).append(entry)
    return [
        (_pledge_of(entries[0].item), entries) for entries in pledges.values()
    ]


def _pledge_of(item: Item) -> reading.Pledge:
    return reading.Pledge(item.pledge, item.pledge_field, item.pledge_title, item.chapter,
                          item.chapter_title, ())


@require_safe
@cached_page(depends="all")  # shows the change since the previous report
def overview(request: HttpRequest) -> HttpResponse:
    if not published_reports(request) and "report" not in request.GET:
        # A fresh installation: say so instead of a bare 404.
        return render(request, "pledges/no_report.html")
    report, reports = chosen_report(request)
    summary = stats.report_summary(report)
    stated = stats.compare_stated_totals(summary)
    context = {
        "report": report,
        "reports": reports,
        "summary": summary,
        "stated": stated,
        "stated_differs": any(row.differs for row in stated),
        **changes.overview_context(report, reports, summary.overall),
    }
    return render(request, "pledges/overview.html", context)


@require_safe
@cached_page(depends="previous")  # flags what moved since the previous report
def chapter(request: HttpRequest, number: int) -> HttpResponse:
    report, reports = chosen_report(request)
    # This chapter in this report and the one before it, in the one query either alone takes.
    previous = previous_report(report, reports)
    read = [previous, report] if previous else [report]
    by_report = read_reports(read, chapter=number)
    data = by_report[report.pk]
    chapter = stats.chapter_breakdown(report, number, data.items)
    if chapter is None:
        raise Http404(_("この報告にその章はありません。"))
    moves = changes.moves(by_report[previous.pk].by_key, data.by_key) if previous else {}
    context = {
        "report": report,
        "reports": reports,
        "chapter": chapter,
        "breakdown": chapter.breakdown,
        "pledges": grouped_by_pledge(
            shown_items(report, data.items, data.footnotes, moves=moves)
        ),
    }
    return render(request, "pledges/chapter.html", context)


@require_safe
@cached_page(depends="all")  # each sub-item's timeline across the reports
def pledge(request: HttpRequest, number: int) -> HttpResponse:
    report, reports = chosen_report(request)
    # The pledge in every published report of the manifesto at once: this report's items and
    # their timelines (another term's pledge of the same number is another pledge).
    related = [other for other in reports if other.manifesto_id == report.manifesto_id]
    by_report = read_reports(related, pledge=number)
    shown = by_report[report.pk].pledge(number)
    if shown is None:  # no such pledge (or one without sub-items, shown nowhere)
        raise Http404(_("この報告にその公約はありません。"))
    # The pledges before and after it that pages show: those with sub-items.
    numbers = list(
        SubItem.objects.filter(pledge__chapter__report=report)
        .values_list("pledge__number", flat=True).distinct().order_by("pledge__number")
    )
    at = numbers.index(number)
    timelines = (
        {timeline.key: timeline for timeline in changes.timelines(by_report, related)}
        if len(related) > 1
        else {}
    )
    data = by_report[report.pk]
    context = {
        "report": report,
        "reports": reports,
        "pledge": shown,
        "previous_number": numbers[at - 1] if at else None,
        "next_number": numbers[at + 1] if at + 1 < len(numbers) else None,
        "items": shown_items(report, data.items, data.footnotes, timelines),
    }
    return render(request, "pledges/pledge.html", context)


def item_queryset(report: Report) -> QuerySet[SubItem]:
    """The report's sub-items with what the /items/ table and CSV show, in table order."""
    return (
        SubItem.objects.filter(pledge__chapter__report=report)
        .select_related("pledge__chapter__report__manifesto", "assessment__footnote")
        .order_by("pledge__number", "position")
    )


# What /items/ and /items.csv read from the query: the report, the filters, the table's sort and
# page (django-tables2's default names). Anything else is dropped before the view sees it.
ITEM_LIST_PARAMETERS = ("report", "chapter", "rating", "q", "sort", "page")


SORT_CHOICES = (
    ("", gettext_lazy("公約の順")),
    ("chapter", gettext_lazy("章の順")),
    ("sub_item", gettext_lazy("項目名の順")),
    ("rating", gettext_lazy("評価の順")),
    ("-rating", gettext_lazy("評価の逆順")),
)


class ItemListView(SingleTableMixin, FilterView):
    """/items/: every sub-item of the report, sortable, filtered by ?chapter= ?rating= ?q=."""

    table_class = SubItemTable
    filterset_class = SubItemFilter
    template_name = "pledges/items.html"
    table_pagination: ClassVar[dict] = {"per_page": 100}
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        self.report, self.reports = chosen_report(request)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SubItem]:
        return item_queryset(self.report)

    def get_filterset_kwargs(self, filterset_class: type) -> dict:
        return {**super().get_filterset_kwargs(filterset_class), "report": self.report}

    def get_table_data(self) -> SortedIds:
        # Only the ids: the database sorts them, and the table reads the page's rows as
        # ``reading.Item``s (one query, whatever the size of the report).
        return SortedIds(self.object_list.select_related(None))

    def get_table_kwargs(self) -> dict:
        return {**super().get_table_kwargs(), "report": self.report}

    def get_table(self, **kwargs: Any) -> SubItemTable:
        table = super().get_table(**kwargs)
        # What django-tables2's {% render_table %} does before rendering; the page includes
        # the table's template in its own context instead (render_table renders it in a new
        # one, running the context processors a second time).
        table.before_render(self.request)
        return table

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for name in ("sort", "page"):
            query.pop(name, None)
        query["report"] = self.report.month
        context.update(
            report=self.report,
            reports=self.reports,
            filtered_csv_url=page_path("pledges:items_csv") + "?" + query.urlencode(),
            # Switching the report keeps the filters (a chapter number means the same there).
            selector_keep=[
                (name, value)
                for name in ("chapter", "rating", "q")
                for value in self.request.GET.getlist(name)
            ],
            # The same orders as the column headers, as a field of the form: on a phone the
            # table's header is not shown, and this is how the rows are sorted there.
            sort_choices=SORT_CHOICES,
            sort=self.request.GET.get("sort", ""),
        )
        return context


items = cached_page(ItemListView.as_view(), parameters=ITEM_LIST_PARAMETERS)


@require_safe
@cached_page(parameters=ITEM_LIST_PARAMETERS)
def items_csv(request: HttpRequest) -> HttpResponse:
    """The /items/ rows for the same filters, in the open data's CSV shape (``render_csv``)."""
    report, _reports = chosen_report(request)
    filterset = SubItemFilter(request.GET, queryset=item_queryset(report), report=report)
    if not filterset.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in filterset.errors.items()
        )
        return HttpResponse(
            _("絞り込みの条件が正しくありません: %(problems)s") % {"problems": problems},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    body = excel.render_csv(read_report(report, items=filterset.qs.values_list("pk", flat=True)))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"iruma-pledge-items-{report.month}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@cached_page(parameters=())
def summary_json(request: HttpRequest, month: str | None = None) -> JsonResponse:
    report, _reports = chosen_report(request, {"month": month})
    return JsonResponse(
        stats.report_summary(report).as_dict(), json_dumps_params={"ensure_ascii": False}
    )


# --------------------------------------------------------------------------------------------
# Reports over time


@dataclass(frozen=True)
class ManifestoEntry:
    manifesto: Manifesto
    latest: changes.ReportFigures  # its newest published report, with the figures
    reports: int  # how many it has published


@require_safe
@cached_page(depends="all", parameters=())
def manifestos(request: HttpRequest) -> HttpResponse:
    """Every manifesto with the figures of its latest report, newest first: how each term
    ended, or where the current one stands. Two queries."""
    points: dict[int, list[changes.ReportFigures]] = {}
    for point in changes.trend(published=published_reports(request)).points:
        points.setdefault(point.report.manifesto_id, []).append(point)
    entries = sorted(
        (ManifestoEntry(group[-1].report.manifesto, group[-1], len(group))
         for group in points.values()),
        key=lambda entry: entry.latest.report.as_of,
        reverse=True,
    )
    reports = published_reports(request)
    return render(request, "pledges/manifestos.html", {
        "entries": entries, "reports": reports, "report": reports[0] if reports else None,
    })


def comparison_or_404(
    request: HttpRequest, before: str, after: str
) -> tuple[changes.Trend, changes.Comparison]:
    """The comparison of two published months, with the trend of their manifesto; 404 when
    either is unknown or they belong to different manifestos (unrelated pledges)."""
    everything = changes.trend(published=published_reports(request))
    older, newer = everything.for_month(before), everything.for_month(after)
    if (
        older is None
        or newer is None
        or older == newer
        or older.report.manifesto_id != newer.report.manifesto_id
    ):
        raise Http404("no such pair of reports")
    return everything.of_manifesto(older.report.manifesto_id), changes.compare(older, newer)


def changes_context(
    request: HttpRequest, trend: changes.Trend, comparison: changes.Comparison | None
) -> dict:
    """The changes page's context; the shown report (for the selector and downloads) is the
    later one compared, or the only one."""
    reports = published_reports(request)
    latest = trend.latest
    shown = comparison.after.report if comparison else (latest.report if latest else None)
    return {
        "trend": trend,
        "comparison": comparison,
        "report": shown,
        "reports": reports,
        # Choosing a month here shows that month against the one before it.
        "selector_action": page_path("pledges:changes_latest"),
    }


@require_safe
@cached_page(depends="all")
def changes_latest(request: HttpRequest) -> HttpResponse:
    """A report (the newest, or ``?report=``) against the one before it in its manifesto; a
    friendly page when there is nothing before it."""
    if not published_reports(request) and "report" not in request.GET:
        context = changes_context(request, changes.trend(), None)
        return render(request, "pledges/changes.html", context)
    report, reports = chosen_report(request)
    trend = changes.trend(report.manifesto_id, reports)
    index = next(i for i, point in enumerate(trend.points) if point.report.pk == report.pk)
    comparison = changes.compare(trend.points[index - 1], trend.points[index]) if index else None
    context = changes_context(request, trend, comparison)
    context["report"] = report
    return render(request, "pledges/changes.html", context)


@require_safe
@cached_page(depends="all")
def changes_between(request: HttpRequest, before: str, after: str) -> HttpResponse:
    """``/changes/<from>/<to>/``; the months the wrong way round redirect to the right order."""
    if before > after:
        return redirect("pledges:changes_between", before=after, after=before)
    trend, comparison = comparison_or_404(request, before, after)
    return render(request, "pledges/changes.html", changes_context(request, trend, comparison))


@require_safe
@cached_page(depends="all")
def changes_json(request: HttpRequest, before: str, after: str) -> HttpResponse:
    if before > after:
        return redirect("pledges:changes_json", before=after, after=before)
    _trend, comparison = comparison_or_404(request, before, after)
    return JsonResponse(comparison.as_dict(), json_dumps_params={"ensure_ascii": False})


@require_safe
@cached_page(parameters=())
def follow(request: HttpRequest) -> HttpResponse:
    """How to follow new reports: the Atom feed's address to paste into a feed reader.

    Absolute from ``SITE_URL``, never from the Host header: the page is cached for everyone.
    """
    context = {"feed_url": settings.SITE_URL + reverse("pledges:feed")}
    return render(request, "pledges/follow.html", context)


@require_safe
def language(request: HttpRequest, code: str) -> HttpResponse:
    """Remember ``code`` in the language cookie and go back to ``?next=`` (a path on this site).

    A plain link rather than Django's ``set_language`` form: that form needs a CSRF token, and a
    page that used one is never stored in the page cache. Choosing a language changes nothing
    but how this browser's own pages are shown, so a GET that does it cannot hurt anyone.
    """
    if code not in dict(settings.LANGUAGES):
        raise Http404
    target = request.GET.get("next", "")
    # Only a path on this site: "//evil.example" and "https://…" would send readers elsewhere.
    safe = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts=None, require_https=request.is_secure()
    )
    response = redirect(target if safe else reverse("pledges:overview"))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response
