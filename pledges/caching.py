"""Public pages cached per report and page, and revalidated by browsers with ETags.

Every report carries ``content_version``, a counter bumped in the same transaction as any change
to the report or anything in its tree (chapters, pledges, sub-items, assessments, notes,
footnotes, stated totals). A page's cache key and ETag are built from the version of the report
it shows and from the list of published reports (the month selector), so:

- an edit, an import or a publication changes the key: the next request renders afresh, and
  nothing has to be deleted from the cache (old entries age out);
- correctness does not depend on the cache being shared: a per-process cache is only colder;
- a browser sending ``If-None-Match`` gets a 304 after one small query.

With a cache that all processes share (database, Redis) a hit does not read the reports at all:
the cache holds a *generation*, a token replaced after every committed write
(``pages_changed``), and a page's entry and ETag are valid for one generation. The generation
and the page are fetched in one ``get_many`` — one query with the database cache, none with
Redis — and a 304 needs only the generation. A per-process cache (locmem) cannot see another
process's writes, so there the pages keep being stamped with the versions read from the
database (one query).

Every write goes through ``pledges.editing``, which bumps the version of each report it changed
and, once committed, the generation (``editing._changed``, the only place that does both).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Literal, TypeVar, cast, overload

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language

from .choosing import month_asked, previous_report, published_reports, shown_report
from .models import Report

# --------------------------------------------------------------------------------------------
# Pages

Depends = Literal["report", "previous", "all"]
# What the page cache holds for a page: the stamp it is valid for, status, headers, body.
CachedPage = tuple[str, int, list[tuple[str, str]], bytes]
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

logger = logging.getLogger(__name__)


def _cache_get_many(keys: list[str]) -> dict:
    # A cache outage (table missing, server down) must cost speed, never the page itself.
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("page cache unavailable for get", exc_info=True)
        return {}


def _cache_set(key: str, value: CachedPage) -> None:
    try:
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    except Exception:
        logger.warning("page cache unavailable for set", exc_info=True)


GENERATION_KEY = "pages:generation"


def shares_generation() -> bool:
    """Whether the cache is one all processes see, so a generation replaced by any of them
    reaches every other (not a per-process locmem, nor the dummy cache)."""
    try:
        return not isinstance(caches["default"], (LocMemCache, DummyCache))
    except Exception:  # a backend that cannot even be set up: the pages render uncached
        logger.warning("page cache unavailable", exc_info=True)
        return False


def pages_changed() -> None:
    """Start a new generation: every page cached before it is obsolete.

    ``editing._changed`` runs this once its transaction has committed, so a request that read
    the data before the commit can only have stored it under the old generation.
    """
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:
        # The pages cached before this write may be served until they expire.
        logger.error("page cache generation not replaced after a write", exc_info=True)


def _generation() -> str | None:
    """The current generation, starting one when the cache has none (first request, or
    evicted); None when the cache does not answer."""
    try:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)  # loses to a concurrent one: fine
        return cache.get(GENERATION_KEY)
    except Exception:
        logger.warning("page cache unavailable for the generation", exc_info=True)
        return None


def only_known_parameters(request: HttpRequest, names: Iterable[str]) -> None:
    """Strip ``request``'s query down to ``names``, one value each, in a fixed order.

    What a page shows and how it is cached then depend on these alone: a junk parameter can
    neither end up in the page's links (poisoning what later readers get) nor give each
    request a key of its own (forcing every request to render).
    """
    query = QueryDict(mutable=True)
    for name in sorted(names):
        values = request.GET.getlist(name)
        if values:
            query[name] = values[-1]  # the one a view's GET.get would have used
    request.META["QUERY_STRING"] = query.urlencode()
    request.GET = QueryDict(request.META["QUERY_STRING"])  # immutable, as Django makes it


def is_signed_in(request: HttpRequest) -> bool:
    """A request of a signed-in user, whose pages are never cached nor served from the cache.

    Only a session that exists counts: a made-up session cookie costs one query to look up and
    is then served from the cache like any anonymous request.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated)


