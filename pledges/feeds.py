"""The Atom feed ``/feed/``: one entry per published report, summarising its changes.

Two queries whatever the number of reports: the counts of every report (``changes.trend``) and
the states of all their sub-items (``changes.consecutive_comparisons``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import changes


def site_url(path: str) -> str:
    """``path`` as an absolute URL on the configured site."""
    return settings.SITE_URL + path


@dataclass(frozen=True)
class FeedEntry:
    """A report and its comparison with the previous report (None for the first one)."""

    figures: changes.ReportFigures
    comparison: changes.Comparison | None
    guid: str


class ReportChangesFeed(Feed):
    feed_type = Atom1Feed
    title = _("いるま公約進捗: 進捗報告ごとの変化")
    subtitle = _(
        "入間市長の公約の進捗状況一覧表が公表されるたびに、前回からの変化をお知らせします。"
    )

    # Atom requires an author for the feed (or every entry).
    author_name = _("いるま公約進捗")

    # Every URL in the feed is absolute and made from SITE_URL: Django's Feed would otherwise
    # take the host from the request, and the cached feed would hand it to every reader.
    def link(self) -> str:
        return site_url(reverse("pledges:changes_latest"))

    def feed_url(self) -> str:
        return site_url(reverse("pledges:feed"))

    def get_object(self, request: HttpRequest, *args, **kwargs) -> str:
        """The site's absolute overview URL, which the entries' ids are made from."""
        return site_url(reverse("pledges:overview"))

    def items(self, obj: str) -> list[FeedEntry]:
        """Newest report first."""
        trend = changes.trend()
        by_report = {
            comparison.after.report.pk: comparison
            for comparison in changes.consecutive_comparisons(trend.points)
        }
        return [
            # The id stays the report's for good, even when an older report imported later
            # changes the entry's comparison (and so its link).
            FeedEntry(
                figures, by_report.get(figures.report.pk), f"{obj}?report={figures.report.month}"
            )
            for figures in reversed(trend.points)
        ]

    def item_title(self, item: FeedEntry) -> str:
        report = item.figures.report
        completed = item.figures.breakdown.completed
        if item.comparison is None:
            return gettext("%(month)s現在の進捗: 完了 %(count)s件") % {
                "month": report.month_label,
                "count": completed,
            }
        delta = item.comparison.ratings[0]  # the best level, 完了: breakdowns go best first
        return gettext("%(month)s現在の進捗: 完了 %(before)s → %(after)s件 (%(difference)s)") % {
            "month": report.month_label,
            "before": delta.before,
            "after": delta.after,
            "difference": delta.signed_difference,
        }

    def item_description(self, item: FeedEntry) -> str:
        return render_to_string(
            "pledges/includes/feed_entry.html",
            {"figures": item.figures, "comparison": item.comparison},
        )

    def item_link(self, item: FeedEntry) -> str:
        if item.comparison is None:
            return site_url(item.figures.report.get_absolute_url())
        return site_url(reverse(
            "pledges:changes_between",
            kwargs={
                "before": item.comparison.before.report.month,
                "after": item.comparison.after.report.month,
            },
        ))

    def item_guid(self, item: FeedEntry) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item: FeedEntry) -> datetime:
        report = item.figures.report
        return report.published_at or timezone.make_aware(datetime.combine(report.as_of, time()))

    def item_updateddate(self, item: FeedEntry) -> datetime:
        return item.figures.report.updated_at
