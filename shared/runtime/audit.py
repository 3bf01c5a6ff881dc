"""Audit records for every service's API: which requests are audited, and their delivery to `crm.audit.records`.

What is audited (`classify`), decided after the answer's status is known (the app factory's request
middleware calls `AuditEmitter.observe`):
- every refusal (401 / 403) of any route;
- every write (POST / PUT / PATCH / DELETE), whatever its outcome;
- every read a route marks: `Depends(audited("usercrm.personal.read"))` on a route that always returns
  personal data or is an export, or `mark(request, "customer.pii.read")` in a handler that returns it
  unmasked only for some callers (after its access checks). Other reads are not audited.
The action is the mark's, else one derived from the service and the route template
(`POST /customers/{customer_id}/remarks` in customer → `customer.remarks.create`). The record carries the
route template, never the raw path (which may carry personal data), and the customer id the route names.

Delivery must neither lose records nor slow requests. `observe` only puts the record on a bounded in-memory
queue (no I/O on the request's path); one task publishes the queue in batches through the emitter's own
idempotent producer. A record that cannot go that way — the queue full (a burst or a broker stall), a
publish that failed, the process stopping — is written to the spool: the `audit_spool` table in the
service's own database (durable across restarts and shared by the replicas, unlike a pod's disk), from
which the same task re-publishes it once the broker answers. Only when the spool cannot be written either
(database down too) is a record lost: counted in `whale_audit_records_dropped_total` with an ERROR
`audit_records_dropped`. A spool that grows past `AUDIT_EMIT_SPOOL_ALERT` logs ERROR `audit_spool_growing`
(gauge `whale_audit_spool_records`). Publishing is at least once; the audit store keeps each record id once.

A write must not be committed without its record, even when the process dies (SIGKILL, OOM, a node lost)
before the queue is published. So a write request's record is also written ahead, provisionally, in the very
event-store transaction that stores what the request changed (`sametx.ride_along`, set by the app factory's
middleware for POST / PUT / PATCH / DELETE): an `audit_spool` row (one per request, however many
transactions it commits) with the record as it stands then (`answered` false, status 200, allowed) and the
record id the final record will carry, held back from re-publishing for `AUDIT_EMIT_WRITE_AHEAD_HOLD_S` (120 s).
Once the final record (its real status) is published, the row is
deleted; spooled instead, it replaces the row. A row still there after the hold is a write whose process
ended before its record left: the provisional record is published (the store keeps each id once, so a final
record published meanwhile wins). A write request's transaction outside the event store (a table written
directly) calls `write_ahead(session, database_url)` for the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from prometheus_client import Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.engine import make_url

from shared.events import Envelope, registry, topics
from shared.events.crm_audit import AuditKind, AuditOutcome, AuditRecord

from .db import add_missing_columns
from .logging import get_logger
from .producer import EventProducer
from .sametx import along, reset_along, ride_along
from .settings import AuditEmitSettings, KafkaSettings

log = get_logger("audit")

AUDIT_RECORDS = Counter("whale_audit_records_total", "Audit records by how they left the process",
                        ["service", "via"])  # via: published | spooled | republished
AUDIT_DROPPED = Counter("whale_audit_records_dropped_total",
                        "Audit records lost: neither published nor spooled (broker and database both away)",
                        ["service"])
AUDIT_SPOOL = Gauge("whale_audit_spool_records", "Audit records waiting in the spool table", ["service"])


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
ENTITY_ID = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")  # an id a record may carry (EntityId)
_NOT_ID = re.compile(r"[^A-Za-z0-9_\-.:]")
CUSTOMER_PARAMS = ("customer_id", "user_id")  # the path parameters that name a customer


@dataclass(frozen=True)
class AuditMark:
    """A read a route asks to audit (personal data, an export)."""

    action: str
    kind: AuditKind = AuditKind.pii_read
    customer_id: str | None = None


def mark(request: Request, action: str, kind: AuditKind = AuditKind.pii_read, customer_id: str | None = None) -> None:
    """Audit this request (call it where the handler decides it returns personal data or an export)."""
    request.state.audit_mark = AuditMark(action, kind, customer_id)


def audited(action: str, kind: AuditKind = AuditKind.pii_read) -> Callable[[Request], None]:
    """Route dependency: every call of the route is audited under `action` (routes that always return personal
    data, exports). It adds nothing to the OpenAPI document."""

    def dependency(request: Request) -> None:
        mark(request, action, kind)

    return dependency


def classify(method: str, status: int, marked: AuditMark | None) -> AuditKind | None:
    """Why a request is audited, or None when it is not."""
    if status in (401, 403):
        return AuditKind.refusal
    if marked is not None:
        return marked.kind
    if method in WRITE_METHODS:
        return AuditKind.write
    return None


def outcome_of(status: int) -> AuditOutcome:
    if status in (401, 403):
        return AuditOutcome.denied
    return AuditOutcome.allowed if status < 400 else AuditOutcome.failed


def action_name(service: str, method: str, route: str) -> str:
    """A stable action name from the route template: the service, the template's literal segments (a first
    segment naming the service, singular or plural, is the service) and the verb."""
    segments = [s for s in route.strip("/").split("/") if s and not s.startswith("{")]
    if segments and segments[0] in (service, f"{service}s"):
        segments = segments[1:]
    verb = _VERBS.get(method, "read")
    name = ".".join(_NOT_ID.sub("_", s) for s in (service, *segments, verb))
    return name[:64]


def client_ip(request: Request) -> str | None:
    """From where: the first address of the gateway's X-Forwarded-For (a valid IP only), else the peer."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        first = forwarded.split(",", 1)[0].strip()
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(first))
    return request.client.host if request.client else None


