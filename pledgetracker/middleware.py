"""Middleware of the deployment, not of the pledge pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from pledgetracker.security import from_trusted_proxy

HEALTH_PATH = "/healthz"
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST")


class TrustedProxyMiddleware:
    """Drops X-Forwarded-Proto/-For/-Host unless the request came from a trusted proxy.

    Django reads X-Forwarded-Proto (``SECURE_PROXY_SSL_HEADER``) and django-axes the client's
    address from whoever sent them; a client reaching the app server directly could otherwise
    claim HTTPS or pick the address its failed logins are counted against.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


class HealthCheckMiddleware:
    """Answers ``/healthz`` with ``ok`` before anything else runs.

    Sits first so that a load balancer's probe works over plain HTTP, with the server's IP as its
    Host header (not in ALLOWED_HOSTS) and while the database is down: it reports that this
    process serves requests, nothing more. No session, no query, no template.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in {"GET", "HEAD"}:
            response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
