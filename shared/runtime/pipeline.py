"""The one processing pipeline of every consumer of every service, whatever fetches the records (the
aiokafka `BatchConsumer`, the faust-streaming `FaustDriver`, a test calling `process`):

    records ─► skip what is below the positions stored with the effects (re-delivery)
            ─► decode (a contract error: dead letter, with the field and the reason)
            ─► apply: each handler folds the batch into its own store and stores every partition's next
               offset in the same transaction, all partitions of the batch at once (`apply_many`);
               after a failure partition by partition, then record by record: a poison record is
               dead-lettered with the reason, the rest applied once
            ─► commit (the driver's offsets, for lag monitoring) ─► notify (`on_applied`)

Transient errors (database down, pool exhausted) and conflicts (another writer stored first) are retried
with back-off, never dead-lettered: an outage stalls the consumer (visible as lag), it loses nothing.

Handlers (`BatchHandler`) are synchronous and run in threads. A pipeline may have several handlers over
the same records (tasks: the task engine and the customer cards), each with its own store and positions;
a record below every handler's position is skipped, otherwise each handler gets what it has not applied.
`process` may be called concurrently for disjoint partitions (faust runs one agent per topic).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from shared.events import ContractError, Event, registry

from .deadletter import DeadLetters, Inbound, RawSender
from .errors import is_conflict, is_transient
from .logging import bound_contextvars, get_logger
from .metrics import EVENTS_CONSUMED, EVENTS_FAILED, HANDLER_LATENCY

log = get_logger("pipeline")

Key = tuple[str, int]  # (topic, partition)
Part = tuple[str, int, list[Event], int]  # (topic, partition, events in partition order, next offset)
Commit = Callable[[dict[Key, int]], Awaitable[None]]


class BatchHandler(Protocol):
    """Applies events to one store. Synchronous; the pipeline calls it in a thread.

    A handler may also have `position(topic, partition) -> int | None` (read one partition's stored
    position, preferred when reading all of them is expensive), `apply_many(parts)` (see
    `MultiPartitionHandler`) and a `name` (several handlers in one pipeline; dead-letter stage)."""

    def positions(self) -> dict[Key, int]:
        """Next offset per (topic, partition) as stored with the effects."""
        ...

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        """Apply `events` (in order; may be empty) and store `next_offset`, atomically."""
        ...


class MultiPartitionHandler(BatchHandler, Protocol):
    """A handler that can also apply a batch of several partitions in one transaction, storing every
    partition's next offset with the effects. If it raises, the pipeline falls back to `apply` partition by
    partition (where a poison record is isolated)."""

    def apply_many(self, parts: list[Part]) -> None: ...


@dataclass
class _Batch:
    """One partition's share of a batch: the records to apply, decoded, and the offset after them."""

    key: Key
    decoded: list[tuple[Inbound, Event]]
    next_offset: int
    stored: list[int]  # each handler's stored position (the pipeline's list for this partition)


