"""Public pages cached per report and page, and revalidated by browsers with ETags.

Every report carries ``content_version``, a counter bumped in the same transaction as any change
to the report or anything in its tree (chapters, pledges, sub-items, assessments, notes,
footnotes, stated totals). A page's cache key and ETag are built from the version of the report
it shows and from the list of published reports (the month selector), so:

- an edit, an import or a publication changes the key: the next request renders afresh, and
  nothing has to be deleted from the cache (old entries age out);
- correctness does not depend on the cache being shared: a per-process cache is only colder;
- a browser sending ``If-None-Match`` gets a 304 after one small query.

Every write goes through ``pledges.editing``, which bumps the version of each report it changed
(``editing._changed``, the only place that does); this module only reads the versions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Literal, TypeVar, cast, overload

from django.conf import settings
from django.core.cache import cache
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
# What the page cache holds for a page: status, headers, body.
CachedPage = tuple[int, list[tuple[str, str]], bytes]
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

logger = logging.getLogger(__name__)


def _cache_get(key: str) -> CachedPage | None:
    # A cache outage (table missing, server down) must cost speed, never the page itself.
    try:
        return cache.get(key)
    except Exception:
        logger.warning("page cache unavailable for get", exc_info=True)
        return None


def _cache_set(key: str, value: CachedPage) -> None:
    try:
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    except Exception:
        logger.warning("page cache unavailable for set", exc_info=True)


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
    report whatever is asked): the view sees only those, so the key — the page's signature,
    the language, the path and those parameters — holds nothing else a request sends. The Host
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
        signature = page_signature(
            published_reports(request), month_asked(request, kwargs), depends
        )
        if signature is None:
            return view(request, *args, **kwargs)
        digest = hashlib.sha256(
            f"{signature}\n{get_language()}\n{request.get_full_path()}".encode()
        ).hexdigest()
        etag = quote_etag(digest[:32])
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return _revalidatable(HttpResponseNotModified(), etag)
        key = f"page:{digest}"
        stored = _cache_get(key)
        if stored is not None:
            status, headers, content = stored
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
            _cache_set(key, (200, headers, response.content))
            return _revalidatable(response, etag)
        return response

    return cast("View", wrapper)  # same arguments, same kind of response


def _revalidatable(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    # no-cache: browsers and proxies may keep the page but must ask first (a cheap 304).
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response
