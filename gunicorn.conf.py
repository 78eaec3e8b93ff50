"""gunicorn settings: ``gunicorn pledgetracker.wsgi`` picks this file up from the working dir.

Everything a deployment varies comes from the environment (PORT, WEB_CONCURRENCY, …). gunicorn
listens on loopback behind nginx (deploy/nginx-site.conf.template), which buffers slow clients
and large bodies; logs go to stdout/stderr as JSON lines, the same shape as the app's (see
docs/production.md).
"""

from __future__ import annotations

import os

# Loopback: only the front server on this machine reaches the sync workers. HOST=0.0.0.0 would
# let a handful of slow clients occupy every worker.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers: each request is a few short queries; 2–4 per core is gunicorn's advice.
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) * 2 + 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Replace a worker now and then, so a slow leak never accumulates; staggered by the jitter.
# 0 turns it off (the benchmarks do, so that no restart lands inside a measurement).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Django alone decides whom to believe about X-Forwarded-* (TRUSTED_PROXIES); left to its
# defaults, gunicorn would itself turn X-Forwarded-Proto from any local client into https.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# gunicorn 25+ opens a runtime control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl):
# a second gunicorn on the machine would take it over. Signals from the process manager suffice.
control_socket_disable = True
accesslog = "-" if os.environ.get("ACCESS_LOG", "true").lower() in {"1", "true", "yes"} else None
errorlog = "-"
# The same default as the app's LOG_FORMAT (pledgetracker/settings.py).
_production = os.environ.get("DJANGO_ENV") == "production"
if os.environ.get("LOG_FORMAT", "json" if _production else "plain") == "json":
    logger_class = "pledgetracker.gunicorn_logging.JsonLogger"
