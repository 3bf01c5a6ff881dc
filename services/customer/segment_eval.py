"""Segment membership as facts (`crm.customer.segment_membership_changed`): who is in which saved segment.

The membership of a customer is a fact on its aggregate, `crm.segments_changed` (the whole set of segment ids),
whose effects publish one `segment_membership_changed` per segment entered or left; the read model keeps
`customer_segment_membership` from those facts (so a rebuild from the store gives the same rows).

- `SegmentEvaluator` (a worker component) follows the event store's notification log: a customer whose facts
  changed (upstream facts, CRM actions such as tags) is re-evaluated against every live segment; a segment
  created, edited or deleted is swept whole (its new members and its former ones), and on a new local day of
  `BROKERAGE_TIMEZONE` every dynamic segment is swept (ages move with the date). Candidates are evaluated in
  chunks (`CUSTOMER_SEGMENT_CHUNK`, one SQL query per segment and chunk, the list's own filter clauses) and
  the changed customers' facts saved one chunk per transaction; the position is recorded after the pass, and a
  pass re-run after a crash finds nothing more to change (it diffs against the stored membership).
  Assignment changes (manager/team filters) reach a segment with the customer's next fact or the daily sweep.
- `RegistrationSegments` (in the ingest batch, before it is stored): a customer registering is evaluated
  against the segments from its would-be row (the batch's rows written and rolled back in a transaction of
  their own), its `crm.segments_changed` recorded with the registration, and the ids put on the registration's
  `customer_registered` (`segment_ids`): a routing rule by segment sees them without a race.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.api import Problem
from shared.runtime.health import ComponentHealth, Stuck
from shared.runtime.logging import get_logger

from .application import Batch, CustomerApplication, IngestCache
from .domain.customer import FACT_EVENTS, Customer, customer_uuid
from .domain.segments import STATIC, Segment
from .facts import crm_fact
from .projections.segments import SEGMENTS_FACT
from .projections.tables import Tables, id_in

log = get_logger("customer.segment_eval")
EVALUATOR = "segments"
# The stored events a pass reads from the store (selected by topic in the query): in older stores, an import's
# new customers' `Created` events are half its notifications.
_SEGMENT_TOPICS = frozenset(get_topic(cls) for cls in (Segment.Created, Segment.Updated, Segment.Deleted))
_READ_TOPICS = _SEGMENT_TOPICS | {get_topic(cls) for cls in FACT_EVENTS}


class Segments:
    """The live segments and their evaluation over a set of customers (SQL: the list's filter clauses)."""

    def __init__(self, tables: Tables, settings: Any):
        self.t, self.settings = tables, settings

    def live(self, s: Session) -> list[dict[str, Any]]:
        seg = self.t.segment
        return [dict(r) for r in s.execute(select(seg).where(seg.c.deleted.is_(False))
                                           .order_by(seg.c.segment_id)).mappings()]

    def clauses(self, row: dict[str, Any], today: date) -> list[Any] | None:
        from .api.query import FilterParams, ListFilters, band_config, filter_clauses, to_list_filters

        try:
            f = (ListFilters(segment_members=row["segment_id"]) if row["kind"] == STATIC
                 else to_list_filters(FilterParams(**row["filter"]), today, band_config(self.settings)))
            return filter_clauses(self.t, f, pii=True)
        except (Problem, ValueError) as exc:  # a band gone with new edges: the segment matches no one
            log.warning("segment_unevaluable", segment_id=row["segment_id"], error=type(exc).__name__)
            return None

    def members(self, s: Session, segments: list[dict[str, Any]], ids: list[str] | None,
                today: date) -> dict[str, set[str]]:
        """customer id → the segments it is in, among `ids` (None: every customer)."""
        c = self.t.customer.c
        out: dict[str, set[str]] = {i: set() for i in ids or ()}
        for row in segments:
            clauses = self.clauses(row, today)
            if clauses is None:
                continue
            if ids is not None:
                clauses = [*clauses, id_in(s, c.customer_id, ids)]
            for cid in s.scalars(select(c.customer_id).where(*clauses)):
                out.setdefault(cid, set()).add(row["segment_id"])
        return out

    def stored(self, s: Session, ids: list[str]) -> dict[str, set[str]]:
        m = self.t.membership
        out: dict[str, set[str]] = {i: set() for i in ids}
        for cid, sid in s.execute(select(m.c.customer_id, m.c.segment_id).where(id_in(s, m.c.customer_id, ids))):
            out[cid].add(sid)
        return out


class SegmentEvaluator:
    """Worker component (`run`/`stop`): a pass every `interval_s` (see the module's docstring)."""

    def __init__(self, app: CustomerApplication, sessions: sessionmaker[Session], tables: Tables, settings: Any, *,
                 interval_s: float = 2.0, chunk: int = 500, page: int = 1000):
        self.app, self.sessions, self.state = app, sessions, tables.segment_eval
        self.segments = Segments(tables, settings)
        self.tz = settings.brokerage.tz
        self.interval_s, self.chunk, self.page = interval_s, chunk, page
        self.health = ComponentHealth("customer", "segments")
        self._stopping = threading.Event()
        # What each notification committed by this process means to the evaluator, handed over in memory
        # (`on_recordings`): notification id -> (customer touched, segment changed). A pass whose range is
        # all here reads nothing back from the store; a gap (another process's recordings, a restart) reads
        # the range from the store as before.
        self._fresh: dict[int, tuple[str | None, str | None]] = {}
        self._fresh_lock = threading.Lock()
        app.on_recordings(self._offer)

    fresh_max = 100_000

    def _offer(self, recordings: Any) -> None:
        with self._fresh_lock:
            for r in recordings:
                self._fresh[r.notification.id] = _meaning(r.domain_event)
            if len(self._fresh) > self.fresh_max:  # nobody evaluating (stopped): the store has them all
                self._fresh.clear()

    async def run(self) -> None:
        with self.health:
            while not self._stopping.is_set():
                try:
                    await asyncio.to_thread(self.evaluate)
                    self.health.progressed()
                except Exception as exc:  # noqa: BLE001 - retried next pass; the health check reports a stall
                    self.health.failed(Stuck("segments"), exc)
                for _ in range(max(1, int(self.interval_s * 10))):
                    if self._stopping.is_set():
                        return
                    await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self._stopping.set()

    # ---- one pass (a thread) ------------------------------------------------------------------------
    def evaluate(self, now: datetime | None = None) -> int:
        """One pass; returns how many customers' membership changed."""
        now = now or datetime.now(UTC)
        today = now.astimezone(self.tz).date()
        with self.sessions() as s:
            st = s.execute(select(self.state).where(self.state.c.name == EVALUATOR)).mappings().first()
            # No live segment: the customers' facts cannot put anyone in one (a segment created meanwhile is swept
            # whole, by its own event in this range or in the next pass), so they are not even read.
            any_live = bool(self.segments.live(s))
        position = st["position"] if st else 0
        last = self.app.process_recorder.max_notification_id() or 0
        touched, swept = self._read(position, last, customers=any_live)
        with self.sessions() as s:
            live = self.segments.live(s)
            if st is None or st["day"] != today:  # first pass, or a new day: every dynamic segment
                swept |= {r["segment_id"] for r in live if r["kind"] != STATIC}
            candidates = set(touched)
            m = self.segments.t.membership
            for sid in sorted(swept):
                rows = [r for r in live if r["segment_id"] == sid]
                candidates |= set(s.scalars(select(m.c.customer_id).where(m.c.segment_id == sid)))
                candidates |= set(self.segments.members(s, rows, None, today))
            if not live and candidates:  # in no segment: only a customer still holding a membership can change
                candidates &= set(s.scalars(select(m.c.customer_id).distinct()))
        changed = 0
        ids = sorted(candidates)
        for i in range(0, len(ids), self.chunk):
            changed += self._chunk(ids[i:i + self.chunk], live, today, now)
        with self.sessions.begin() as s:
            s.execute(self.state.delete().where(self.state.c.name == EVALUATOR))
            s.execute(self.state.insert().values(name=EVALUATOR, position=last, day=today))
        if changed:
            log.info("segments_evaluated", customers=len(ids), changed=changed, segments=len(live))
        return changed

    def _read(self, position: int, last: int, *, customers: bool = True) -> tuple[set[str], set[str]]:
        """The customers whose facts changed (unless not `customers`) and the segments changed after `position`
        (up to `last`): from the notifications handed over in memory when they cover the range, else from the
        store (only the events of the topics it needs, selected in the query)."""
        touched: set[str] = set()
        swept: set[str] = set()
        with self._fresh_lock:
            fresh = self._fresh
            covered = all(i in fresh for i in range(position + 1, last + 1))
            meanings = [fresh[i] for i in range(position + 1, last + 1)] if covered else []
            for key in [k for k in fresh if k <= last]:
                del fresh[key]
        if covered:
            for customer_id, segment_id in meanings:
                if customer_id is not None and customers:
                    touched.add(customer_id)
                if segment_id is not None:
                    swept.add(segment_id)
            return touched, swept
        while position < last:
            notes = self.app.process_recorder.select_notifications(
                start=position + 1, limit=self.page, stop=last,
                topics=sorted(_READ_TOPICS if customers else _SEGMENT_TOPICS))
            if not notes:
                break
            for n in notes:
                customer_id, segment_id = _meaning(self.app.mapper.to_domain_event(n))
                if customer_id is not None:
                    touched.add(customer_id)
                if segment_id is not None:
                    swept.add(segment_id)
            position = notes[-1].id
        return touched, swept

    def _chunk(self, ids: list[str], live: list[dict[str, Any]], today: date, now: datetime) -> int:
        for attempt in range(5):
            with self.sessions() as s:
                want = self.segments.members(s, live, ids, today)
                have = self.segments.stored(s, ids)
            changes = {cid: want[cid] for cid in ids if want[cid] != have[cid]}
            customers = []
            for cid in sorted(changes):
                try:
                    customer: Customer = self.app.repository.get(customer_uuid(cid))  # type: ignore[assignment]
                except Exception:  # noqa: BLE001 - a row without an aggregate cannot be: skip it
                    continue
                if set(customer.state.get("segments") or ()) == changes[cid]:
                    continue  # stored already (its row follows in the same transaction)
                customer.record(crm_fact(str(uuid.uuid4()), SEGMENTS_FACT, now, {"segments": sorted(changes[cid])}))
                customers.append(customer)
            if not customers:
                return 0
            try:
                self.app.save(*customers)
                return len(customers)
            except IntegrityError:  # the ingest (or another replica) saved one of them meanwhile: again
                if attempt == 4:
                    raise
        return 0


class RegistrationSegments:
    """The ingest batch's step for registering customers (see the module's docstring), `chained` after the
    match step."""

    def __init__(self, sessions: sessionmaker[Session], tables: Tables, settings: Any, fold: Any):
        self.sessions, self.fold = sessions, fold
        self.segments = Segments(tables, settings)
        self.tz = settings.brokerage.tz

    def __call__(self, app: CustomerApplication, cache: IngestCache, batch: Batch) -> None:
        new = {key: c for key, c in batch.customers.items() if _registering(c)}
        if not new:
            return
        now = datetime.now(UTC)
        today = now.astimezone(self.tz).date()
        with self.sessions() as s:
            live = self.segments.live(s)
            if not live:
                return
            self.fold(s, [e for c in new.values() for e in c.pending_events])  # the would-be rows…
            ids = sorted(c.customer_id for c in new.values())
            want = self.segments.members(s, live, ids, today)
            s.rollback()  # …never kept: the batch's own transaction writes them
        for key, customer in new.items():
            segs = sorted(want.get(customer.customer_id, ()))
            if segs:
                v = customer.record(crm_fact(str(uuid.uuid4()), SEGMENTS_FACT, now, {"segments": segs}),
                                    batch.views[key])
                if v is not None:
                    batch.views[key] = v
            customer.note_registration_segments(segs)


def _meaning(e: Any) -> tuple[str | None, str | None]:
    """(the customer whose facts changed, the segment that changed) by one stored event, if any."""
    if isinstance(e, FACT_EVENTS) and e.fact["type"] != SEGMENTS_FACT:
        return e.row["customer_id"], None
    if isinstance(e, Segment.Created | Segment.Updated | Segment.Deleted):
        return None, e.segment_id
    return None, None


def _registering(customer: Customer) -> bool:
    return any(effect["kind"] == "customer_registered" for e in customer.pending_events
               for effect in getattr(e, "effects", ()))


def chained(*steps: Any) -> Any:
    steps_ = [s for s in steps if s is not None]

    def step(app: CustomerApplication, cache: IngestCache, batch: Batch) -> None:
        for st in steps_:
            st(app, cache, batch)
    return step

