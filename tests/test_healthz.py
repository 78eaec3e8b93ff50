"""/healthz answers load balancers before anything else runs."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_healthz_says_ok_without_any_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_a_host_not_in_allowed_hosts(client, settings):
    settings.ALLOWED_HOSTS = ["pledges.example.org"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").content == b"ok"


def test_healthz_answers_plain_http_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/summary.json").status_code == 301


def test_healthz_does_not_touch_the_database_at_all(client):
    # No django_db mark: pytest-django raises on any database access.
    assert client.get("/healthz").content == b"ok"
