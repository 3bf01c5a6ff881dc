"""The processing pipeline's rules, with in-memory stores and no broker, run by each driver: records handed
to `Pipeline.process` as a driver does ("direct"), and through a faust agent (`FaustDriver`, the agent's
`test_context()`). The same rules against the real broker: tests/integration/test_runtime_kafka.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import RecordConflictError
from sqlalchemy.exc import OperationalError

from shared.events import Event, encode, registry
from shared.events.upstream import DepositCompleted
from shared.runtime.deadletter import Inbound
from shared.runtime.errors import PermanentError
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.pipeline import Pipeline
from shared.runtime.settings import KafkaSettings
from shared.runtime.streams import FaustDriver

pytestmark = pytest.mark.asyncio
KAFKA = KafkaSettings(topic_prefix="unitpl.")
TOPIC = KAFKA.topic("funding.events")
DLQ = "unitpl.dlq"


def deposit(customer: str) -> bytes:
    return encode(registry.envelope(DepositCompleted(
        customer_id=customer, account_id="A1", transaction_id=uuid.uuid4().hex, amount=Decimal("10"),
        currency="USD", completed_at=datetime.now(UTC)), producer="unit"))


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def send_raw(self, topic: str, value: bytes, key=None, headers=None) -> None:
        self.sent.append((topic, json.loads(value)))


class Store:
    """A handler over an in-memory store: positions per partition, the customers applied (in order), and
    scripted failures: `poison` customers always fail (PermanentError), `flaky` fails transiently that many
    times first, `conflicts` raises a conflict after another writer stored the position."""

    def __init__(self, name: str | None = None, *, many: bool = True) -> None:
        self.name = name
        self.stored: dict[tuple[str, int], int] = {}
        self.applied: list[str] = []
        self.calls = {"apply": 0, "apply_many": 0}
        self.poison: set[str] = set()
        self.flaky = 0
        self.conflicts = 0
        if not many:
            self.apply_many = None  # type: ignore[method-assign]

    def positions(self) -> dict[tuple[str, int], int]:
        return dict(self.stored)

    def _check(self, parts) -> None:
        if self.flaky:
            self.flaky -= 1
            raise OperationalError("select", {}, Exception("server closed the connection"))
        if self.conflicts:
            self.conflicts -= 1
            for topic, partition, _, nxt in parts:  # another writer applied it and stored the position
                self.applied += [e.payload.customer_id for e in parts[0][2]]
                self.stored[(topic, partition)] = nxt
            raise RecordConflictError("someone else stored first")
        if any(e.payload.customer_id in self.poison for _, _, evs, _ in parts for e in evs):
            raise PermanentError("cannot apply")

    def apply(self, topic, partition, events, next_offset) -> None:
        self.calls["apply"] += 1
        self._record([(topic, partition, events, next_offset)])

    def apply_many(self, parts) -> None:
        self.calls["apply_many"] += 1
        self._record(parts)

    def _record(self, parts) -> None:
        self._check(parts)
        for topic, partition, events, nxt in parts:
            self.applied += [e.payload.customer_id for e in events]
            self.stored[(topic, partition)] = nxt


class Direct:
    """Feeds the pipeline as a driver does: one batch per call."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline, self.batches = pipeline, 0

    async def deliver(self, records: list[Inbound]) -> None:
        self.batches += 1
        await self.pipeline.process(records)


class Faust:
    """Feeds the pipeline through a faust agent of `FaustDriver` (in memory: the agent's test context)."""

    def __init__(self, pipeline: Pipeline, tmp_path) -> None:
        self.pipeline = pipeline
        self.driver = FaustDriver(KAFKA, pipeline, group="unitpl-group", topics=[TOPIC], client_id="unitpl",
                                  window_s=0.005, datadir=str(tmp_path / "faust"))
        self.seen = self.batches = 0  # records and batches the agent handed to the pipeline
        inner = pipeline.process

        async def counting(records, commit=None):
            try:
                return await inner(records, commit)
            finally:
                self.seen += len(records)
                self.batches += 1

        pipeline.process = counting  # type: ignore[method-assign]

    async def deliver(self, records: list[Inbound]) -> None:
        target = self.seen + len(records)
        async with self.driver.agent_for(TOPIC).test_context() as agent:
            for r in records:
                agent.sent_offset = r.offset  # the test context numbers records itself
                await agent.put(r.value, key=r.key, partition=r.partition, wait=False)
            deadline = asyncio.get_running_loop().time() + 10
            while self.seen < target:
                assert asyncio.get_running_loop().time() < deadline, "the agent did not process the records"
                await asyncio.sleep(0.005)  # poll under a deadline


@pytest.fixture(params=["direct", "faust"])
def run(request, tmp_path):
    """`run(*handlers, **pipeline options) -> (driver, pipeline, producer)` under the driver of this run."""

    def make(*handlers, **kw):
        producer = FakeProducer()
        pipeline = Pipeline(list(handlers), producer=producer, dead_letter_topic=DLQ, service="unit", group="g",
                            backoff_s=0.001, **kw)
        driver = Direct(pipeline) if request.param == "direct" else Faust(pipeline, tmp_path)
        return driver, pipeline, producer

    return make


