"""The customer eventsourcing application: thin commands (load, call, save) and history queries."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from shared.events import Event
from shared.runtime.commands import save_retrying
from shared.runtime.errors import DomainError
from shared.runtime.eventstore import ProcessingEvent, TrackingApplication

from .domain.customer import FACT_EVENTS, Customer, customer_uuid, new_view_of
from .domain.derive import own_milestones
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
            if isinstance(e, FACT_EVENTS) and e.fact["at"] <= limit:
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


class MatchRefused(DomainError):
    """A merge, unmerge or rejection the customers' current state does not allow (409)."""

    code = "match_refused"


class SelfMerge(MatchRefused):
    status = 422
    code = "self_merge"


def after_registers(at: datetime, *registers: dict[str, Any] | None) -> datetime:
    """A person's decision takes effect after the decision it supersedes, even when that one was stamped with a
    fact's business time later than the clock (a platform clock ahead of ours): `at`, or just after them."""
    times = [parse_time(r["at"]) for r in registers if r]
    latest = max((t for t in times if t is not None), default=None)
    return max(at, latest + timedelta(microseconds=1)) if latest is not None else at


class CustomerMatching:
    """Merge, unmerge and reject (the review queue's commands): facts on both customers, saved together."""

    def __init__(self, app: CustomerApplication):
        self.app = app

    def merge(self, customer_id: str, survivor_id: str, *, by: str, comment: str | None, at: datetime,
              correlation_id: str | None = None) -> str:
        """`customer_id` is merged into `survivor_id` (the existing customer); returns the reason."""
        if customer_id == survivor_id:
            raise SelfMerge("a customer cannot be merged into itself", field="path.candidate_id")

        def step() -> tuple[list[Customer], str]:
            merged, survivor = self.app.get_customer(customer_id), self.app.get_customer(survivor_id)
            if merged.view["merged_into"]:
                raise MatchRefused(f"customer {customer_id} is already merged into {merged.view['merged_into']}")
            if survivor.view["merged_into"]:
                raise MatchRefused(f"customer {survivor_id} is merged into {survivor.view['merged_into']}")
            if merged.view["merged_ids"]:
                raise MatchRefused(f"customer {customer_id} has customers merged into it: unmerge them first")
            suspect = merged.state.get("suspects", {}).get(survivor_id)
            key = (suspect["reason"] or "").partition(":")[2] if suspect else ""
            reason = f"review:{key or 'manual'}"
            when = after_registers(at, merged.state.get("merge"),
                                   ((survivor.state.get("absorbed") or {}).get(customer_id) or {}).get("link"))
            merged.record(crm_fact(str(uuid.uuid4()), "crm.merged_into", when, {
                "survivor_id": survivor_id, "reason": reason, "by": by, "comment": comment}, correlation_id))
            survivor.record(crm_fact(str(uuid.uuid4()), "crm.absorbed", when, {
                "merged_id": customer_id, "reason": reason, "milestones": own_milestones(merged.state)},
                correlation_id))
            return [merged, survivor], reason

        return save_retrying(self.app, step, customer_id=customer_id, survivor_id=survivor_id)

    def unmerge(self, merged_id: str, *, by: str, comment: str | None, at: datetime,
                correlation_id: str | None = None) -> str:
        """Separate a merged customer from its survivor again; returns the survivor's id."""

        def step() -> tuple[list[Customer], str]:
            merged = self.app.get_customer(merged_id)
            survivor_id = merged.view["merged_into"]
            if not survivor_id:
                raise MatchRefused(f"customer {merged_id} is not merged")
            survivor = self.app.get_customer(survivor_id)
            when = after_registers(at, merged.state.get("merge"),
                                   ((survivor.state.get("absorbed") or {}).get(merged_id) or {}).get("link"))
            for customer, other, role in ((merged, survivor_id, "merged"), (survivor, merged_id, "survivor")):
                customer.record(crm_fact(str(uuid.uuid4()), "crm.unmerged", when, {
                    "other_id": other, "role": role, "by": by, "comment": comment}, correlation_id))
            return [merged, survivor], survivor_id

        return save_retrying(self.app, step, customer_id=merged_id)

    def reject(self, customer_id: str, candidate_id: str, *, by: str, comment: str | None, at: datetime,
               correlation_id: str | None = None) -> None:
        def step() -> tuple[Customer, None]:
            customer = self.app.get_customer(customer_id)
            suspect = customer.state.get("suspects", {}).get(candidate_id)
            if suspect is None or suspect["status"] != "pending":
                raise MatchRefused(f"no pending match of {customer_id} with {candidate_id}")
            customer.record(crm_fact(str(uuid.uuid4()), "crm.match_rejected", at, {
                "candidate_id": candidate_id, "by": by, "comment": comment}, correlation_id))
            return customer, None

        save_retrying(self.app, step, customer_id=customer_id, candidate_id=candidate_id)


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
        self.before_match: dict[uuid.UUID, dict[str, str]] = {}  # match inputs before the batch
        self.last_fact: dict[uuid.UUID, Fact] = {}  # the latest fact the batch recorded on each customer

    def add(self, key: uuid.UUID, customer: Customer, current: dict[str, Any]) -> None:
        self.customers[key] = customer
        self.views.setdefault(key, current)
        self.before_match.setdefault(key, current.get("match") or {})

    def record(self, cid: str, fact: Fact, stored: Customer | None,
               current: dict[str, Any] | None = None) -> None:
        """Record `fact` on customer `cid`: the batch's, else `stored` (its view `current` when the caller has
        it), else a new customer started with this fact (`Customer.start`: one stored event)."""
        key = customer_uuid(cid)
        customer = self.customers.get(key)
        if customer is None:
            if stored is None:
                customer, started = Customer.start(cid, fact)
                self.add(key, customer, new_view_of(cid))
                self.views[key], self.last_fact[key] = started, fact
                return
            customer = stored
            self.add(key, customer, current or customer.view)
        new_view = customer.record(fact, self.views[key])
        if new_view is not None:
            self.views[key], self.last_fact[key] = new_view, fact


