"""Nothing is stored that cannot be applied and published.

`guard_outgoing(app, mapper, service=...)` makes every recording of the application (API commands and
consumer batches alike) first map its new domain events through the outbox mapper and build the contract
envelopes the relay will publish — validating every payload field (explicit nulls, lengths, formats) and
the envelope's bounded fields (correlation and causation ids). An event that fails raises
`OutgoingRejected` before anything commits: the API answers 422 naming the field, a consumer
dead-letters the record that caused it (it is a `PermanentError`), and the relay never meets an event it
cannot publish. The envelopes built are the very ones the relay publishes (real ids): the recording hands
them over to it (`outbox.Checked`), so each is built once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import RecordConflictError
from pydantic import ValidationError

from shared.events import registry
from shared.events.registry import ContractError

from .errors import PermanentError
from .logging import get_logger
from .outbox import Checked, envelope_of, producer_name

log = get_logger("commands")


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


def outgoing_checker(mapper: Callable[[Any], Sequence[Any]], *, service: str,
                     source: Any = None) -> Callable[[Sequence[Any]], Checked]:
    """The check of `guard_outgoing`: builds every envelope the relay will publish for `events` (the same ones:
    `outbox.envelope_of`, with their real ids) and returns them (`Checked`, handed to the relay with the
    recording); `source` names the mapper for the relay (default: `mapper` itself)."""
    producer = producer_name(service)

    def check(events: Sequence[Any]) -> Checked:
        built: dict[int, tuple[Any, list[Any]]] = {}
        for event in events:
            event_type, envelopes = None, []
            try:
                for i, out in enumerate(mapper(event)):
                    event_type = getattr(out.payload, "EVENT_TYPE", None)
                    envelopes.append(envelope_of(out, event, i, producer=producer))
            except Exception as exc:  # noqa: BLE001 - whatever the mapper raises, the event is not publishable
                raise _rejection(exc, event_type) from exc
            built[id(event)] = (event, envelopes)
        return Checked(mapper if source is None else source, producer, built)

    return check


def guard_outgoing(app: Any, mapper: Callable[[Any], Sequence[Any]], *, service: str) -> None:
    """Validate every recording of `app` (a TrackingApplication) against the contracts it will publish. Give the
    relay the same mapper (or an equal one): it then publishes the envelopes the check built."""
    app.outgoing_check = outgoing_checker(mapper, service=service)


AggregateAt = Callable[[uuid.UUID, int], Any]  # (aggregate id, version) -> the aggregate at that version


def aggregate_at(app: Any, pending: Sequence[Any]) -> AggregateAt:
    """The aggregate at a version, whether that version is stored or among `pending` (the events about to
    be stored): for mappers that derive published values from the aggregate at the event's version."""
    by_id: dict[Any, list[Any]] = {}
    for event in pending:
        by_id.setdefault(event.originator_id, []).append(event)

    def at(aggregate_id: uuid.UUID, version: int) -> Any:
        events = [e for e in by_id.get(aggregate_id, ()) if e.originator_version <= version]
        if not events:
            return app.repository.get(aggregate_id, version=version)
        first = events[0].originator_version
        aggregate = app.repository.get(aggregate_id, version=first - 1) if first > 1 else None
        for event in events:
            aggregate = event.mutate(aggregate)
        return aggregate

    return at


def guard_outgoing_at(app: Any, make_mapper: Callable[[AggregateAt], Callable[[Any], Sequence[Any]]], *,
                      service: str) -> None:
    """`guard_outgoing` for a mapper built over an `AggregateAt` (the relay's reads the store at a version;
    the check sees the pending events too). A relay whose mapper is a `make_mapper` (the class) publishes the
    envelopes the check built."""

    def check(events: Sequence[Any]) -> Checked:
        return outgoing_checker(make_mapper(aggregate_at(app, events)), service=service, source=make_mapper)(events)

    app.outgoing_check = check


T = TypeVar("T")


def save_retrying(app: Any, step: Callable[[], tuple[Any, T]], *, attempts: int = 3, **context: Any) -> T:
    """Run `step()` — load, check the rules, call: it returns what to save and the result — and save; when a
    concurrent write got there first (optimistic concurrency on the aggregate's version), run it again on the
    fresh state, so the rules are checked against what is stored. The last conflict propagates.

    What to save is one aggregate, or a list or tuple of them (saved in one transaction; none: nothing saved);
    each retry is logged as `command_conflict_retry` with `context` (ids only, never personal data)."""
    for attempt in range(attempts):
        aggregates, result = step()
        if not isinstance(aggregates, list | tuple):
            aggregates = (aggregates,)
        try:
            if aggregates:
                app.save(*aggregates)
            return result
        except RecordConflictError:
            if attempt == attempts - 1:
                raise
            log.info("command_conflict_retry", attempt=attempt + 1, **context)
    raise AssertionError("unreachable")