def _ids(values: Any) -> list[str]:
    return [v for v in (str(x) for x in values) if ENTITY_ID.fullmatch(v)][:50]


def build_record(request: Request, *, service: str, route: str, status: int,
                 correlation_id: str | None, record_id: uuid.UUID | None = None,
                 answered: bool = True) -> AuditRecord | None:
    """The audit record of an answered request (`answered` false: of a write not answered yet, its record
    written ahead), or None when it is not audited."""
    marked: AuditMark | None = getattr(request.state, "audit_mark", None)
    kind = classify(request.method, status, marked)
    if kind is None:
        return None
    principal = getattr(request.state, "principal", None)
    customer = marked.customer_id if marked is not None and marked.customer_id else None
    if customer is None:
        params = request.path_params
        customer = next((str(params[p]) for p in CUSTOMER_PARAMS if p in params), None)
    action = marked.action if marked is not None and kind is not AuditKind.refusal else \
        action_name(service, request.method, route)
    return AuditRecord(
        record_id=record_id or uuid.uuid4(),
        staff_id=principal.user_id if principal is not None and ENTITY_ID.fullmatch(principal.user_id) else None,
        roles=_ids(principal.roles) if principal is not None else [],
        action=action, kind=kind, service=service, method=request.method, route=route[:200],
        customer_id=customer if customer and ENTITY_ID.fullmatch(customer) else None,
        at=datetime.now(UTC), client_ip=client_ip(request), correlation_id=correlation_id,
        status=status, outcome=outcome_of(status), answered=answered,
    )


def envelope_of(record: AuditRecord) -> Envelope:
    return registry.envelope(record, producer=record.service, event_id=record.record_id, occurred_at=record.at,
                             correlation_id=record.correlation_id)


spool_metadata = MetaData()
spool = Table(
    "audit_spool", spool_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("envelope", Text, nullable=False),
    # a write-ahead row: the record id the final record carries, and until when it is not re-published
    Column("record_id", String(36), nullable=True, index=True),
    Column("hold_until", Float, nullable=True),
)


