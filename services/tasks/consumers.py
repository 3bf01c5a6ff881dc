"""Topic handlers of the automatic-task engine: plain functions the faust agents hand every batch to.

- `RULES`: one function per event type, deciding what a customer's task list does with the fact;
- `engine_apply`: loads the customers' task lists, applies the rules, collects the new domain events
  (recorded by `EventSourcedBatchHandler` with a Kafka tracking record, in one event-store transaction);
- `StreamProcessor`: what a faust agent calls with a batch of records: decoding (poison → dead-letter
  topic), skipping records already applied (positions stored with the effects), retries.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import RecordConflictError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.events import ContractError, Envelope, Event, registry
from shared.runtime.db import Tracker
from shared.runtime.handlers import EventSourcedBatchHandler, Part, SqlBatchHandler
from shared.runtime.kafka import EventProducer, Inbound, PermanentError, dead_letter_record
from shared.runtime.logging import bound_contextvars, get_logger
from shared.runtime.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_FAILED, HANDLER_LATENCY

from .application import TasksApplication
from .domain.board import CustomerTasks
from .domain.nodes import Node, Policy, TaskStatus
from .projections.cards import apply_card_events

log = get_logger("tasks.engine")
Rule = Callable[[CustomerTasks, Event, Policy], None]


# ------------------------------------------------------------------------------------------ rules
def _stage_changed(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.observe_stage(e.payload.to_stage, e.payload.changed_at, str(e.event_id), policy)


def _account_status(board: CustomerTasks, e: Event, policy: Policy) -> None:
    if e.payload.status == "rejected":
        board.open_for(Node.account_rejected, e.payload.changed_at, str(e.event_id), policy)


def _funds_moved(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    if p.direction == "withdrawal" and policy.is_large_withdrawal(p.amount, p.currency):
        board.open_for(Node.large_withdrawal, p.occurred_at, str(e.event_id), policy)


def _trade(board: CustomerTasks, e: Event, policy: Policy) -> None:
    if e.payload.first_trade:
        board.open_for(Node.first_trade, e.payload.occurred_at, str(e.event_id), policy)


def _assigned(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    board.assign(p.manager_id, p.team_id, p.assigned_at, str(e.event_id))


def _unassigned(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    board.unassign(p.manager_id, p.team_id, p.unassigned_at, str(e.event_id), p.reason.value)


def _kyc_decided(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p, cause = e.payload, str(e.event_id)
    if p.decision == "more_info_requested":
        board.open_for(Node.kyc_more_info, p.decided_at, cause, policy)
    elif p.decision == "approved":
        board.close_node(Node.kyc_more_info, TaskStatus.converted, p.decided_at, cause)
    else:
        board.close_node(Node.kyc_more_info, TaskStatus.cancelled, p.decided_at, cause)


def _kyc_state(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p, cause = e.payload, str(e.event_id)
    if p.to_state == "more_info_requested":
        board.open_for(Node.kyc_more_info, p.changed_at, cause, policy)
    elif p.to_state in ("resubmitted", "approved"):
        board.close_node(Node.kyc_more_info, TaskStatus.converted, p.changed_at, cause)


RULES: dict[str, Rule] = {
    "crm.customer.stage_changed": _stage_changed,
    "crm.customer.account_status_changed": _account_status,
    "crm.customer.funds_moved": _funds_moved,
    "crm.customer.trade_recorded": _trade,
    "crm.assignment.customer_assigned": _assigned,
    "crm.assignment.customer_unassigned": _unassigned,
    "crm.kyc.case_decided": _kyc_decided,
    "crm.kyc.case_state_changed": _kyc_state,
}


# Cheap checks on the payload alone: most facts (ordinary deposits and trades…) never touch a task
# list, so the task list is not even loaded for them.
MATTERS: dict[str, Callable[[Any, Policy], bool]] = {
    "crm.customer.account_status_changed": lambda p, _: p.status == "rejected",
    "crm.customer.funds_moved": lambda p, policy: p.direction == "withdrawal"
    and policy.is_large_withdrawal(p.amount, p.currency),
    "crm.customer.trade_recorded": lambda p, _: bool(p.first_trade),
    "crm.kyc.case_state_changed": lambda p, _: p.to_state in ("more_info_requested", "resubmitted", "approved"),
}


def engine_apply(app: TasksApplication) -> Callable[[list[Event]], ProcessingEvent]:
    """Reads the task lists of the batch's customers with one query, applies the rules, and collects the
    changed task lists."""

    def apply(events: list[Event]) -> ProcessingEvent:
        boards: dict[str, CustomerTasks] = {}
        relevant = [e for e in events if engine_relevant(e, app.policy)]
        loaded = app.boards([e.payload.customer_id for e in relevant])
        for e in relevant:
            rule = RULES[e.event_type]
            cid = e.payload.customer_id
            board = boards.get(cid)
            if board is None:
                board = loaded.get(cid) or CustomerTasks(customer_id=cid)
            boards[cid] = board
            rule(board, e, app.policy)
        pe = ProcessingEvent()
        for board in boards.values():
            pending = board.pending_events
            if board.version == 1 and len(pending) <= 1:
                continue  # a new task list the facts did not change: do not store it
            for ev in pending:
                if type(ev).__qualname__ in ("CustomerTasks.TaskOpened", "CustomerTasks.TaskClosed"):
                    log.info("task_created" if ev.__class__.__name__ == "TaskOpened" else "task_closed",
                             task_id=ev.task_id, customer_id=ev.customer_id, node=ev.node, cause_id=ev.cause)
            pe.collect_events(board)
        return pe

    return apply


# ------------------------------------------------------------------------------------------ processor
def decode(raw: bytes) -> Event:
    """`registry.decode`, validating the payload once when the event is already at its latest version
    (the common case); anything else, or anything invalid, goes through `registry.decode` itself, which
    also produces the `ContractError` naming the field."""
    try:
        envelope = Envelope.model_validate_json(raw)
        contract = registry.latest(envelope.event_type)
        if envelope.schema_version == contract.version:
            return Event(envelope=envelope, payload=contract.model.model_validate(envelope.payload))
    except (ValidationError, ContractError):
        pass
    return registry.decode(raw)


class Positioned(Protocol):
    name: str

    def position(self, topic: str, partition: int) -> int | None: ...

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None: ...


def engine_relevant(e: Event, policy: Policy) -> bool:
    if e.event_type not in RULES:
        return False
    matters = MATTERS.get(e.event_type)
    return matters is None or matters(e.payload, policy)


class LazyPosition:
    """Most records change nothing (ordinary deposits, trades…). For a batch of only those, storing the
    position is postponed (at most `flush_s`): re-reading such records after a restart is a no-op, and
    it saves a transaction per batch. A batch with effects always stores its position with them."""

    flush_s = 5.0

    def __init__(self) -> None:
        self._stored_at: dict[tuple[str, int], float] = {}

    def skip(self, topic: str, partition: int, effective: bool) -> bool:
        now = time.monotonic()
        if not effective and now - self._stored_at.get((topic, partition), 0.0) < self.flush_s:
            return True
        self._stored_at[(topic, partition)] = now
        return False


class EngineHandler:
    """Aggregates + tracking in the event store (exactly-once per offset; task ids keyed by cause)."""

    name = "engine"

    def __init__(self, app: TasksApplication, consumer: str, topics: list[str]):
        # The agents (one per input topic) run concurrently; a customer's registration and assignment reach
        # two of them at about the same time. One writer at a time in this process, so they do not fail each
        # other's saves (a conflict costs a partition-by-partition retry); conflicts remain possible only
        # with the API and other replicas, and are handled.
        self._lock = threading.Lock()
        self.inner = EventSourcedBatchHandler(app, consumer, engine_apply(app), topics)
        self.app = app
        self.lazy = LazyPosition()

    def position(self, topic: str, partition: int) -> int | None:
        return self.app.process_recorder.max_tracking_id(self.inner.tracking_name(topic, partition))

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        with self._lock:
            self._apply(topic, partition, events, next_offset)

    def _apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        relevant = [e for e in events if engine_relevant(e, self.app.policy)]
        if self.lazy.skip(topic, partition, bool(relevant)):
            return
        try:
            self.inner.apply(topic, partition, relevant, next_offset)
        except RecordConflictError:
            if next_offset <= (self.position(topic, partition) or 0):
                return  # another writer stored this batch's position meanwhile
            self.inner.apply(topic, partition, relevant, next_offset)  # on the task lists as they are now

    def apply_many(self, parts: list[Part]) -> None:
        """Several partitions in one event-store transaction. Any failure, a conflict
        included, raises: the processor then goes partition by partition through `apply`."""
        todo = []
        for topic, partition, events, next_offset in parts:
            relevant = [e for e in events if engine_relevant(e, self.app.policy)]
            if not self.lazy.skip(topic, partition, bool(relevant)):
                todo.append((topic, partition, relevant, next_offset))
        if todo:
            with self._lock:
                self.inner.apply_many(todo)


class CardHandler:
    """Customer card + assignment read model (SQL; event ids and positions in the same transaction)."""

    name = "cards"

    def __init__(self, sessions: sessionmaker[Session], tracker: Tracker):
        self.sessions, self.tracker = sessions, tracker
        self.inner = SqlBatchHandler(sessions, tracker, apply_card_events)
        self.lazy = LazyPosition()

    def position(self, topic: str, partition: int) -> int | None:
        with self.sessions() as s:
            return self.tracker.positions(s).get((topic, partition))

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        self.inner.apply(topic, partition, events, next_offset)

    def apply_many(self, parts: list[Part]) -> None:
        self.inner.apply_many(parts)


_TRANSIENT_NAMES = {"OperationalError", "InterfaceError", "PoolTimeout", "PgOperationalError"}


def _retryable(exc: BaseException) -> bool:
    """Errors a retry can fix. A tracking or aggregate conflict means someone else (another agent on the
    same customer, an API command, another worker after a rebalance) wrote first: re-read and retry.

    (`shared.runtime.kafka.is_transient` cannot be used as is: its `isinstance(exc, A | B | (C,))` raises
    TypeError for every exception that reaches that line.)"""
    if isinstance(exc, PermanentError | ContractError):
        return False
    if isinstance(exc, RecordConflictError | ConnectionError | TimeoutError | sqlite3.OperationalError):
        return True
    if isinstance(exc, SAOperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    return isinstance(exc, psycopg.OperationalError) or type(exc).__name__ in _TRANSIENT_NAMES


@dataclass
class StreamProcessor:
    handlers: Sequence[Positioned]
    producer: EventProducer
    dead_letter_topic: str
    service: str = "tasks"
    group: str = "whale-tasks"
    attempts: int = 3
    backoff_s: float = 0.2
    on_applied: Callable[[], None] | None = None
    stopping: asyncio.Event | None = None
    applied: int = 0
    dead_lettered: int = 0
    threads: int = 16
    _cache: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    _executor: ThreadPoolExecutor | None = None

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Handlers run in the processor's own thread pool (partitions × handlers in parallel, without
        starving the API's `asyncio.to_thread` calls)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="tasks-engine")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def process(self, records: Sequence[Inbound]) -> None:
        """Apply one batch. Each handler (they write to different databases) applies every partition of
        the batch in one transaction (`apply_many`), the handlers in parallel; each partition's records in
        offset order (order matters only within a partition, and one customer's events share one). If a
        handler's `apply_many` fails, that handler goes partition by partition (partitions concurrently),
        which retries conflicts and isolates a poison record."""
        groups: dict[tuple[str, int], list[Inbound]] = {}
        for r in records:
            groups.setdefault((r.topic, r.partition), []).append(r)
        start = asyncio.get_running_loop().time()
        parts = [await self._prepare(topic, partition, recs) for (topic, partition), recs in groups.items()]
        try:
            await asyncio.gather(*(self._apply_handler(handler, parts) for handler in self.handlers))
        except BaseException:
            for topic, partition, *_ in parts:
                self._cache.pop((topic, partition), None)  # re-read the stored positions next time
            raise
        for topic, _partition, positions, decoded, next_offset in parts:
            for handler in self.handlers:
                positions[handler.name] = max(positions[handler.name], next_offset)
            self.applied += len(decoded)
            if decoded:
                EVENTS_CONSUMED.labels(self.service, self.group, topic).inc(len(decoded))
        HANDLER_LATENCY.labels(self.service, self.group).observe(asyncio.get_running_loop().time() - start)
        if self.on_applied:
            self.on_applied()

    async def _prepare(self, topic: str, partition: int, recs: list[Inbound],
                       ) -> tuple[str, int, dict[str, int], list[tuple[Inbound, Event]], int]:
        """Stored positions, records not applied by every handler yet, decoded (undecodable ones to DLQ)."""
        recs.sort(key=lambda r: r.offset)
        positions = self._cache.get((topic, partition))
        if positions is None:
            positions = await self._run(self._positions, topic, partition)
            self._cache[(topic, partition)] = positions
        floor = min(positions.values())
        decoded: list[tuple[Inbound, Event]] = []
        for r in recs:
            if r.offset < floor:
                continue  # every handler has applied it already (re-delivery after a restart)
            try:
                if r.value is None:
                    raise ContractError("$", "empty record (tombstone)")
                decoded.append((r, decode(r.value)))
            except ContractError as exc:
                await self._dead_letter(r, exc, stage="decode")
        return topic, partition, positions, decoded, recs[-1].offset + 1

    async def _apply_handler(self, handler: Positioned, parts: list[Any]) -> None:
        todo = [(topic, partition, [(r, e) for r, e in decoded if r.offset >= positions[handler.name]], nxt)
                for topic, partition, positions, decoded, nxt in parts if nxt > positions[handler.name]]
        if not todo:
            return
        apply_many = getattr(handler, "apply_many", None)
        if apply_many is not None and len(todo) > 1:
            try:
                await self._run(apply_many, [(t, p, [e for _, e in evs], nxt) for t, p, evs, nxt in todo])
                return
            except Exception as exc:  # noqa: BLE001 - partition by partition below
                log.info("batch_split", handler=handler.name, partitions=len(todo), error=type(exc).__name__)
        await asyncio.gather(*(self._apply_isolating(handler, t, p, evs, nxt) for t, p, evs, nxt in todo))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def forget_positions(self) -> None:
        """After a rebalance another worker may have moved on: read the stored positions again."""
        self._cache.clear()

    def floor(self, topic: str, partition: int) -> int:
        """Lowest stored position over the handlers: where this partition must be read from."""
        return min(self._positions(topic, partition).values())

    def _positions(self, topic: str, partition: int) -> dict[str, int]:
        return {h.name: h.position(topic, partition) or 0 for h in self.handlers}

    async def _apply_isolating(self, handler: Positioned, topic: str, partition: int,
                               todo: list[tuple[Inbound, Event]], next_offset: int) -> None:
        try:
            await self._call(handler, topic, partition, [e for _, e in todo], next_offset)
            return
        except Exception as exc:  # noqa: BLE001 - isolate the poison record below
            if not todo:
                raise
            log.warning("batch_failed_isolating", handler=handler.name, topic=topic, partition=partition,
                        error=type(exc).__name__, size=len(todo))
        for inbound, event in todo:
            with bound_contextvars(event_id=str(event.event_id), correlation_id=event.envelope.correlation_id):
                try:
                    await self._call(handler, topic, partition, [event], inbound.offset + 1)
                except Exception as exc:  # noqa: BLE001
                    await self._dead_letter(inbound, exc, stage=f"handler:{handler.name}", event=event)
                    await self._call(handler, topic, partition, [], inbound.offset + 1)
        if todo[-1][0].offset + 1 != next_offset:  # not the same position twice (single-row tracking)
            await self._call(handler, topic, partition, [], next_offset)

    async def _call(self, handler: Positioned, topic: str, partition: int, events: list[Event],
                    next_offset: int) -> None:
        attempt, delay = 0, self.backoff_s
        while True:
            try:
                if attempt:
                    current = await self._run(handler.position, topic, partition) or 0
                    if next_offset <= current:
                        return  # applied meanwhile (a conflict retry after another writer recorded it)
                await self._run(handler.apply, topic, partition, events, next_offset)
                return
            except Exception as exc:
                EVENTS_FAILED.labels(self.service, f"{self.group}-{handler.name}", topic).inc()
                attempt += 1
                if isinstance(exc, PermanentError | ContractError) or not _retryable(exc):
                    if attempt >= self.attempts:
                        raise
                else:
                    log.warning("handler_transient_error", handler=handler.name, topic=topic, partition=partition,
                                error=type(exc).__name__, attempt=attempt)
                    if self.stopping is not None and self.stopping.is_set():
                        raise
                await asyncio.sleep(min(delay, 5.0))
                delay *= 2

    async def _dead_letter(self, inbound: Inbound, exc: BaseException, *, stage: str,
                           event: Event | None = None) -> None:
        reason = "contract" if isinstance(exc, ContractError) else "handler"
        record = dead_letter_record(inbound, exc, consumer=self.group, service=self.service, stage=stage)
        await self.producer.send_raw(
            self.dead_letter_topic, json.dumps(record).encode(), key=inbound.key,
            headers=[("dlq_reason", reason.encode()), ("original_topic", inbound.topic.encode())],
        )
        self.dead_lettered += 1
        EVENTS_DEAD_LETTERED.labels(self.service, self.group, inbound.topic, reason).inc()
        log.error("event_dead_lettered", topic=inbound.topic, partition=inbound.partition, offset=inbound.offset,
                  event_id=str(event.event_id) if event else None, reason=reason, error_type=type(exc).__name__,
                  error=str(exc)[:300] if isinstance(exc, ContractError) else type(exc).__name__)


def inbound_from(message: Any, value: Any) -> Inbound:
    """A faust message as the runtime kit's `Inbound` record."""
    ts = getattr(message, "timestamp", 0) or 0
    return Inbound(message.topic, message.partition, message.offset, message.key, value, int(ts * 1000))


__all__ = ["RULES", "CardHandler", "EngineHandler", "StreamProcessor", "engine_apply", "inbound_from"]