class Pipeline:
    def __init__(self, handlers: Sequence[BatchHandler], *, producer: RawSender, dead_letter_topic: str,
                 service: str, group: str, attempts: int = 3, backoff_s: float = 0.2,
                 on_applied: Callable[[], None] | None = None, decode: Callable[[bytes], Event] = registry.decode,
                 threads: int | None = None, stopping: asyncio.Event | None = None):
        self.handlers = list(handlers)
        self.service, self.group = service, group
        self.attempts, self.backoff_s = attempts, backoff_s
        self.on_applied, self._decode = on_applied, decode
        self.dead_letters = DeadLetters(producer, dead_letter_topic, service=service, consumer=group)
        self.stopping = stopping or asyncio.Event()
        self.applied = 0
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._stored: dict[Key, list[int]] = {}  # per partition: each handler's stored position, as known here
        self._labels = [f"{group}-{n}" if (n := getattr(h, "name", None)) else group for h in self.handlers]
        self._stages = [f"handler:{n}" if (n := getattr(h, "name", None)) else "handler" for h in self.handlers]

    @property
    def dead_lettered(self) -> int:
        return self.dead_letters.count

    # -- positions --------------------------------------------------------------------------------
    def read_positions(self, keys: Iterable[Key]) -> dict[Key, list[int]]:
        """Every handler's stored position of these partitions, read from the stores (blocking)."""
        keys = list(keys)
        columns = [_read(h, keys) for h in self.handlers]
        return {k: [col[j] for col in columns] for j, k in enumerate(keys)}

    def assign(self, keys: Iterable[Key]) -> dict[Key, int]:
        """Newly assigned partitions: read their stored positions (blocking); returns where to read each
        from (the lowest position over the handlers)."""
        found = self.read_positions(keys)
        self._stored.update(found)
        return {k: min(v) for k, v in found.items()}

    def floor(self, topic: str, partition: int) -> int:
        """Where this partition must be read from, as stored now (blocking)."""
        return min(self.read_positions([(topic, partition)])[(topic, partition)])

    def forget(self, keys: Iterable[Key] | None = None) -> None:
        """Read the stored positions again next time (a rebalance: another member may have moved on)."""
        if keys is None:
            self._stored.clear()
        for k in keys or ():
            self._stored.pop(k, None)

    # -- processing -------------------------------------------------------------------------------
    async def process(self, records: Sequence[Inbound], commit: Commit | None = None) -> dict[Key, int]:
        """Apply one batch (any partitions, any order); returns the next offset per partition as now stored
        by every handler (what `commit` was given)."""
        groups: dict[Key, list[Inbound]] = {}
        for r in records:
            groups.setdefault((r.topic, r.partition), []).append(r)
        missing = [k for k in groups if k not in self._stored]
        if missing:
            self._stored.update(await self._run(self.read_positions, missing))
        stored = {k: self._stored[k] for k in groups}  # (a rebalance may forget them meanwhile)
        batches = []
        for key, recs in groups.items():
            floor = min(stored[key])
            recs = sorted((r for r in recs if r.offset >= floor), key=lambda r: r.offset)
            if recs:
                batches.append(_Batch(key, await self._decoded(recs), recs[-1].offset + 1, stored[key]))
        if not batches:
            return {}
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            await asyncio.gather(*(self._apply_handler(i, batches) for i in range(len(self.handlers))))
        except BaseException:
            self.forget([b.key for b in batches])  # read the stored positions again next time
            raise
        offsets = {}
        for b in batches:
            offsets[b.key] = min(b.stored)
            if offsets[b.key] >= b.next_offset and b.decoded:
                self.applied += len(b.decoded)
                EVENTS_CONSUMED.labels(self.service, self.group, b.key[0]).inc(len(b.decoded))
        HANDLER_LATENCY.labels(self.service, self.group).observe(loop.time() - start)
        if commit is not None:
            await commit(offsets)
        if self.on_applied is not None:
            self.on_applied()
        return offsets

    async def _decoded(self, recs: list[Inbound]) -> list[tuple[Inbound, Event]]:
        out = []
        for r in recs:
            try:
                if r.value is None:
                    raise ContractError("$", "empty record (tombstone)")
                out.append((r, self._decode(r.value)))
            except ContractError as exc:
                await self.dead_letters.send(r, exc, stage="decode")
        return out

    async def _apply_handler(self, i: int, batches: list[_Batch]) -> None:
        """One handler: every partition in one transaction if it can (`apply_many`), else (or after a failure
        other than a transient one) partition by partition. Stops between partitions when stopping."""
        todo = []
        for b in batches:
            pos = b.stored[i]
            if b.next_offset > pos:
                todo.append((b, [(r, e) for r, e in b.decoded if r.offset >= pos]))
        if not todo:
            return
        apply_many = getattr(self.handlers[i], "apply_many", None)
        if apply_many is not None and await self._together(i, apply_many, todo):
            return
        for b, evs in todo:
            await self._apply_isolating(i, b, evs)
            if self.stopping.is_set():
                break

    async def _together(self, i: int, apply_many: Callable[[list[Part]], None],
                        todo: list[tuple[_Batch, list[tuple[Inbound, Event]]]]) -> bool:
        parts = [(b.key[0], b.key[1], [e for _, e in evs], b.next_offset) for b, evs in todo]
        delay = self.backoff_s
        while True:
            try:
                await self._run(apply_many, parts)
            except Exception as exc:  # noqa: BLE001 - decided below
                if not is_transient(exc) or self.stopping.is_set():
                    log.info("batch_split", consumer=self._labels[i], partitions=len(parts),
                             error=type(exc).__name__)
                    return False
                log.warning("handler_transient_error", consumer=self._labels[i], partitions=len(parts),
                            error=type(exc).__name__)
                await asyncio.sleep(min(delay, 5.0))
                delay *= 2
                continue
            for b, _ in todo:
                b.stored[i] = max(b.stored[i], b.next_offset)
            return True

    async def _apply_isolating(self, i: int, b: _Batch, evs: list[tuple[Inbound, Event]]) -> None:
        try:
            await self._call(i, b, [e for _, e in evs], b.next_offset)
            return
        except Exception as exc:  # noqa: BLE001 - isolate the poison record below
            if not evs:
                raise
            log.warning("batch_failed_isolating", consumer=self._labels[i], topic=b.key[0], partition=b.key[1],
                        error=type(exc).__name__, size=len(evs))
        # One by one: the failing record is dead-lettered, the rest applied in order.
        for inbound, event in evs:
            with bound_contextvars(event_id=str(event.event_id), correlation_id=event.envelope.correlation_id):
                try:
                    await self._call(i, b, [event], inbound.offset + 1)
                except Exception as exc:  # noqa: BLE001
                    await self.dead_letters.send(inbound, exc, stage=self._stages[i], event=event)
                    await self._call(i, b, [], inbound.offset + 1)
        # Past the records that failed to decode at the end of the batch (if any). Not the same position
        # again: an event store's single-row tracking refuses to record a position twice.
        if evs[-1][0].offset + 1 != b.next_offset:
            await self._call(i, b, [], b.next_offset)

    async def _call(self, i: int, b: _Batch, events: list[Event], next_offset: int) -> None:
        """`apply` with retries: transient errors and conflicts without limit (unless stopping), others
        `attempts` times. Before a retry, a position stored meanwhile (by another writer) ends it."""
        handler, key, attempt, delay = self.handlers[i], b.key, 0, self.backoff_s
        while True:
            try:
                if not attempt or (await self._run(_read, handler, [key]))[0] < next_offset:
                    await self._run(handler.apply, key[0], key[1], events, next_offset)
                b.stored[i] = max(b.stored[i], next_offset)
                return
            except Exception as exc:
                EVENTS_FAILED.labels(self.service, self._labels[i], key[0]).inc()
                attempt += 1
                if is_transient(exc) or is_conflict(exc):
                    log.warning("handler_transient_error", consumer=self._labels[i], topic=key[0],
                                partition=key[1], error=type(exc).__name__, attempt=attempt)
                    if self.stopping.is_set():
                        raise
                elif attempt >= self.attempts:
                    raise
                await asyncio.sleep(min(delay, 5.0))
                delay *= 2

    # -- threads ----------------------------------------------------------------------------------
    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Handlers run in threads: the pipeline's own pool if it has one (partitions × handlers in
        parallel without starving the API's `asyncio.to_thread` calls), else the loop's default one."""
        if self._threads is None:
            return await asyncio.to_thread(fn, *args)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix=f"{self.service}-pipeline")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _read(handler: BatchHandler, keys: list[Key]) -> list[int]:
    """A handler's stored positions of these partitions (0: none), one query per partition if it can read
    one (`position`), else one read of all of them."""
    one = getattr(handler, "position", None)
    if one is not None:
        return [one(*k) or 0 for k in keys]
    stored = handler.positions()
    return [stored.get(k) or 0 for k in keys]
