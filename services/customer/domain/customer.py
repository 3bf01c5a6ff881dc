"""The Customer aggregate: one per brokerage customer, fed by every upstream topic and by CRM actions.

Every change is one `FactRecorded` event carrying the fact, the effects it had (published through the
outbox) and the derived view after it (what the read model stores); a customer's first fact starts it
(`StartedWithFact`, the same fields, one stored event instead of `Created` + `FactRecorded`). The state itself
is the pure fold in `state.py`, so the aggregate is a thin shell and "as of" history is a re-fold of the
stored facts.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from eventsourcing.domain import Aggregate, event

from .derive import view
from .effects import effects
from .state import Fact, State, already_applied, evolve, new_state

CUSTOMER_NAMESPACE = uuid.UUID("0f6f3c52-8a3e-4c55-b8a4-0e2b1b7c9d01")


ROW_TIMES = ("registered_at", "stage_changed_at", "first_deposit_at", "first_trade_at", "assets_as_of",
             "first_seen_at", "last_activity_at")


def compact(v: dict[str, Any]) -> dict[str, Any]:
    """The derived row in plain JSON types (ISO 8601 times, decimal strings): cheaper to store and to read
    back than transcoder-wrapped datetimes and Decimals; the projection parses it."""
    out = dict(v)
    for key in ROW_TIMES:
        if out[key] is not None:
            out[key] = out[key].isoformat()
    if out["total_assets"] is not None:
        out["total_assets"] = str(out["total_assets"])
    out["stage_entered_at"] = {k: t.isoformat() for k, t in v["stage_entered_at"].items()}
    out["deposits"] = {k: str(a) for k, a in v["deposits"].items()}
    out["withdrawals"] = {k: str(a) for k, a in v["withdrawals"].items()}
    return out


_EMPTY_VIEW = view(new_state(""))


def new_view_of(customer_id: str) -> dict[str, Any]:
    """The view of a customer nothing is known about yet (computed once, not per new customer)."""
    return {**_EMPTY_VIEW, "customer_id": customer_id}


def _change(before: State, fact: Fact, v0: dict[str, Any]) -> tuple[State, dict[str, Any], dict[str, Any]]:
    """The state after `fact`, its view, and the fields of the event that records it (`fact`, `effects`,
    `row`): the same for `FactRecorded` and `StartedWithFact`. `v0`: the view of `before`."""
    after = evolve(before, fact)
    v1 = view(after)
    return after, v1, {"fact": fact, "effects": effects(before, after, v0, v1, fact), "row": compact(v1)}


@lru_cache(maxsize=100_000)
def customer_uuid(customer_id: str) -> uuid.UUID:
    return uuid.uuid5(CUSTOMER_NAMESPACE, customer_id)


class Customer(Aggregate):
    @staticmethod
    def create_id(customer_id: str) -> uuid.UUID:  # type: ignore[override]
        return customer_uuid(customer_id)

    @event("Created")
    def __init__(self, customer_id: str):
        self.customer_id = customer_id
        self.state = new_state(customer_id)

    class StartedWithFact(Aggregate.Created):
        """A customer started with its first fact: one stored event instead of `Created` + `FactRecorded`
        (every registration and imported row of a new customer starts one). Carries the fields of
        `FactRecorded`, so the read model, the outbox and the history treat it as one (`FACT_EVENTS`)."""

        customer_id: str
        fact: Fact
        effects: list[dict[str, Any]]
        row: dict[str, Any]

        def apply(self, aggregate: Customer) -> None:
            aggregate.state = evolve(aggregate.state, self.fact)

    @classmethod
    def start(cls, customer_id: str, fact: Fact) -> tuple[Customer, dict[str, Any]]:
        """A new customer and its view after its first fact: the state, rows and published messages of
        `Customer(customer_id)` + `record(fact)`, in one event."""
        _, v1, fields = _change(new_state(customer_id), fact, new_view_of(customer_id))
        customer = cls._create(cls.StartedWithFact, id=customer_uuid(customer_id), customer_id=customer_id,
                               **fields)
        return customer, v1

    def record(self, fact: Fact, current_view: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Apply a fact; returns the new view, or None (and no event) when the fact was already applied (an
        upstream re-publication). `current_view` is the view of the current state when the caller has it."""
        if already_applied(self.state, fact):
            return None
        after, v1, fields = _change(self.state, fact, current_view or view(self.state))
        self._pending_state = after
        self._fact_recorded(**fields)
        return v1

    @event("FactRecorded")
    def _fact_recorded(self, fact: Fact, effects: list[dict[str, Any]], row: dict[str, Any]) -> None:
        pending = self.__dict__.pop("_pending_state", None)
        self.state = pending if pending is not None else evolve(self.state, fact)

    def note_registration_segments(self, segment_ids: list[str]) -> bool:
        """Put the segments the customer is in at registration on its pending (not yet stored) registration
        effect, so the published `customer_registered` carries them (`segment_ids`). False: no pending one."""
        for e in self.pending_events:
            for effect in getattr(e, "effects", ()):
                if effect["kind"] == "customer_registered":
                    effect["segment_ids"] = sorted(segment_ids)
                    return True
        return False

    @property
    def view(self) -> dict[str, Any]:
        return view(self.state)


FACT_EVENTS = (Customer.FactRecorded, Customer.StartedWithFact)  # the stored events that carry a fact