def page_signature(
    reports: list[Report], month: str | None, depends: Depends = "report"
) -> str | None:
    """What a page's content is a function of, as text; None when the month is not published.

    ``depends="report"``: the shown report's version and the published months (the selector).
    ``depends="previous"``: also the version of the report before it in its manifesto, for
    pages that flag what moved since then (a later report's edits leave them be).
    ``depends="all"``: every published report's version, for pages comparing reports.
    """
    shown = shown_report(reports, month)
    if shown is None:
        return None
    if depends == "all":
        parts = [f"{report.pk}.{report.content_version}" for report in reports]
    elif depends == "previous":
        earlier = previous_report(shown, reports)
        parts = [f"{shown.pk}.{shown.content_version}", *(str(report.pk) for report in reports)]
        if earlier is not None:
            parts.append(f"{earlier.pk}.{earlier.content_version}")
    else:
        parts = [f"{shown.pk}.{shown.content_version}", *(str(report.pk) for report in reports)]
    return f"{shown.pk}|{','.join(parts)}"


REPORT_PARAMETER = ("report",)


@overload
def cached_page(
    view: View, *, depends: Depends = ..., parameters: tuple[str, ...] = ...
) -> View: ...


@overload
def cached_page(
    view: None = None, *, depends: Depends = ..., parameters: tuple[str, ...] = ...
) -> Callable[[View], View]: ...


def cached_page(
    view: View | None = None,
    *,
    depends: Depends = "report",
    parameters: tuple[str, ...] = REPORT_PARAMETER,
) -> View | Callable[[View], View]:
    """Decorate a public GET view: cache its 200 responses and answer revalidation with 304.

    Usable as ``@cached_page`` or ``@cached_page(depends="all")``. ``parameters`` are the query
    parameters the view reads (``?report=`` by default; ``()`` for views that show the newest
    report whatever is asked): the view sees only those, so the key — the language, the path
    and those parameters — holds nothing else a request sends; the entry and the ETag are valid
    for one stamp (the generation, or the page's signature). The Host
    header is not in it: nothing cached may depend on it (absolute links come from
    ``SITE_URL``). Signed-in users bypass the cache both ways, so nothing staff-only is ever
    stored or served from it. Unknown months go straight to the view, which answers 404.
    """
    if view is None:
        return lambda inner: cached_page(inner, depends=depends, parameters=parameters)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        only_known_parameters(request, parameters)
        if is_signed_in(request):
            return view(request, *args, **kwargs)
        key = "page:" + hashlib.sha256(
            f"{get_language()}\n{request.get_full_path()}".encode()
        ).hexdigest()
        if shares_generation():
            found = _cache_get_many([GENERATION_KEY, key])
            stamp = found.get(GENERATION_KEY) or _generation()
        else:
            found = _cache_get_many([key])
            stamp = page_signature(
                published_reports(request), month_asked(request, kwargs), depends
            )
        if stamp is None:  # an unknown month (the view answers 404), or no cache
            return view(request, *args, **kwargs)
        etag = quote_etag(hashlib.sha256(f"{stamp}\n{key}".encode()).hexdigest()[:32])
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return _revalidatable(HttpResponseNotModified(), etag)
        stored = found.get(key)
        if stored is not None and stored[0] == stamp:
            _stamp, status, headers, content = stored
            response: HttpResponseBase = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return _revalidatable(response, etag)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        # A page that used a CSRF token or sets a cookie is someone's own: never share it.
        personal = bool(response.cookies) or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        if response.status_code == 200 and isinstance(response, HttpResponse) and not personal:
            headers = [(name, value) for name, value in response.items()]
            _cache_set(key, (stamp, 200, headers, response.content))
            return _revalidatable(response, etag)
        return response

    return cast("View", wrapper)  # same arguments, same kind of response


def _revalidatable(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    # no-cache: browsers and proxies may keep the page but must ask first (a cheap 304).
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response
