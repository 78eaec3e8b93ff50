"""Settings for いるま公約進捗.

One module for every environment: local defaults are safe and need nothing (SQLite, DEBUG on,
localhost only); production is selected with ``DJANGO_ENV=production`` and then refuses to start
without the values it cannot guess. Every value read from the environment goes through a small
helper that fails loudly on a malformed value instead of silently falling back.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV={DJANGO_ENV!r}: expected development or production.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
else:
    SECRET_KEY = env_str(
        "SECRET_KEY", "django-insecure-local-development-key-not-for-production-use"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])


def site_url_from_env() -> str:
    """``SITE_URL``: where readers reach the site, e.g. ``https://pledges.example.jp``.

    Absolute links (the Atom feed's) are made from it and never from the request's Host
    header, which any client may set: a page cached for everyone must not carry one reader's
    host. In production it defaults to https:// and the first ALLOWED_HOSTS entry.
    """
    first = ALLOWED_HOSTS[0] if ALLOWED_HOSTS else ""
    plain = first and not first.startswith((".", "*"))
    default = (f"https://{first}" if plain else None) if PRODUCTION else "http://127.0.0.1:8000"
    url = env_str("SITE_URL", default).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"SITE_URL={url!r}: expected a URL like https://example.jp.")
    return url


SITE_URL = site_url_from_env()

INSTALLED_APPS = [
    # django.contrib.admin with the site of pledgetracker/admin_site.py (pledge data first,
    # django-axes' login records for superusers only).
    "pledgetracker.admin_site.PledgeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_filters",
    "django_tables2",
    "simple_history",
    "pledges",
]

MIDDLEWARE = [
    # Before anything reads the scheme or the client's address: X-Forwarded-* headers are
    # dropped unless the request came from one of TRUSTED_PROXIES.
    "pledgetracker.middleware.TrustedProxyMiddleware",
    # A load balancer's probe must not depend on the Host header, HTTPS or the database.
    "pledgetracker.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Cache hits of anonymous readers are answered here, after the HTTPS redirect and with
    # SecurityMiddleware's headers, but without the rest of the stack; pages are stored on their
    # way back through it, with every header the middleware below has added.
    "pledges.caching.PageCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "pledgetracker.database_busy.DatabaseBusyMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pledgetracker.urls"
WSGI_APPLICATION = "pledgetracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite next to the code by default, so `runserver` works on a fresh checkout;
# DATABASE_URL (postgres://user:pass@host:5432/name) switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file: WAL lets readers go on while an import writes,
    # IMMEDIATE takes the write lock at BEGIN (waiting up to `timeout` s) instead of failing
    # with "database is locked" when a reading transaction tries to start writing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A save that meets rows an import holds waits this long, then gets the "busy, try again"
    # page (pledgetracker.database_busy) instead of holding a worker until gunicorn kills it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={env_int('DB_LOCK_TIMEOUT_SECONDS', 10) * 1000}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Japanese first; English can follow through the locale files in locale/.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The header's language links (pledges.views.language) keep the choice for a year, not a session.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Only production runs collectstatic. Elsewhere WhiteNoise serves from the apps and
# STATICFILES_DIRS through the finders, looking files up per request (its development mode), and
# so never expects STATIC_ROOT to exist — also when DEBUG is off, as under the test runner.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --------------------------------------------------------------------------------------------
# Production hardening. Everything below is on in production and can be loosened by environment
# only where a deployment really differs (TLS ended by a proxy, a staging host without HSTS).

# Where the admin lives, e.g. ADMIN_URL=staff-7f3a/ to keep it off the well-known path.
ADMIN_URL = env_str("ADMIN_URL", "admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured(f"ADMIN_URL={ADMIN_URL!r}: expected a path like 'admin/'.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
# Addresses (or networks) of the front server, e.g. TRUSTED_PROXIES=127.0.0.1,::1 with nginx on
# the same machine. Only requests from these may say which scheme and client address they carry
# (X-Forwarded-Proto/-For); TrustedProxyMiddleware drops those headers from anyone else, so a
# client connecting directly can neither claim HTTPS nor choose the address it is throttled by.
# Empty (the default) trusts nobody.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network."
        ) from None
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): no inline script or style anywhere, admin included —
# templates keep CSS and JS in static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes): an address gets 429 until the cool-off ends after
# LOGIN_FAILURES_PER_USER failed logins for one username, or LOGIN_FAILURES_PER_ADDRESS failed
# logins across usernames (guessing many accounts). A success resets its username's count.
AUTHENTICATION_BACKENDS = [
    "pledgetracker.security.AxesRequestBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# django-axes compares its largest count with one limit; the handler scales the per-address
# count to that limit so that each combination locks at its own threshold.
AXES_HANDLER = "pledgetracker.security.AxesPerCombinationHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_USER
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "pledgetracker.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "lockout.html"


def cache_from_url(url: str) -> dict:
    """``CACHES["default"]`` from a URL: ``db://table``, ``locmem://``, ``dummy://`` or
    ``redis://host:6379/0`` (the last needs the ``redis`` package)."""
    parts = urlsplit(url)
    if parts.scheme == "db" and parts.netloc:
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": parts.netloc,
                "OPTIONS": {"MAX_ENTRIES": 5000}}
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": parts.netloc or "pledges", "OPTIONS": {"MAX_ENTRIES": 5000}}
    if parts.scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if parts.scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(
        f"CACHE_URL={url!r}: expected db://<table>, locmem://, dummy:// or redis://host:port/db."
    )


# Several app servers share one PostgreSQL and keep nothing of their own: sessions live in the
# database (Django's default engine) and so, in production, does the cache (`createcachetable`).
# A per-process cache would still be correct (keys carry the report's version), only colder.
CACHES = {
    "default": cache_from_url(
        env_str("CACHE_URL", "db://pledges_cache" if PRODUCTION else "locmem://")
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# How long a rendered public page is kept; the version in its key already invalidates it.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 60 * 60 * 24)

# Structured logs: one JSON object per line on stdout in production (LOG_FORMAT=plain to read
# them by eye); gunicorn.conf.py writes its access log in the same shape.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected json or plain.")
LOGGING_CONFIG = "pledgetracker.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "pledgetracker.logging.JsonFormatter"},
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers would print 5xx a second time in another shape.
        "django": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO"),
                   "propagate": False},
        # Its start-up banner would open every process's log.
        "axes": {"level": "WARNING"},
    },
}
