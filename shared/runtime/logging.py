"""structlog JSON logging with correlation ids, and a guard that keeps personal data out of logs."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars

# Keys that may carry personal data or document references. Services must not log them at all;
# this processor is the safety net: any such key that slips through is redacted.
PII_KEYS = frozenset(
    {
        "name",
        "legal_name",
        "full_name",
        "phone",
        "phone_number",
        "email",
        "id_number",
        "date_of_birth",
        "address",
        "storage_ref",
        "document_ref",
        "token",
        "authorization",
        "password",
        "remarks",
        "note",
        "body",
    }
)


def _redact_pii(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in PII_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


_configured = False


class JsonLineFormatter(logging.Formatter):
    """One JSON object per stdlib record (aiokafka, faust, uvicorn, eventsourcing): level, logger, event,
    timestamp and the exception, escaped properly whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
        }
        repeated = getattr(record, "repeated", 0)
        if repeated:
            doc["repeated"] = repeated  # lines like this one suppressed since the last one written
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class RepeatFilter(logging.Filter):
    """Writes a library's line at most once per `window_s` for each (logger, level, message template):
    aiokafka logs a connection ERROR per consumer every 100 ms while the broker is away, which buries the
    one ERROR of our own that says a component cannot make progress. The next line written after a quiet
    spell carries how many were suppressed (`repeated`)."""

    def __init__(self, window_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s, self.clock = window_s, clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.window_s:
                self._seen[key] = (last, suppressed + 1)
                return False
            if len(self._seen) > 10_000:  # bounded: templates, not values, but a library may format eagerly
                self._seen.clear()
            self._seen[key] = (now, 0)
        record.repeated = suppressed
        return True


def configure_logging(level: str = "INFO", *, service: str | None = None) -> None:
    """JSON lines on stdout. Idempotent."""
    global _configured
    lvl = getattr(logging, level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_pii,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (aiokafka, uvicorn, eventsourcing) as JSON lines at WARNING, a repeated line at
    # most once per 30 s.
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        handler.addFilter(RepeatFilter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.WARNING)
        _configured = True
    if service:
        bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name) if name else structlog.get_logger()


__all__ = [
    "PII_KEYS",
    "JsonLineFormatter",
    "RepeatFilter",
    "bind_contextvars",
    "bound_contextvars",
    "clear_contextvars",
    "configure_logging",
    "get_logger",
]
