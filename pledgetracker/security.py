"""Login throttling glue for django-axes: the client's address and a backend tests can live with."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address a login attempt came from.

    With ``TRUSTED_PROXY_COUNT`` = n proxies in front, the n-th address from the right of
    X-Forwarded-For is the one our own proxy saw; anything further left is client-supplied and
    could be forged to dodge the throttle. Without proxies it is REMOTE_ADDR.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


class AxesRequestBackend(AxesStandaloneBackend):
    """Refuses logins of a locked-out username/address pair; authenticates nobody itself.

    Logins over HTTP always pass the request (the admin's login form does), so they are counted
    and throttled. Logins without a request — ``Client.login`` in tests, the shell — have no
    address to throttle and are left to the next backend instead of raising.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
