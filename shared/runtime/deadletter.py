"""Dead letters: a record the service can never apply goes to its dead-letter topic with the reason and its
original coordinates (topic, partition, offset, key, the raw value unless it is too big to carry: see
INLINE_VALUE_MAX), and the consumer keeps going."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.events import ContractError, Event

from .logging import get_logger
from .metrics import EVENTS_DEAD_LETTERED

log = get_logger("deadletter")


@dataclass(frozen=True)
class Inbound:
    """One record, with where it came from (whatever client fetched it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int


class RawSender(Protocol):
    async def send_raw(self, topic: str, value: bytes, key: bytes | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None: ...


class DeadLetters:
    """Publishes dead-letter records of one consumer to one topic (and counts, logs, meters them)."""

    def __init__(self, producer: RawSender, topic: str, *, service: str, consumer: str):
        self.producer, self.topic, self.service, self.consumer = producer, topic, service, consumer
        self.count = 0

    async def send(self, inbound: Inbound, exc: BaseException, *, stage: str, event: Event | None = None) -> None:
        reason = "contract" if isinstance(exc, ContractError) else "handler"
        record = dead_letter_record(inbound, exc, consumer=self.consumer, service=self.service, stage=stage)
        await self.producer.send_raw(
            self.topic, json.dumps(record).encode(), key=inbound.key,
            headers=[("dlq_reason", reason.encode()), ("original_topic", inbound.topic.encode())],
        )
        self.count += 1
        EVENTS_DEAD_LETTERED.labels(self.service, self.consumer, inbound.topic, reason).inc()
        log.error("event_dead_lettered", topic=inbound.topic, partition=inbound.partition, offset=inbound.offset,
                  event_id=str(event.event_id) if event else None, reason=reason, stage=stage,
                  error_type=type(exc).__name__,
                  error=str(exc)[:300] if isinstance(exc, ContractError) else type(exc).__name__)


# A dead letter has to fit in a Kafka record (1 MiB by default: the producer's max_request_size, the broker's
# message.max.bytes) whatever the size of the record it holds, which may itself be up to that limit
# (EVENTS_MAX_RECORD_BYTES): otherwise the consumer cannot dead-letter it and stops on it, and meets it again
# after every restart (the fault suite's 900 KB poison record stopped the customer and KYC workers). So the
# value travels once, base64, only up to INLINE_VALUE_MAX (its text beside it only up to TEXT_MAX); a bigger
# one is named by its size and sha256 and stays at its original coordinates, where re-drive reads it.
INLINE_VALUE_MAX = 640 * 1024  # base64: 854 KiB, leaving room for the rest of the record
TEXT_MAX = 64 * 1024


def dead_letter_record(inbound: Inbound, exc: BaseException, *, consumer: str, service: str,
                       stage: str) -> dict[str, Any]:
    value = inbound.value or b""
    text: str | None = None
    if len(value) <= TEXT_MAX:
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = None
    return {
        "original": {
            "topic": inbound.topic,
            "partition": inbound.partition,
            "offset": inbound.offset,
            "timestamp": inbound.timestamp,
            "key": inbound.key.decode(errors="replace") if inbound.key else None,
        },
        "error": {
            "stage": stage,
            "type": type(exc).__name__,
            "field": getattr(exc, "field", None),
            "reason": getattr(exc, "reason", None),  # ContractError's code, e.g. unknown_schema_version
            "message": str(exc)[:2000],
        },
        "consumer": consumer,
        "service": service,
        "failed_at": datetime.now(UTC).isoformat(),
        "value_bytes": len(value),
        "value_sha256": hashlib.sha256(value).hexdigest(),
        "value_b64": base64.b64encode(value).decode() if len(value) <= INLINE_VALUE_MAX else None,
        "value_text": text,
    }
