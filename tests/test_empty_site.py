"""An installation with no report yet: the pages say so, the API answers 404."""

from __future__ import annotations

import pytest
from pytest_django.asserts import assertContains

pytestmark = pytest.mark.django_db


def test_home_page_of_an_empty_installation_says_no_report_yet(client):
    response = client.get("/")
    assert response.status_code == 200
    assertContains(response, "進捗報告はまだ公開されていません")
    assert client.get("/chapters/1/").status_code == 404
    assert client.get("/", {"report": "2022-03"}).status_code == 404


def test_no_report_yet_is_404(client):
    assert client.get("/api/summary.json").status_code == 404


def test_changes_page_without_any_report_is_friendly_too(client):
    response = client.get("/changes/")
    assert response.status_code == 200
    assert "公表されている進捗報告はまだありません。" in response.content.decode()


def test_follow_page_works_before_anything_is_published(client):
    assertContains(client.get("/follow/"), "/feed/")