@dataclass
class WriteAhead:
    """A write request's record id, fixed when the request starts, and whether a provisional row was written
    ahead in one of its transactions (which may have rolled back: the final record's delete is then a no-op)."""

    emitter: AuditEmitter
    request: Request
    correlation_id: str | None
    record_id: uuid.UUID = field(default_factory=uuid.uuid4)
    written: bool = False
    active: bool = True  # the request is in flight (a task it started and that outlives it writes nothing)

    def __call__(self, session: Any, database_url: str) -> None:
        """In an event-store transaction of the request (`sametx.ride_along`): the provisional row, when the
        store is the emitter's own database (its spool)."""
        emitter = self.emitter
        if not self.active or not emitter.spools_in(database_url):
            return
        route = self.request.scope.get("route")
        record = build_record(self.request, service=emitter.service, route=getattr(route, "path", "unmatched"),
                              status=200, correlation_id=self.correlation_id, record_id=self.record_id,
                              answered=False)
        if record is None:
            return
        rid = str(self.record_id)
        row = select(literal(envelope_of(record).model_dump_json(), Text), literal(rid, String(36)),
                     literal(time.time() + emitter.settings.write_ahead_hold_s, Float))
        # one row per request, however many transactions it commits (a bulk command saving in a loop); one
        # whose transaction rolled back is not there, so the next transaction writes it
        session.execute(insert(spool).from_select(
            ["envelope", "record_id", "hold_until"],
            row.where(~exists().where(spool.c.record_id == rid))))
        self.written = True


