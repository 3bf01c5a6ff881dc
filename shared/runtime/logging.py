"""structlog JSON logging with correlation ids, and a guard that keeps personal data out of logs."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
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
    # Route stdlib logging (aiokafka, uvicorn, eventsourcing) through a plain JSON-ish formatter at WARNING.
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter('{"level":"%(levelname)s","logger":"%(name)s","event":"%(message)s"}')
        )
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
    "bind_contextvars",
    "bound_contextvars",
    "clear_contextvars",
    "configure_logging",
    "get_logger",
]
