"""gunicorn's access log as one JSON object per request, like the app's own log lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    """``{"time", "logger": "gunicorn.access", "method", "path", "query", "status", …}``.

    Values are JSON-escaped (a user agent can hold quotes), which gunicorn's
    ``access_log_format`` templating cannot guarantee.
    """

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "remote": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "agent": environ.get("HTTP_USER_AGENT"),
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))
