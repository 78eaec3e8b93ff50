"""Only the configured front server may tell the app the scheme and the client's address."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from pledgetracker.middleware import TrustedProxyMiddleware
from pledgetracker.security import client_ip

FORWARDED = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_FOR": "forged, 203.0.113.9",
    "HTTP_X_FORWARDED_HOST": "evil.example",
}


def seen_meta(remote_addr: str) -> dict:
    seen = {}

    def view(request):
        seen.update(request.META)
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **FORWARDED)
    TrustedProxyMiddleware(view)(request)
    return seen


def test_forwarded_headers_are_dropped_from_anyone_by_default(settings):
    settings.TRUSTED_PROXIES = []
    meta = seen_meta("127.0.0.1")
    assert not set(FORWARDED) & set(meta)


def test_forwarded_headers_are_kept_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    meta = seen_meta("127.0.0.1")
    assert {key: meta[key] for key in FORWARDED} == FORWARDED


@pytest.mark.parametrize("remote_addr", ["10.0.0.2", "::1", "unix-socket", ""])
def test_forwarded_headers_are_dropped_from_other_addresses(settings, remote_addr):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "192.168.0.0/24"]
    assert not set(FORWARDED) & set(seen_meta(remote_addr))


def test_a_trusted_network_covers_its_addresses(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert seen_meta("10.1.2.3")["HTTP_X_FORWARDED_PROTO"] == "https"


def test_client_ip_is_the_address_the_proxy_saw_or_the_peer(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    factory = RequestFactory()
    behind = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="forged, 203.0.113.9")
    direct = factory.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    no_header = factory.get("/", REMOTE_ADDR="10.0.0.1")
    assert client_ip(behind) == "203.0.113.9"
    assert client_ip(direct) == "198.51.100.1"
    assert client_ip(no_header) == "10.0.0.1"


@pytest.mark.django_db
def test_only_a_trusted_proxy_can_declare_https(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    login = reverse("admin:login")
    via_proxy = client.get(login, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    direct = client.get(login, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert via_proxy.status_code == 200
    assert direct.status_code == 301
    assert direct["Location"].startswith("https://")
