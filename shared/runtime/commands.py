"""Nothing is stored that cannot be applied and published.

`guard_outgoing(app, mapper, service=...)` makes every recording of the application (API commands and
consumer batches alike) first map its new domain events through the outbox mapper and build the contract
envelopes the relay will publish — validating every payload field (explicit nulls, lengths, formats) and
the envelope's bounded fields (correlation and causation ids). An event that fails raises
`OutgoingRejected` before anything commits: the API answers 422 naming the field, a consumer
dead-letters the record that caused it (it is a `PermanentError`), and the relay never meets an event it
cannot publish.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from shared.events import registry
from shared.events.registry import ContractError

from .errors import PermanentError

_PROBE_ID = uuid.UUID(int=0)


class OutgoingRejected(PermanentError):
    """A command or message would store an event whose published contract event is invalid."""

    def __init__(self, field: str, message: str, event_type: str | None = None):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.event_type = field, message, event_type


def _rejection(exc: Exception, event_type: str | None) -> OutgoingRejected:
    if isinstance(exc, ValidationError) and exc.errors():
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "$"
        # the payload could not even be built: name its contract by the model that refused it
        model = next((c for c in registry.contracts() if c.model.__name__ == exc.title), None)
        return OutgoingRejected(field, err.get("msg", "invalid"), event_type or (model and model.event_type))
    if isinstance(exc, ContractError):
        return OutgoingRejected(exc.field, exc.message, event_type)
    return OutgoingRejected("$", f"cannot be published ({type(exc).__name__})", event_type)


def outgoing_checker(mapper: Callable[[Any], Sequence[Any]], *, service: str) -> Callable[[Sequence[Any]], None]:
    producer = f"whale-crm/{service}"

    def check(events: Sequence[Any]) -> None:
        for event in events:
            event_type = None
            try:
                for out in mapper(event):
                    event_type = getattr(out.payload, "EVENT_TYPE", None)
                    registry.envelope(out.payload, producer=producer, occurred_at=out.occurred_at or event.timestamp,
                                      event_id=_PROBE_ID, correlation_id=out.correlation_id,
                                      causation_id=out.causation_id)
            except Exception as exc:  # noqa: BLE001 - whatever the mapper raises, the event is not publishable
                raise _rejection(exc, event_type) from exc

    return check


def guard_outgoing(app: Any, mapper: Callable[[Any], Sequence[Any]], *, service: str) -> None:
    """Validate every recording of `app` (a TrackingApplication) against the contracts it will publish."""
    app.outgoing_check = outgoing_checker(mapper, service=service)