def records(values: list[bytes | None], partition: int = 0, start: int = 0) -> list[Inbound]:
    return [Inbound(TOPIC, partition, start + i, b"k", v, 0) for i, v in enumerate(values)]


async def test_undecodable_records_are_dead_lettered_with_the_field_and_the_rest_applied(run):
    store = Store()
    driver, pipeline, producer = run(store)
    unknown = json.loads(deposit("c3"))
    unknown["event_type"] = "funding.something_else"
    await driver.deliver(records([deposit("c1"), b"{not json", json.dumps(unknown).encode(), deposit("c2")]))
    assert store.applied == ["c1", "c2"] and store.stored[(TOPIC, 0)] == 4
    assert [(t, r["error"]["stage"], r["error"]["field"], r["original"]["offset"]) for t, r in producer.sent] == [
        (DLQ, "decode", "$", 1), (DLQ, "decode", "event_type", 2)]
    assert pipeline.applied == 2 and pipeline.dead_lettered == 2


async def test_transient_errors_are_retried_and_never_dead_lettered(run):
    store = Store()
    store.flaky = 3  # more than `attempts`: transient errors do not count
    driver, _, producer = run(store, attempts=2)
    await driver.deliver(records([deposit("c1"), deposit("c2")]))
    assert store.applied == ["c1", "c2"] and producer.sent == []


async def test_a_poison_record_is_isolated_dead_lettered_and_the_rest_applied_in_order(run):
    store = Store("cards")
    store.poison.add("c-bad")
    driver, _, producer = run(store, attempts=2)
    await driver.deliver(records([deposit("c1"), deposit("c-bad"), deposit("c2")], partition=1)
                         + records([deposit("c3")], partition=2))
    assert store.applied == ["c1", "c2", "c3"] or store.applied == ["c3", "c1", "c2"]
    assert store.stored == {(TOPIC, 1): 3, (TOPIC, 2): 1}
    [(_, record)] = producer.sent
    assert record["original"]["offset"] == 1 and record["error"]["type"] == "PermanentError"
    assert record["error"]["stage"] == "handler:cards" and record["consumer"] == "g"


async def test_every_partition_of_a_batch_in_one_call_when_the_handler_can(run):
    together, alone = Store(), Store(many=False)
    driver, _, _ = run(together)
    await driver.deliver(records([deposit("a")], 0) + records([deposit("b")], 1) + records([deposit("c")], 2))
    # one call per batch the driver fetched (faust may cut three records into more than one batch)
    assert together.calls == {"apply": 0, "apply_many": driver.batches}
    driver, _, _ = run(alone)
    await driver.deliver(records([deposit("a")], 0) + records([deposit("b")], 1))
    assert alone.calls["apply"] == 2 and sorted(alone.applied) == ["a", "b"]


async def test_redelivered_records_below_the_stored_positions_are_skipped(run):
    store = Store()
    store.stored[(TOPIC, 0)] = 2  # applied before a restart
    driver, pipeline, producer = run(store)
    await driver.deliver(records([b"{not json", deposit("old"), deposit("new")]))
    assert store.applied == ["new"] and producer.sent == []  # nothing applied or dead-lettered twice
    assert pipeline.applied == 1


async def test_each_handler_gets_what_it_has_not_applied(run):
    ahead, behind = Store("ahead"), Store("behind")
    ahead.stored[(TOPIC, 0)] = 2
    behind.stored[(TOPIC, 0)] = 1
    driver, _, _ = run(ahead, behind)
    await driver.deliver(records([deposit("c0"), deposit("c1"), deposit("c2")]))
    assert ahead.applied == ["c2"] and behind.applied == ["c1", "c2"]
    assert ahead.stored[(TOPIC, 0)] == behind.stored[(TOPIC, 0)] == 3


async def test_a_conflict_is_retried_and_ends_when_another_writer_stored_the_position(run):
    store = Store(many=False)
    store.conflicts = 1
    driver, _, producer = run(store, attempts=1)
    await driver.deliver(records([deposit("c1")]))
    assert store.applied == ["c1"] and store.calls["apply"] == 1 and producer.sent == []


async def test_an_event_sourced_handler_stores_positions_lazily_for_batches_without_effects(run):
    app = build_application(TrackingApplication, "memory://")
    folded: list[list[str]] = []

    def fold(events: list[Event]) -> ProcessingEvent:
        folded.append([e.payload.customer_id for e in events])
        return ProcessingEvent()

    handler = EventSourcedBatchHandler(app, "lazy", fold, [TOPIC], relevant=lambda e: e.payload.customer_id == "vip")
    driver, _, _ = run(handler)
    await driver.deliver(records([deposit("c1"), deposit("c2")]))
    assert handler.position(TOPIC, 0) == 2  # the first batch of a partition is stored
    await driver.deliver(records([deposit("c3")], start=2))
    assert handler.position(TOPIC, 0) == 2  # nothing relevant: the position waits
    await driver.deliver(records([deposit("vip"), deposit("c4")], start=3))
    assert handler.position(TOPIC, 0) == 5 and folded == [["vip"]]  # stored with the effects
    app.close()
