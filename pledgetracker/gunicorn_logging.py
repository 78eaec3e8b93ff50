"""gunicorn's logs as one JSON object per line, in the shape of the app's own log lines."""

from __future__ import annotations

from gunicorn.glogging import Logger

from pledgetracker.logging import JsonFormatter


class JsonLogger(Logger):
    """Both of gunicorn's logs through the app's ``JsonFormatter``.

    The error log (start-up, worker boots and timeouts, exceptions with their traceback in
    ``exception``) keeps gunicorn's messages. Each access is ``{"logger": "gunicorn.access",
    "method", "path", "query", "status", "bytes", "duration_ms", "remote", "forwarded_for",
    "agent", …}``; values are JSON-escaped (a user agent can hold quotes), which gunicorn's
    ``access_log_format`` templating cannot guarantee.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        # After an exception gunicorn answers 500 with an empty environ; the request still knows.
        method = environ.get("REQUEST_METHOD") or getattr(req, "method", None)
        path = environ.get("PATH_INFO") or getattr(req, "path", None)
        self.access_log.info(
            "%s %s %s", method, path, status,
            extra={
                "remote": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                "method": method,
                "path": path,
                "query": environ.get("QUERY_STRING") or None,
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "agent": environ.get("HTTP_USER_AGENT"),
            },
        )
