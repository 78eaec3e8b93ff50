"""Security decisions that need the request: whom to believe about the client, login throttling.

``from_trusted_proxy`` is the one place that decides whether X-Forwarded-* headers may be read;
the rest is glue for django-axes (the client's address, per-combination limits, a backend tests
can live with).
"""

from __future__ import annotations

import ipaddress
from functools import cache

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy) for proxy in proxies)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the connection came from one of ``settings.TRUSTED_PROXIES``."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The address a login attempt came from.

    Behind our proxy it is the last X-Forwarded-For entry: the address the proxy itself saw
    (nginx overwrites the header with it). Anything further left was written by the client and
    could be forged to dodge the throttle. Without a trusted proxy it is REMOTE_ADDR.
    """
    if from_trusted_proxy(request):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


class AxesPerCombinationHandler(AxesDatabaseHandler):
    """django-axes' database handler with a failure limit per lockout parameter combination:
    ``LOGIN_FAILURES_PER_USER`` for combinations with the username, else
    ``LOGIN_FAILURES_PER_ADDRESS``.

    django-axes locks when the largest count over ``AXES_LOCKOUT_PARAMETERS`` reaches the single
    ``AXES_FAILURE_LIMIT``, so a per-address count (the sum over all usernames) would always
    reach it first. Here each count is scaled to that limit before taking the largest:
    ``count * AXES_FAILURE_LIMIT // own_limit`` reaches ``AXES_FAILURE_LIMIT`` exactly when
    ``count`` reaches ``own_limit``. The stored counts stay real; only the comparison changes.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        scaled = []
        for names, attempts in zip(
            _combinations(request, credentials),
            self.get_user_attempts(request, credentials),
            strict=True,
        ):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            limit = (
                settings.LOGIN_FAILURES_PER_USER if "username" in names
                else settings.LOGIN_FAILURES_PER_ADDRESS
            )
            scaled.append(count * settings.AXES_FAILURE_LIMIT // limit)
        return max(scaled)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful login, forget only the failures counted with that username:
        logging in to one's own account must not clear an address's guesses at others'."""
        deleted = 0
        for names, attempts in zip(
            _combinations(request, credentials),
            self.filter_user_attempts(request, credentials),
            strict=True,
        ):
            if "username" in names:
                deleted += attempts.delete()[0]
        return deleted


def _combinations(request, credentials) -> list[set[str]]:
    return [
        {parameter} if isinstance(parameter, str) else set(parameter)
        for parameter in get_lockout_parameters(request, credentials)
    ]


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
