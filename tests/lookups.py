"""What tests look up to check a result: rows in the database, figures from the API, changes."""

from __future__ import annotations

import json
import re

from django.apps import apps
from django.db.models import QuerySet
from django.test import Client

from pledges import changes
from pledges.models import Assessment, Report


def assessments(report: Report, pledge: int, position: int) -> QuerySet[Assessment]:
    """The assessment of sub-item ``pledge``-``position`` (4① is 4, 1) in ``report``, as a
    queryset, for an ``update()`` that bypasses signals and history."""
    return Assessment.objects.filter(
        sub_item__pledge__chapter__report=report,
        sub_item__pledge__number=pledge,
        sub_item__position=position,
    )


def assessment(report: Report, pledge: int, position: int) -> Assessment:
    """The assessment of sub-item ``pledge``-``position`` (4① is 4, 1) in ``report``."""
    return assessments(report, pledge, position).get()


def rating_of(report: Report, pledge: int, position: int) -> str:
    """The rating of sub-item ``pledge``-``position`` in ``report`` as stored now."""
    return assessment(report, pledge, position).rating


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history tables included: what an import could write."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("pledges").get_models()
    }


def summary(client: Client, url: str = "/api/summary.json") -> dict:
    """The JSON summary a citizen's ``client`` gets now."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return json.loads(response.content)


def counts(summary_json: dict) -> dict[str, int]:
    """``{"A": 8, …}`` from a JSON summary."""
    return {rating["code"]: rating["count"] for rating in summary_json["ratings"]}


def codes(group: tuple[changes.ItemChange, ...]) -> list[str]:
    """The sub-item codes (``4①``) of one group of a comparison, in its order."""
    return [change.current.code for change in group]


def text_of(html: str) -> str:
    """The page's text, tags dropped and white space collapsed, to read it like a person."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
