"""/healthz answers load balancers before anything else runs."""

from __future__ import annotations

import pytest

# What a load balancer's probe may look like to the app: each case would be refused or
# redirected on any other path.
PROBES = {
    "ordinary request": ({}, {}),
    "host not in ALLOWED_HOSTS": (
        {"ALLOWED_HOSTS": ["pledges.example.org"]},
        {"HTTP_HOST": "10.0.0.7"},
    ),
    "plain HTTP while HTTPS is enforced": ({"SECURE_SSL_REDIRECT": True}, {}),
}


@pytest.mark.parametrize(("overrides", "headers"), PROBES.values(), ids=PROBES.keys())
def test_healthz_says_ok_without_touching_the_database(client, settings, overrides, headers):
    # No django_db mark: pytest-django raises on any database access.
    for name, value in overrides.items():
        setattr(settings, name, value)
    response = client.get("/healthz", **headers)
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"] == "no-store"


def test_other_paths_are_still_sent_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/api/summary.json").status_code == 301
