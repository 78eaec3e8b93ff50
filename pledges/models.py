"""The pledge-progress data: one Report per published table, each with its own tree.

Report → Chapter → Pledge → SubItem is the structure as the city published it that month, kept
verbatim per report so that importing next year's table never changes what this year's said.
Assessment (one per sub-item) is what staff edit between publications: the rating, the ordered
ProgressNotes and an optional Footnote. Sub-items are matched across reports by
(chapter number, pledge number, position).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import ratings, table_format

# A level's code: a letter, a symbol (◎) or a short number (100%) in the tables seen so far.
RATING_CODE_MAX_LENGTH = 8


class BoundedTextField(models.TextField):
    """A TextField whose ``max_length`` is validated like a CharField's.

    Django's TextField only hands ``max_length`` to the form widget; here ``full_clean``, the
    admin and the importers all refuse longer text, so no write path can store a novel.
    """

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        kwargs["max_length"] = max_length
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))


class Manifesto(models.Model):
    """One term's pledges (公約集): a mayor's manifesto and the rating scale its reports use.

    A city tracks a manifesto over the four years of a term; a new mayor or a new term brings a
    new one, often with a new scale. Reports are compared only with reports of their own
    manifesto. The scale is data, read from the legend of the manifesto's first table.
    """

    slug = models.SlugField(
        _("識別名"), max_length=50, unique=True,
        help_text=_("取り込みのコマンドで使う英数字の名前(例: 2022-term)。"),
    )
    title = models.CharField(_("公約集の名前"), max_length=200)
    mayor = models.CharField(_("市長"), max_length=100, blank=True)
    term_start = models.DateField(_("任期の始まり"), null=True, blank=True)
    term_end = models.DateField(_("任期の終わり"), null=True, blank=True)
    levels = models.JSONField(
        _("評価の段階"), default=list, editable=False,
        help_text=_("[[記号, 意味], …] 良い順。最初の表の凡例から読み取ります。"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("公約集")
        verbose_name_plural = _("公約集")
        ordering = ["-term_start", "-created_at"]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def scale(self) -> ratings.Scale:
        return ratings.Scale.of((code, label) for code, label in self.levels)

    def as_dict(self) -> dict:
        """The manifesto as the JSON API names it."""
        return {
            "slug": self.slug,
            "title": self.title,
            "mayor": self.mayor or None,
            "term_start": self.term_start.isoformat() if self.term_start else None,
            "term_end": self.term_end.isoformat() if self.term_end else None,
            "scale": [{"code": level.code, "label": level.label} for level in self.scale],
        }

    @property
    def term_label(self) -> str:
        """``2018年12月〜2022年12月``, ``2022年12月〜``, or "" when the term is not recorded."""
        start = f"{self.term_start.year}年{self.term_start.month}月" if self.term_start else ""
        end = f"{self.term_end.year}年{self.term_end.month}月" if self.term_end else ""
        return f"{start}〜{end}" if start or end else ""


class ReportQuerySet(models.QuerySet["Report"]):
    def published(self) -> ReportQuerySet:
        """Reports the public may see: drafts are staff-only until published."""
        return self.filter(status=Report.Status.PUBLISHED)

    def for_month(self, month: str) -> ReportQuerySet:
        """Filter by ``YYYY-MM``; an unparsable month matches nothing (never raises)."""
        as_of = parse_month(month)
        return self.filter(as_of=as_of) if as_of else self.none()

    def latest_published(self) -> Report | None:
        return self.published().order_by("-as_of").first()


class ReportManager(models.Manager["Report"]):
    def get_queryset(self) -> models.QuerySet[Report]:
        return super().get_queryset().select_related("manifesto")


def parse_month(month: str) -> date | None:
    """``2022-03`` → date(2022, 3, 1); None for anything else."""
    try:
        year, number = month.split("-")
        if len(year) != 4 or len(number) != 2:
            return None
        return date(int(year), int(number), 1)
    except ValueError:
        return None


class Report(models.Model):
    """One progress table as published for an as-of month (令和4年3月現在 → 2022-03)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("下書き")
        PUBLISHED = "published", _("公開")

    manifesto = models.ForeignKey(
        Manifesto, on_delete=models.PROTECT, related_name="reports", verbose_name=_("公約集")
    )
    as_of = models.DateField(
        _("時点"), unique=True, help_text=_("表題の【令和N年M月現在】の月(1日で記録)。")
    )
    title = models.CharField(_("表題"), max_length=300)
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    source_name = models.CharField(_("元ファイル名"), max_length=255, blank=True)
    source_sha256 = models.CharField(
        _("元ファイルのSHA-256"),
        max_length=64,
        blank=True,
        help_text=_("取り込んだファイルの指紋。同じファイルの再取り込みを見分けます。"),
    )
    published_at = models.DateTimeField(_("公開日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    content_version = models.PositiveBigIntegerField(
        _("内容の版"), default=0, editable=False,
        help_text=_("この報告のどこかが変わるたびに増える番号。公開ページのキャッシュの鍵です。"),
    )

    history = HistoricalRecords()
    # Every report is read with its manifesto: its scale is needed wherever a rating is shown.
    objects = ReportManager.from_queryset(ReportQuerySet)()

    class Meta:
        verbose_name = _("進捗報告")
        verbose_name_plural = _("進捗報告")
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"{self.month_label}現在 ({self.month})"

    def get_absolute_url(self) -> str:
        return reverse("pledges:overview") + f"?report={self.month}"

    @property
    def month(self) -> str:
        """``2022-03``: how URLs and the API name a report."""
        return f"{self.as_of:%Y-%m}"

    @property
    def month_label(self) -> str:
        """``令和4年3月``."""
        return table_format.month_label(self.as_of)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def scale(self) -> ratings.Scale:
        """The levels this report rates with, best first: its manifesto's."""
        return self.manifesto.scale


class StatedTotal(models.Model):
    """A figure the city printed under the table: kept to compare, never shown as our own."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="stated_totals", verbose_name=_("進捗報告")
    )
    rating = models.CharField(_("評価"), max_length=RATING_CODE_MAX_LENGTH)
    count = models.PositiveIntegerField(_("公約数"))
    percent = models.DecimalField(_("割合(%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("公表された集計")
        verbose_name_plural = _("公表された集計")
        ordering = ["report", "rating"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "rating"], name="stated_total_once_per_rating"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report.scale.text(self.rating)} {self.count} ({self.percent}%)"


class Chapter(models.Model):
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="chapters", verbose_name=_("進捗報告")
    )
    number = models.PositiveSmallIntegerField(_("章番号"))
    title = models.CharField(_("章名"), max_length=200)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("章")
        verbose_name_plural = _("章")
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="chapter_number_per_report")
        ]

    def __str__(self) -> str:
        return f"第{self.number}章 {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("pledges:chapter", args=[self.number]) + f"?report={self.report.month}"


class Pledge(models.Model):
    """A numbered pledge 「N:【分野】title」; numbers run 1… across the chapters of a report."""

    chapter = models.ForeignKey(
        Chapter, on_delete=models.CASCADE, related_name="pledges", verbose_name=_("章")
    )
    number = models.PositiveSmallIntegerField(_("公約番号"))
    field = models.CharField(_("分野"), max_length=100, help_text=_("【】の中の分野名。"))
    title = models.CharField(_("公約名"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("公約")
        verbose_name_plural = _("公約")
        ordering = ["chapter__report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["chapter", "number"], name="pledge_number_per_chapter")
        ]

    def __str__(self) -> str:
        return f"{self.number}:【{self.field}】{self.title}"

    def get_absolute_url(self) -> str:
        return (
            reverse("pledges:pledge", args=[self.number]) + f"?report={self.chapter.report.month}"
        )


class SubItem(models.Model):
    """One promise ①②… of a pledge: its title and the pledge text (内容) as published."""

    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="sub_items", verbose_name=_("公約")
    )
    position = models.PositiveSmallIntegerField(_("番号"), help_text=_("①なら1、②なら2。"))
    title = models.CharField(_("項目名"), max_length=300, help_text=_("①などの番号を除いた題。"))
    content = BoundedTextField(_("内容"), max_length=2000)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("項目")
        verbose_name_plural = _("項目")
        ordering = ["pledge__chapter__report", "pledge__number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["pledge", "position"], name="sub_item_position_per_pledge"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pledge.number}{self.marker}{self.title}"

    def get_absolute_url(self) -> str:
        return self.pledge.get_absolute_url() + f"#item-{self.pledge.number}-{self.position}"

    @property
    def marker(self) -> str:
        """①, ②, …"""
        return table_format.circled_number(self.position)

    @property
    def code(self) -> str:
        """``4①``: how the city refers to a sub-item in footnotes."""
        return f"{self.pledge.number}{self.marker}"

    @property
    def level(self) -> ratings.Level | None:
        """The level of its rating on its report's scale (None while unrated)."""
        assessment = getattr(self, "assessment", None)
        return self.pledge.chapter.report.scale.level(assessment.rating) if assessment else None


class Footnote(models.Model):
    """A ※N note under the table, referred to by the marker on a rating cell."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="footnotes", verbose_name=_("進捗報告")
    )
    marker = models.CharField(_("記号"), max_length=10, help_text=_("※1 のような記号。"))
    # Set from the marker by every writer (``footnote_number``): sorting by the marker's text
    # would put ※10 before ※2.
    number = models.PositiveIntegerField(_("番号"), default=0, editable=False)
    text = BoundedTextField(_("注記"), max_length=2000)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("注記")
        verbose_name_plural = _("注記")
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "marker"], name="footnote_marker_per_report")
        ]

    def __str__(self) -> str:
        return f"{self.marker}：{self.text[:40]}"


def footnote_number(marker: str) -> int:
    """The N of a ``※N`` marker (0 when it holds no digit)."""
    digits = re.search(r"\d+", unicodedata.normalize("NFKC", marker))
    return int(digits[0]) if digits else 0


class Assessment(models.Model):
    """The rating of one sub-item in its report, with its progress notes; what staff edit."""

    sub_item = models.OneToOneField(
        SubItem, on_delete=models.CASCADE, related_name="assessment", verbose_name=_("項目")
    )
    rating = models.CharField(
        _("評価"),
        max_length=RATING_CODE_MAX_LENGTH,
        blank=True,
        help_text=_("報告の評価の段階のどれか。下書きでは空欄にできます。"),
    )
    footnote = models.ForeignKey(
        Footnote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessments",
        verbose_name=_("注記"),
    )
    notes_bulleted = models.BooleanField(
        _("取組状況に「・」を付ける"),
        default=True,
        help_text=_("公表時に「・」が付いていなかった単独の記述だけ外れています。"),
    )
    updated_at = models.DateTimeField(_("最終更新"), auto_now=True)
    revision = models.PositiveIntegerField(
        _("版"), default=0, editable=False,
        help_text=_("評価・注記・取組状況が変わるたびに増える番号。同時編集を見分けます。"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("評価")
        verbose_name_plural = _("評価")
        ordering = [
            "sub_item__pledge__chapter__report",
            "sub_item__pledge__number",
            "sub_item__position",
        ]

    def __str__(self) -> str:
        return f"{self.sub_item} — {self.report.scale.text(self.rating) or '—'}"

    @property
    def report(self) -> Report:
        return self.sub_item.pledge.chapter.report

    def clean(self) -> None:
        scale = self.report.scale
        if self.rating and self.rating not in scale:
            raise ValidationError(
                {"rating": _("評価は %(levels)s のどれかです。") % {"levels": scale.legend()}}
            )
        if self.footnote and self.footnote.report_id != self.sub_item.pledge.chapter.report_id:
            raise ValidationError({"footnote": _("注記は同じ進捗報告のものを選んでください。")})


class ProgressNote(models.Model):
    """One 取組状況 bullet of an assessment, in the order the city listed them."""

    # The 2022 table has at most 5 notes on a sub-item, the longest 77 characters: the limits
    # (here and on ``text``) leave a wide margin while bounding what one sub-item can hold.
    MAX_PER_ASSESSMENT = 50

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="notes", verbose_name=_("評価")
    )
    position = models.PositiveSmallIntegerField(_("順番"), default=0)
    text = BoundedTextField(
        _("取組状況"), max_length=1000, help_text=_("先頭の「・」は付けずに入力します。")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("取組状況")
        verbose_name_plural = _("取組状況")
        ordering = ["assessment", "position", "id"]

    def __str__(self) -> str:
        return self.text[:60]

    def clean(self) -> None:
        # The published table keeps one sub-item per line and one field per tab.
        if any(char in self.text for char in "\t\r\n"):
            raise ValidationError(
                {"text": _("タブや改行は使えません。記述を分けるときは行を追加してください。")}
            )
