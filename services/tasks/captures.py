"""Captured calls and SMS (`brokerage.telephony`, `brokerage.sms`) → follow-up records.

Each capture is matched to the customer — by its customer id when the system gives one (a customer the cards
know), else by the keyed hash of its phone number (`shared.runtime.phones`) through the phone map the cards keep
from `crm.customer.customer_registered.phone_hash` — and to the staff member (the capture's staff id). A matched
capture records a `FollowUp` like a manual one (contact method phone / sms, the call's duration, source call /
sms), which the outbox publishes as `crm.tasks.follow_up_recorded`: the assignment service resets the
protection period with it and Today's Summary counts it, exactly as for a follow-up typed by the manager. Every
capture is kept as a `Capture` (matched or with the reason it is not); the end-of-day reconciliation lists the
unmatched ones (`GET /tasks/captures/unmatched`). Ids derive from the call / message id: a capture seen twice
(re-published, replayed) records nothing new. An SMS that failed at once is kept, not recorded as a follow-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event
from shared.events.upstream_capture import CallCaptured, SmsCaptured
from shared.runtime.eventstore import ProcessingEvent
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.logging import get_logger
from shared.runtime.phones import phone_hash

from .application import TasksApplication
from .domain.capture import AMBIGUOUS_PHONE, INVALID_PHONE, UNKNOWN_CUSTOMER, UNKNOWN_PHONE, Capture
from .domain.followup import FollowUp
from .projections.tables import customers, phone_map

log = get_logger("tasks.captures")
CAPTURES = (CallCaptured, SmsCaptured)


def is_capture(e: Event) -> bool:
    return isinstance(e.payload, CAPTURES)


def _kind_and_id(p: Any) -> tuple[str, str]:
    return ("call", p.call_id) if isinstance(p, CallCaptured) else ("sms", p.message_id)


def matcher(sessions: sessionmaker[Session], key: str) -> Callable[[list[Any]], dict[int, tuple[str | None, str | None]]]:
    """{index: (customer_id, None) or (None, reason)} for a batch's captures: two queries (the known customer
    ids, the phone hashes), whatever the batch size."""

    def match(payloads: list[Any]) -> dict[int, tuple[str | None, str | None]]:
        hashes = {i: phone_hash(key, p.customer_phone) for i, p in enumerate(payloads) if not p.customer_id}
        ids = sorted({p.customer_id for p in payloads if p.customer_id})
        with sessions() as s:
            known = set(s.scalars(select(customers.c.customer_id).where(customers.c.customer_id.in_(ids)))) if ids \
                else set()
            wanted = sorted({h for h in hashes.values() if h})
            owners: dict[str, set[str]] = {}
            if wanted:
                for h, cid in s.execute(select(phone_map.c.phone_hash, phone_map.c.customer_id)
                                        .where(phone_map.c.phone_hash.in_(wanted))):
                    owners.setdefault(h, set()).add(cid)
        out: dict[int, tuple[str | None, str | None]] = {}
        for i, p in enumerate(payloads):
            if p.customer_id:
                out[i] = (p.customer_id, None) if p.customer_id in known else (None, UNKNOWN_CUSTOMER)
                continue
            h = hashes[i]
            found = owners.get(h or "", set())
            out[i] = ((None, INVALID_PHONE) if h is None else (None, UNKNOWN_PHONE) if not found
                      else (next(iter(found)), None) if len(found) == 1 else (None, AMBIGUOUS_PHONE))
        return out

    return match


def capture_apply(app: TasksApplication, match: Callable[[list[Any]], dict[int, tuple[str | None, str | None]]]
                  ) -> Callable[[list[Event]], ProcessingEvent]:
    def apply(events: list[Event]) -> ProcessingEvent:
        pe = ProcessingEvent()
        firsts: dict[Any, Event] = {}  # the capture's first event in the batch, by aggregate id
        later: list[Event] = []
        for e in events:
            if not is_capture(e):
                continue
            key = Capture.create_id(*_kind_and_id(e.payload))
            if key in firsts:
                later.append(e)
            else:
                firsts[key] = e
        if not firsts:
            return pe
        stored = app.load_many(list(firsts))
        known: dict[Any, Capture] = {k: c for k, c in stored.items() if c is not None}
        new = [(k, e) for k, e in firsts.items() if k not in known]
        matched = match([e.payload for _, e in new])
        for i, (k, e) in enumerate(new):
            customer_id, reason = matched[i]
            known[k] = _record(pe, e, customer_id, reason)
        for e in [e for k, e in firsts.items() if k in stored and stored[k] is not None] + later:
            p = e.payload
            if isinstance(p, SmsCaptured):
                known[Capture.create_id(*_kind_and_id(p))].observe(p.status.value, str(e.event_id))
        for capture in known.values():
            if capture.pending_events:
                pe.collect_events(capture)
        return pe

    return apply


def _record(pe: ProcessingEvent, e: Event, customer_id: str | None, reason: str | None) -> Capture:
    p = e.payload
    kind, capture_id = _kind_and_id(p)
    call = isinstance(p, CallCaptured)
    at = p.started_at if call else p.sent_at
    outcome = p.outcome.value if call else p.status.value
    follow_up = None
    if customer_id is not None and (call or outcome != "failed"):
        follow_up = FollowUp(customer_id=customer_id, manager_id=p.staff_id, kind=FollowUp.KIND_FOLLOW_UP,
                             task_id=None, intent=None, tier=None, contact_methods=["phone" if call else "sms"],
                             next_follow_up_at=None, tags=[], remarks=None, recorded_at=at,
                             correlation_id=str(e.event_id), source=kind,
                             duration_s=p.duration_s if call else None, capture_id=f"{kind}:{capture_id}")
        pe.collect_events(follow_up)
    capture = Capture(kind=kind, capture_id=capture_id, staff_id=p.staff_id, customer_id=customer_id, reason=reason,
                      at=at, direction=p.direction.value if call else "outbound",
                      duration_s=p.duration_s if call else None, outcome=outcome,
                      recording_ref=p.recording_ref if call else None,
                      follow_up_id=str(follow_up.id) if follow_up else None, cause=str(e.event_id))
    log.info("capture_recorded", kind=kind, capture_id=capture_id, staff_id=p.staff_id, customer_id=customer_id,
             unmatched_reason=reason, follow_up_id=capture.follow_up_id)
    return capture


class CaptureHandler(EventSourcedBatchHandler):
    """Captures + their follow-ups + tracking in one event-store transaction; other topics' records only
    move its position (lazily)."""

    def __init__(self, app: TasksApplication, consumer: str, topics: list[str], sessions: sessionmaker[Session],
                 key: str):
        super().__init__(app, consumer, capture_apply(app, matcher(sessions, key)), topics, name="captures",
                         relevant=is_capture)
