"""One JSON object per log line, for log collectors reading the app's stdout."""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def configure(config: dict) -> None:
    """Django's ``LOGGING_CONFIG``: ``dictConfig`` as usual, and Python warnings (a library's
    deprecation, WhiteNoise missing a directory) logged like any message instead of printed to
    stderr as two raw lines."""
    logging.captureWarnings(True)
    logging.config.dictConfig(config)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", …}`` on one line.

    Django's request loggers pass ``status_code`` and ``request``: they become ``status``,
    ``method`` and ``path``. Other ``extra`` values are kept when JSON can hold them, else their
    ``str``. Exceptions go into ``exception`` as the formatted traceback, ``stack_info`` into
    ``stack``: a line never breaks, so collectors need no multi-line rules. gunicorn's logs use
    it too (pledgetracker/gunicorn_logging.py).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key == "request":
                entry["method"] = getattr(value, "method", None)
                entry["path"] = getattr(value, "path", None)
            elif key == "status_code":
                entry["status"] = value
            else:
                entry[key] = value if _is_json(value) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _is_json(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)
