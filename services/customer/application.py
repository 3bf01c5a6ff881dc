"""The customer eventsourcing application: thin commands (load, call, save) and history queries."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import IntegrityError

from shared.events import Event
from shared.runtime.eventstore import TrackingApplication

from .domain.customer import Customer, customer_uuid
from .domain.state import Fact, State, evolve, new_state, parse_time
from .facts import crm_fact, fact_from_event


class CustomerNotFound(LookupError):
    pass


class CustomerApplication(TrackingApplication):
    snapshotting_intervals = {Customer: 100}

    # ---- queries ------------------------------------------------------------------------------
    def get_customer(self, customer_id: str) -> Customer:
        try:
            return self.repository.get(customer_uuid(customer_id))  # type: ignore[return-value]
        except AggregateNotFoundError:
            raise CustomerNotFound(customer_id) from None

    def state_as_of(self, customer_id: str, as_of: datetime) -> State:
        """The customer's state from the facts whose business time is at or before `as_of` (CRM actions by
        the time they were taken). Facts that happened before `as_of` but arrived later are included: this
        is what was true at that time, as far as we know now."""
        events = list(self.events.get(customer_uuid(customer_id)))
        if not events:
            raise CustomerNotFound(customer_id)
        limit = parse_time(as_of)
        state = new_state(customer_id)
        for e in events:
            if isinstance(e, Customer.FactRecorded) and e.fact["at"] <= limit:
                state = evolve(state, e.fact)
        return state

    # ---- commands (CRM actions) ---------------------------------------------------------------
    def record_crm_facts(self, customer_ids: Iterable[str], fact_type: str, data: dict[str, Any], *,
                         at: datetime, correlation_id: str | None = None, attempts: int = 5) -> list[Fact]:
        """Record one CRM action on each customer, atomically (all or none). Unknown id → CustomerNotFound."""
        ids = list(dict.fromkeys(customer_ids))
        for attempt in range(attempts):
            customers = [self.get_customer(cid) for cid in ids]
            facts = []
            for customer in customers:
                fact = crm_fact(str(uuid.uuid4()), fact_type, at, data, correlation_id)
                customer.record(fact)
                facts.append(fact)
            try:
                self.save(*customers)
                return facts
            except IntegrityError:  # a concurrent writer (the ingest consumer) got there first: reload, retry
                if attempt == attempts - 1:
                    raise
        return []


class IngestCache:
    """Aggregates (with their current view) kept in memory by the single-threaded ingest consumer, to avoid
    an event-store read per event. Entries touched by a failed write are evicted, so a stale or
    half-applied aggregate is never reused."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: OrderedDict[uuid.UUID, tuple[Customer, dict[str, Any]]] = OrderedDict()

    def get(self, key: uuid.UUID) -> tuple[Customer, dict[str, Any]] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: uuid.UUID, value: Customer, current_view: dict[str, Any]) -> None:
        if self.maxsize <= 0:
            return
        self._items[key] = (value, current_view)
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def evict(self, keys: Iterable[uuid.UUID]) -> None:
        for k in keys:
            self._items.pop(k, None)


NEW_CUSTOMER_FACT = "registration.customer_registered"


class Batch:
    """The customers one Kafka batch touched, with their views after it."""

    def __init__(self) -> None:
        self.customers: dict[uuid.UUID, Customer] = {}
        self.views: dict[uuid.UUID, dict[str, Any]] = {}
        self.assumed_new: set[uuid.UUID] = set()


def apply_upstream(app: CustomerApplication, cache: IngestCache, events: list[Event], *,
                   optimistic: bool = True) -> tuple[ProcessingEvent, Batch]:
    """Fold a batch of upstream events into their customers; the caller records it with the tracking.

    A registration for a customer we hold no aggregate for is assumed to start a new customer (no read of
    the event store); if that was wrong, the write conflicts on version 1 and the caller re-applies the
    batch with `optimistic=False`, which loads every aggregate."""
    batch = Batch()
    for event in events:
        fact = fact_from_event(event)
        cid = event.envelope.payload["customer_id"]
        key = customer_uuid(cid)
        customer = batch.customers.get(key)
        current = batch.views.get(key)
        if customer is None:
            cached = cache.get(key)
            if cached is not None:
                customer, current = cached
            elif optimistic and fact["type"] == NEW_CUSTOMER_FACT:
                customer = Customer(customer_id=cid)
                batch.assumed_new.add(key)
            else:
                try:
                    customer = app.repository.get(key)  # type: ignore[assignment]
                except AggregateNotFoundError:
                    customer = Customer(customer_id=cid)
            batch.customers[key] = customer
        new_view = customer.record(fact, current)
        if new_view is not None:
            batch.views[key] = new_view
        elif key not in batch.views:
            batch.views[key] = current or customer.view
    pe = ProcessingEvent()
    pe.collect_events(*batch.customers.values())
    return pe, batch
