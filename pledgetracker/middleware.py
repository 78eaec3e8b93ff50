"""Middleware of the deployment, not of the pledge pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEALTH_PATH = "/healthz"


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
