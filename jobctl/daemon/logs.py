"""Logging to stderr for systemd: plain lines, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from jobctl.redaction import redact


class TextFormatter(logging.Formatter):
    """``time level logger: message``, passwords masked (a message may quote a store or broker URL)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any),
    passwords masked.

    A record logged with ``extra={"fields": {...}}`` also carries those fields as keys (a finished
    run's job, execution id, status, ...), so that log tools need not parse the message.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                if key not in entry:
                    entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


QUIET_LIBRARIES = ("uvicorn.access", "alembic", "httpx", "httpcore")
"""Loggers kept at WARNING: a line per request, and Alembic's INFO lines of an upgrade (seven of
plugin set-up, "Context impl ..." and "Will assume transactional DDL." twice), which said nothing
that jobctl's own "upgrading store ... to schema N" and "upgraded the store's schema" lines do not.
httpx logs every request it sends at INFO with its whole URL (``HTTP Request: POST
https://hooks.slack.com/services/T000/B000/XXXX "HTTP/1.1 200 OK"``), and httpcore each step of it
at DEBUG: a webhook's URL path is its credential, which no log may hold (docs/notifications.md,
"Secrets"); the notification sender logs a failed delivery itself, naming the host only."""


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Log to stderr in ``log_format`` (``text`` or ``json``) from ``level`` on; the libraries of
    :data:`QUIET_LIBRARIES` only from WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIET_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
