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
Redis — or, while the process still holds the page it decoded for that generation, only the
generation. A per-process cache (locmem) cannot see another
process's writes, so there the pages keep being stamped with the versions read from the
database (one query).

Every write goes through ``pledges.editing``, which bumps the version of each report it changed
and, once committed, the generation (``editing._changed``, the only place that does both).

With a shared cache, ``PageCacheMiddleware`` (right after SecurityMiddleware) answers the hits of
anonymous requests before the rest of the stack runs — no session, no URL dispatch to the view,
no CSP or locale middleware — and stores each page as the whole stack sent it, so a hit carries
the very headers of the miss that stored it. It decides only what it can be sure of; anything
else goes the full way to ``cached_page``, which does the same lookup behind the stack.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache, wraps
from typing import Literal, TypeVar, cast, overload
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import DisallowedHost, TooManyFieldsSent
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.http.response import HttpResponseBase
from django.urls import Resolver404, URLResolver, get_resolver
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language, get_language_from_request

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


class _DecodedPages:
    """Pages this process has read from the shared cache, decoded, up to ``limit`` bytes of
    bodies; the least recently used go first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; runserver not

    def get(self, key: str) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def keep(self, key: str, page: CachedPage) -> None:
        with self._lock:
            replaced = self._pages.pop(key, None)
            self._size -= len(replaced[3]) if replaced else 0
            self._pages[key] = page
            self._size += len(page[3])
            while self._size > self.limit and self._pages:
                _key, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped[3])

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0


# While a page this process has read is current, a hit reads only the generation, a small row,
# instead of the page's pickled and base64-encoded bytes, whose decoding grows with the page
# (0.04 ms for a 13 kB page, 0.12 ms for /items/'s 38 kB: more than the query itself).
_decoded = _DecodedPages(limit=16 * 1024 * 1024)


@receiver(setting_changed)
def _forget_decoded_pages(setting: str, **kwargs: object) -> None:
    # Another cache (tests switch them) holds other pages and generations.
    if setting == "CACHES":
        _decoded.clear()


def _generation_and_page(key: str) -> tuple[str | None, CachedPage | None]:
    """The current generation and the page stored under ``key``; (None, None) when the cache
    does not answer.

    One query with the database cache: the generation alone while this process holds the page
    for it, else ``get_many`` of both — after ``get`` of the generation for the first request
    of a page this process held before a write.
    """
    held = _decoded.get(key)
    if held is not None:
        if _cache_get_many([GENERATION_KEY]).get(GENERATION_KEY) == held[0]:
            return held[0], held
    found = _cache_get_many([GENERATION_KEY, key])
    generation, page = found.get(GENERATION_KEY), found.get(key)
    if page is not None and page[0] == generation:
        _decoded.keep(key, page)
    return generation, page


def only_known_parameters(request: HttpRequest, names: Iterable[str]) -> None:
    """Strip ``request``'s query down to ``names`` (``known_query``).

    What a page shows and how it is cached then depend on these alone: a junk parameter can
    neither end up in the page's links (poisoning what later readers get) nor give each
    request a key of its own (forcing every request to render).
    """
    query = request.META.get("QUERY_STRING", "")
    if not query:
        return  # nothing to strip
    known = known_query(query, names)
    if known != query:
        request.META["QUERY_STRING"] = known
        request.GET = QueryDict(known)  # immutable, as Django makes it


def known_query(query: str, names: Iterable[str]) -> str:
    """``query`` with only the parameters ``names``, one value each — the last, which a
    view's ``GET.get`` would use — in a fixed order.

    Parsed as Django parses a query (blank values kept, at most
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` of them) without building a QueryDict: a cache hit
    only needs the text.
    """
    wanted = frozenset(names)
    last: dict[str, str] = {}
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True,
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError as error:  # too many: what QueryDict raises, a 400
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded "
            "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        ) from error
    for name, value in pairs:
        if name in wanted:
            last[name] = value
    return urlencode(sorted(last.items()))


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


def page_key(request: HttpRequest, language: str) -> str:
    """The cache key of the page ``request`` asks for in ``language``, once its query holds
    only the page's parameters (``only_known_parameters``)."""
    return "page:" + hashlib.sha256(f"{language}\n{request.get_full_path()}".encode()).hexdigest()


def page_etag(stamp: str, key: str) -> str:
    """The ETag of the page stored under ``key`` while ``stamp`` is current."""
    return quote_etag(hashlib.sha256(f"{stamp}\n{key}".encode()).hexdigest()[:32])


def stored_response(stored: CachedPage) -> HttpResponse:
    """The response a page was stored from, rebuilt: its status, headers and body."""
    _stamp, status, headers, content = stored
    return HttpResponse(content, status=status, headers=dict(headers))


# A 304 has no body: the fields describing the stored one are not repeated.
BODY_FIELDS = frozenset({"content-type", "content-disposition", "content-length"})


def not_modified(stored: CachedPage) -> HttpResponseNotModified:
    """A 304 for a stored page, with the headers the whole stack gives a 304 of it."""
    response = HttpResponseNotModified()
    for name, value in stored[2]:
        if name.lower() not in BODY_FIELDS:
            response[name] = value
    response["Content-Length"] = "0"  # as CommonMiddleware sets on every body-less response
    return response


def _store(key: str, stamp: str, response: HttpResponse) -> None:
    _cache_set(key, (stamp, response.status_code, list(response.items()), response.content))


REPORT_PARAMETER = ("report",)

# Set on a request by PageCacheMiddleware: it stores the page itself, with every header the
# stack adds on the way out, so the view's decorator must not store the view's bare response.
STORED_BY_MIDDLEWARE = "_page_stored_by_middleware"
# Set by ``cached_page`` on a response to be stored: (key, stamp).
TO_STORE = "_page_to_store"
# Set by ``cached_page`` on the view it returns (and copied by outer ``functools.wraps``
# decorators such as ``require_safe``): the query parameters the view reads.
PARAMETERS = "page_cache_parameters"


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

    ``PageCacheMiddleware`` serves this view's hits without calling it: only decorators that
    let every GET through (``require_safe``) may wrap the view returned here.
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
        key = page_key(request, get_language())
        stored: CachedPage | None
        if shares_generation():
            generation, stored = _generation_and_page(key)
            stamp = generation or _generation()
        else:
            stored = _cache_get_many([key]).get(key)
            stamp = page_signature(
                published_reports(request), month_asked(request, kwargs), depends
            )
        if stamp is None:  # an unknown month (the view answers 404), or no cache
            return view(request, *args, **kwargs)
        etag = page_etag(stamp, key)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return _revalidatable(HttpResponseNotModified(), etag)
        if stored is not None and stored[0] == stamp:
            return _revalidatable(stored_response(stored), etag)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        # A page that used a CSRF token or sets a cookie is someone's own: never share it.
        personal = bool(response.cookies) or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        if response.status_code == 200 and isinstance(response, HttpResponse) and not personal:
            _revalidatable(response, etag)
            if getattr(request, STORED_BY_MIDDLEWARE, False):
                setattr(response, TO_STORE, (key, stamp))
            else:
                _store(key, stamp, response)
        return response

    setattr(wrapper, PARAMETERS, parameters)
    return cast("View", wrapper)  # same arguments, same kind of response


def _revalidatable(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    # no-cache: browsers and proxies may keep the page but must ask first (a cheap 304).
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response


# --------------------------------------------------------------------------------------------
# Hits before the middleware stack


@lru_cache(maxsize=1024)
def _page_parameters(resolver: URLResolver, path: str) -> tuple[str, ...] | None:
    """The query parameters of the cached page at ``path``; None for any other path.

    Remembered per path: resolving costs about as much as the rest of a hit's checks, and the
    same few paths are asked again and again (a path's view only changes with the URLconf,
    which a new ``resolver`` stands for).
    """
    try:
        match = resolver.resolve(path)
    except Resolver404:
        return None
    return getattr(match.func, PARAMETERS, None)


def front_key(request: HttpRequest) -> str | None:
    """The key ``cached_page`` will give ``request``, for an anonymous GET or HEAD of a cached
    page on an allowed host; None when that is not certain here, before the middleware stack.

    Strips the request's query to the page's parameters, as the view's decorator would.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    # With a session cookie, only the session can tell whether the reader is signed in.
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    try:
        request.get_host()
    except DisallowedHost:  # CommonMiddleware answers it with 400
        return None
    parameters = _page_parameters(get_resolver(), request.path_info)
    if parameters is None:
        return None
    only_known_parameters(request, parameters)
    # What LocaleMiddleware activates on a site without i18n_patterns: the language cookie,
    # else Accept-Language, else LANGUAGE_CODE.
    return page_key(request, get_language_from_request(request))


class PageCacheMiddleware:
    """Serves pages from the shared cache before the rest of the stack, and stores them after it.

    Sits right after SecurityMiddleware, which still redirects to HTTPS and adds its headers to
    every answer. A hit is one ``get_many``: no session, no CSRF, no view, no template. What
    ``front_key`` is not sure of, a stale or missing page, and a cache that does not answer all
    go the full way; ``cached_page`` then renders (or serves, for a made-up session cookie) and
    leaves the storing to this middleware, which stores the response of an anonymous request
    as the stack has finished it (CSP, X-Frame-Options, Vary, Content-Language…) — what the
    hits then send unchanged. A per-process cache (locmem) is left to ``cached_page`` alone:
    its pages are stamped by the reports' versions, read from the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not shares_generation():
            return self.get_response(request)
        setattr(request, STORED_BY_MIDDLEWARE, True)
        key = front_key(request)
        if key is None:
            return self.get_response(request)
        generation, stored = _generation_and_page(key)
        if generation is not None and stored is not None and stored[0] == generation:
            asked = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
            if page_etag(generation, key) in asked:
                return not_modified(stored)
            return stored_response(stored)
        response = self.get_response(request)
        to_store: tuple[str, str] | None = getattr(response, TO_STORE, None)
        if to_store is not None and not response.cookies and isinstance(response, HttpResponse):
            stored_key, stamp = to_store
            _store(stored_key, stamp, response)
        return response