class AuditEmitter:
    """Queue, publisher and spool of one process's audit records (see the module docstring)."""

    def __init__(self, service: str, kafka: KafkaSettings, engine: Engine | None,
                 settings: AuditEmitSettings | None = None, *, producer: EventProducer | None = None):
        self.service, self.kafka, self.engine = service, kafka, engine
        self.settings = settings or AuditEmitSettings()
        self.producer = producer or EventProducer(kafka, client_id=f"{service}-audit")
        self.topic = kafka.topic(topics.CRM_AUDIT)
        self._queue: asyncio.Queue[Envelope] | None = None
        self._task: asyncio.Task[None] | None = None
        self._spool_ready = False
        self._spool_lock = threading.Lock()
        self._spooled = 0  # records this process believes are in the spool (refreshed when re-publishing)
        self._pending: set[asyncio.Task[Any]] = set()
        self._alerted_at = 0.0
        self._busy = False  # the publisher holds a batch (publishing or spooling it)
        self._stopping = False
        self._ahead: set[uuid.UUID] = set()  # queued records whose write-ahead row may be in the spool
        self._database = _identity(engine.url.render_as_string(hide_password=False)) if engine is not None else None

    # ---------------------------------------------------------------------------------- the request side
    @contextlib.asynccontextmanager
    async def writing(self, request: Request, correlation_id: str | None) -> Any:
        """Around a request (the app factory's middleware): a write request's event-store transactions write
        its record ahead (see the module docstring). The spool table is made sure of first, outside them (on
        SQLite another connection's DDL would wait for the write's own lock)."""
        if request.method not in WRITE_METHODS or self.engine is None:
            yield
            return
        if not self._spool_ready:
            try:
                await asyncio.to_thread(self._ensure_spool)
            except Exception as exc:  # noqa: BLE001 - the database is away: the write will say so itself
                log.warning("audit_spool_unavailable", error=type(exc).__name__)
                yield
                return
        ahead = request.state.audit_write_ahead = WriteAhead(self, request, correlation_id)
        token = ride_along(ahead)
        try:
            yield
        finally:
            ahead.active = False
            reset_along(token)

    def spools_in(self, database_url: str) -> bool:
        """Whether `database_url` is this emitter's database, its spool table there (`writing` made sure)."""
        return self._spool_ready and self._database == _identity(database_url)

    def observe(self, request: Request, *, route: str, status: int, correlation_id: str | None) -> None:
        """Called by the app factory's middleware once the answer's status is known: no I/O here."""
        ahead: WriteAhead | None = getattr(request.state, "audit_write_ahead", None)
        try:
            record = build_record(request, service=self.service, route=route, status=status,
                                  correlation_id=correlation_id, record_id=ahead.record_id if ahead else None)
        except Exception:  # noqa: BLE001 - auditing never breaks an answered request; the ERROR names it
            log.exception("audit_record_invalid", route=route, status=status)
            return
        if record is not None:
            if ahead is not None and ahead.written:
                self._ahead.add(record.record_id)
            self.emit(record)

    def emit(self, record: AuditRecord) -> None:
        envelope = envelope_of(record)
        queue = self._ensure_running()
        try:
            queue.put_nowait(envelope)
        except asyncio.QueueFull:
            self._spool_later([envelope])

    def _ensure_running(self) -> asyncio.Queue[Envelope]:
        if self._queue is None:
            self._queue = asyncio.Queue(self.settings.queue_size)
        if (self._task is None or self._task.done()) and not self._stopping:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.service}-audit")
        return self._queue

    def _spool_later(self, envelopes: list[Envelope]) -> None:
        task = asyncio.get_running_loop().create_task(self._spool(envelopes))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # ------------------------------------------------------------------------------------ the publisher
    async def _run(self) -> None:
        assert self._queue is not None
        next_spool = 0.0
        while not self._stopping:
            try:  # short waits: a stop is seen within half a second, never in the middle of a publish or a spool
                first = await asyncio.wait_for(self._queue.get(), timeout=min(self.settings.spool_retry_s, 0.5))
            except TimeoutError:
                first = None
            batch = [first] if first is not None else []
            while len(batch) < self.settings.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._busy = bool(batch)
            try:
                if batch:
                    if await self._publish(batch):
                        await self._published(batch)
                    else:
                        await self._spool(batch)
            finally:
                self._busy = False
            if self.engine is not None and time.monotonic() >= next_spool:
                next_spool = time.monotonic() + self.settings.spool_retry_s
                await self._republish_spool()

    async def _publish(self, envelopes: list[Envelope]) -> bool:
        try:
            await asyncio.wait_for(self.producer.publish_many(envelopes, topic=self.topic),
                                   timeout=self.settings.publish_timeout_s)
        except Exception as exc:  # noqa: BLE001 - the batch goes to the spool
            log.warning("audit_publish_failed", records=len(envelopes), error=type(exc).__name__)
            return False
        AUDIT_RECORDS.labels(self.service, "published").inc(len(envelopes))
        return True

    # ----------------------------------------------------------------------------------------- the spool
    def _ensure_spool(self) -> Engine:
        assert self.engine is not None
        with self._spool_lock:  # spool writes run in threads: one creates the table
            if not self._spool_ready:
                spool_metadata.create_all(self.engine, checkfirst=True)
                add_missing_columns(self.engine, spool)  # (a spool from before the write-ahead columns)
                self._spool_ready = True
        return self.engine

    def _write_spool(self, envelopes: list[Envelope]) -> None:
        """Spool records (a final record replaces its write-ahead row, in one transaction)."""
        ahead = [str(e.event_id) for e in envelopes if e.event_id in self._ahead]
        with self._ensure_spool().begin() as conn:
            if ahead:
                conn.execute(delete(spool).where(spool.c.record_id.in_(ahead)))
            conn.execute(insert(spool), [{"envelope": e.model_dump_json(), "record_id": str(e.event_id)}
                                         for e in envelopes])
        self._ahead.difference_update(e.event_id for e in envelopes)

    def _delete_ahead(self, record_ids: list[str]) -> None:
        with self._ensure_spool().begin() as conn:
            conn.execute(delete(spool).where(spool.c.record_id.in_(record_ids), spool.c.hold_until.is_not(None)))

    async def _published(self, envelopes: list[Envelope]) -> None:
        """The final records are out: their write-ahead rows go (left there, they are published again after
        the hold, and the store keeps the first)."""
        ahead = [e.event_id for e in envelopes if e.event_id in self._ahead]
        if not ahead:
            return
        self._ahead.difference_update(ahead)
        try:
            await asyncio.to_thread(self._delete_ahead, [str(i) for i in ahead])
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("audit_write_ahead_not_deleted", records=len(ahead), error=type(exc).__name__)

    async def _spool(self, envelopes: list[Envelope]) -> None:
        if self.engine is not None:
            try:
                await asyncio.to_thread(self._write_spool, envelopes)
            except Exception as exc:  # noqa: BLE001 - counted and logged below
                error = type(exc).__name__
            else:
                AUDIT_RECORDS.labels(self.service, "spooled").inc(len(envelopes))
                self._spooled += len(envelopes)
                self._watch_spool()
                return
        else:
            error = "no spool"
        AUDIT_DROPPED.labels(self.service).inc(len(envelopes))
        log.error("audit_records_dropped", records=len(envelopes), error=error,
                  record_ids=[str(e.event_id) for e in envelopes[:20]])

    def _watch_spool(self) -> None:
        AUDIT_SPOOL.labels(self.service).set(self._spooled)
        now = time.monotonic()
        if self._spooled > self.settings.spool_alert and now - self._alerted_at > 60:
            self._alerted_at = now
            log.error("audit_spool_growing", records=self._spooled, limit=self.settings.spool_alert)

    def _read_spool(self) -> tuple[int, list[tuple[int, Envelope]]]:
        with self._ensure_spool().connect() as conn:
            due = (spool.c.hold_until.is_(None)) | (spool.c.hold_until < time.time())
            count = conn.execute(select(func.count()).select_from(spool).where(due)).scalar_one()
            rows = conn.execute(select(spool.c.id, spool.c.envelope).where(due).order_by(spool.c.id)
                                .limit(self.settings.batch_size)).all()
        return count, [(r.id, Envelope.model_validate(json.loads(r.envelope))) for r in rows]

    def _delete_spooled(self, ids: list[int]) -> None:
        with self._ensure_spool().begin() as conn:
            conn.execute(delete(spool).where(spool.c.id.in_(ids)))

    async def _republish_spool(self) -> None:
        """Publish the oldest spooled records (any replica's) and delete them once acknowledged. Two replicas
        may publish the same row: the store keeps each record id once."""
        try:
            count, rows = await asyncio.to_thread(self._read_spool)
        except Exception as exc:  # noqa: BLE001 - the database is away: try again later
            log.warning("audit_spool_unreadable", error=type(exc).__name__)
            return
        self._spooled = count
        self._watch_spool()
        if rows and await self._publish([e for _, e in rows]):
            with contextlib.suppress(Exception):  # undeleted rows are published again: deduplicated downstream
                await asyncio.to_thread(self._delete_spooled, [i for i, _ in rows])
                AUDIT_RECORDS.labels(self.service, "republished").inc(len(rows))
                self._spooled = max(0, count - len(rows))
                AUDIT_SPOOL.labels(self.service).set(self._spooled)

    # ----------------------------------------------------------------------------------------- lifecycle
    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until what was observed so far has been published or spooled (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (self._queue is None or self._queue.empty()) and not self._pending and not self._busy:
                return
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Publish what is queued (bounded), spool the rest, stop the producer."""
        await self.flush()
        self._stopping = True
        if self._task is not None:
            try:  # the publisher ends its turn (bounded by the publish timeout)
                await asyncio.wait_for(self._task, timeout=self.settings.publish_timeout_s + 5)
            except BaseException:  # noqa: BLE001 - cancelled by the timeout, or it failed: the queue is spooled
                pass
            self._task = None
        left: list[Envelope] = []
        while self._queue is not None and not self._queue.empty():
            left.append(self._queue.get_nowait())
        if left:
            await self._spool(left)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.producer.stop()


def write_ahead(session: Any, database_url: str) -> None:
    """For a write request's own transaction outside the event store (a table written directly): its record
    written ahead in it, as `TrackingApplication.save` does in the event store's (nothing outside a write
    request, or when `database_url` is not the emitter's database)."""
    write = along()
    if write is not None:
        write(session, database_url)


@functools.lru_cache(maxsize=64)  # (called on every save of a write request: parsed once per URL)
def _identity(url: str) -> tuple[Any, ...]:
    """What names a database in a URL (driver spellings and the password aside)."""
    u = make_url(url)
    return (u.get_backend_name(), u.host, u.port, u.database)


def audit_emitter(service: str, settings: Any, engine: Engine | None) -> AuditEmitter | None:
    """The emitter of a service's API (`create_app(audit=...)`), None when `AUDIT_EMIT_ENABLED` is off."""
    emit = getattr(settings, "audit_emit", None) or AuditEmitSettings()
    return AuditEmitter(service, settings.kafka, engine, emit) if emit.enabled else None