class MatchStep(Protocol):
    def __call__(self, app: CustomerApplication, cache: IngestCache, batch: Batch) -> None: ...


def _load_missing(app: CustomerApplication, cache: IngestCache, facts: list[tuple[Fact, str]],
                  optimistic: bool) -> dict[uuid.UUID, Customer | None]:
    """The stored aggregates of the batch's customers that are neither cached nor (optimistically) new, all
    at once (`load_many`: one or two queries instead of two per customer)."""
    first: dict[uuid.UUID, str] = {}
    for fact, cid in facts:
        first.setdefault(customer_uuid(cid), fact["type"])  # the first fact of each customer decides
    keys = [k for k, kind in first.items()
            if cache.get(k) is None and not (optimistic and kind == NEW_CUSTOMER_FACT)]
    return app.load_many(keys) if keys else {}


def apply_upstream(app: CustomerApplication, cache: IngestCache, events: list[Event], *,
                   optimistic: bool = True, match: MatchStep | None = None) -> tuple[ProcessingEvent, Batch]:
    """Fold a batch of upstream events into their customers; the caller records it with the tracking.

    A registration for a customer we hold no aggregate for is assumed to start a new customer (no read of
    the event store); if that was wrong, the write conflicts on version 1 and the caller re-applies the
    batch with `optimistic=False`, which loads every aggregate."""
    batch = Batch()
    facts = [(fact_from_event(event), event.envelope.payload["customer_id"]) for event in events]
    loaded = _load_missing(app, cache, facts, optimistic)
    for fact, cid in facts:
        key = customer_uuid(cid)
        stored = current = None
        if key not in batch.customers:
            cached = cache.get(key)
            if cached is not None:
                stored, current = cached
            elif optimistic and fact["type"] == NEW_CUSTOMER_FACT:
                batch.assumed_new.add(key)
            else:
                stored = loaded.get(key)
        batch.record(cid, fact, stored, current)
    if match is not None:  # every new or changed customer goes through the existing-customer match
        match(app, cache, batch)
    pe = ProcessingEvent()
    pe.collect_events(*batch.customers.values())
    return pe, batch
