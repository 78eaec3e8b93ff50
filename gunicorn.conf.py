"""gunicorn settings: ``gunicorn pledgetracker.wsgi`` picks this file up from the working dir.

Everything a deployment varies comes from the environment (PORT, WEB_CONCURRENCY, …); logs go
to stdout as JSON lines, the same shape as the app's (see docs/production.md).
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
# Sync workers: each request is a few short queries; 2–4 per core is gunicorn's advice.
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) * 2 + 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Replace a worker now and then, so a slow leak never accumulates; staggered by the jitter.
# 0 turns it off (the benchmarks do, so that no restart lands inside a measurement).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The proxy in front sets X-Forwarded-*; addresses allowed to do so (the load balancer's).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-" if os.environ.get("ACCESS_LOG", "true").lower() in {"1", "true", "yes"} else None
errorlog = "-"
logger_class = "pledgetracker.gunicorn_logging.JsonAccessLogger"
