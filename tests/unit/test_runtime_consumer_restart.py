"""BatchConsumer supervises its aiokafka client: a failure of the client never ends the consumer (issue 14,
the fault suite's broker outage). Against a scripted fake client (no broker): the failures aiokafka shows
during an outage are each followed by a new client that resumes from the stored positions, every record is
applied once; a client that keeps failing while the broker answers ends `run` loudly (ConsumerGaveUp); a
stop or an outside cancellation still ends it. The same against a real broker stopped and started:
tests/integration/test_runtime_consumer_outage.py."""

from __future__ import annotations

import asyncio
from collections import namedtuple

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from shared.runtime import kafka as kafka_mod
from shared.runtime.kafka import BatchConsumer, ConsumerGaveUp
from shared.runtime.service import run_components
from tests.conftest import eventually
from tests.unit.test_runtime_pipeline import KAFKA, TOPIC, FakeProducer, Store, deposit

Record = namedtuple("Record", "topic partition offset key value timestamp")
TP = TopicPartition(TOPIC, 0)
LOG = [deposit(f"C{i}") for i in range(30)]  # the partition's records


class Task:
    """Stands in for one of aiokafka's background tasks."""

    def __init__(self) -> None:
        self.ended = False

    def done(self) -> bool:
        return self.ended


class FakeClient:
    """One aiokafka client: `script` says how it fails — "start" (its start raises, as with the broker away),
    "cancelled" (getmany raises CancelledError, as aiokafka's check_errors does once its coordinator task
    ended cancelled), "fetcher" (its fetcher task ends, after which nothing would be fetched), "error" (getmany
    raises), after `after` polls; None: healthy."""

    made: list[FakeClient] = []
    scripts: list[tuple[str | None, int]] = []

    def __init__(self, **kwargs) -> None:
        self.script, self.after = FakeClient.scripts.pop(0) if FakeClient.scripts else (None, 0)
        self.polls, self.stopped, self.listener = 0, False, None
        self.position_ = 0
        self._fetcher = type("F", (), {"_fetch_task": Task()})()
        self._coordinator = type("C", (), {"_coordination_task": Task()})()
        FakeClient.made.append(self)

    def subscribe(self, topics, listener=None) -> None:
        self.listener = listener

    async def start(self) -> None:
        if self.script == "start":
            raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1, <AddressFamily.AF_INET: 2>)]")
        await self.listener.on_partitions_assigned([TP])

    def seek(self, tp, offset) -> None:
        self.position_ = offset

    def assignment(self):
        return {TP}

    async def getmany(self, timeout_ms=0, max_records=None):
        self.polls += 1
        if self.script and self.polls > self.after:
            if self.script == "cancelled":
                raise asyncio.CancelledError
            if self.script == "error":
                raise RuntimeError("client broke")
            if self.script == "fetcher":
                self._fetcher._fetch_task.ended = True
                await asyncio.sleep(0.01)
                return {}
        await asyncio.sleep(0.005)
        chunk = LOG[self.position_:self.position_ + 5]
        records = [Record(TOPIC, 0, self.position_ + i, b"k", v, 0) for i, v in enumerate(chunk)]
        self.position_ += len(records)
        return {TP: records} if records else {}

    async def commit(self, offsets) -> None: ...

    async def position(self, tp) -> int:
        return self.position_

    def highwater(self, tp) -> int:
        return len(LOG)

    async def stop(self) -> None:
        self.stopped = True


@pytest.fixture()
def fake_client(monkeypatch):
    FakeClient.made, FakeClient.scripts = [], []
    monkeypatch.setattr(kafka_mod, "AIOKafkaConsumer", FakeClient)
    answers = {"broker": True}

    async def _answers(settings) -> bool:
        return answers["broker"]

    monkeypatch.setattr(kafka_mod, "_answers", _answers)
    return answers


def consumer(store: Store, max_restarts: int = 8) -> BatchConsumer:
    return BatchConsumer(settings=KAFKA, service="unit", group_id="unit.g", topics=[TOPIC], handler=store,
                         producer=FakeProducer(), dead_letter_topic="unit.dlq", batch_size=5,
                         max_restarts=max_restarts, restart_backoff_s=0.01)


async def applied_all(store: Store) -> None:
    await eventually(lambda: len(store.applied) == len(LOG), timeout=20, message="every record applied")


@pytest.mark.parametrize("failure", ["cancelled", "fetcher", "error"])
async def test_a_client_failing_under_the_consumer_is_replaced_and_nothing_is_applied_twice(fake_client, failure,
                                                                                             capsys):
    FakeClient.scripts = [(failure, 2), (failure, 1), (None, 0)]
    store = Store()
    c = consumer(store)
    running = asyncio.create_task(c.run())
    await asyncio.wait_for(applied_all(store), timeout=10)
    assert not running.done()
    await c.stop()
    await asyncio.wait_for(running, timeout=10)  # a stop on purpose: ends without error
    assert store.applied == [f"C{i}" for i in range(len(LOG))]  # each once, in order
    assert c.restarts == 2 and len(FakeClient.made) == 3
    assert all(client.stopped for client in FakeClient.made)  # every failed client was closed
    out = capsys.readouterr().out
    assert out.count('"consumer_failed"') == 2


async def test_a_start_that_fails_while_the_broker_is_away_is_retried_without_giving_up(fake_client):
    fake_client["broker"] = False  # unreachable: as long as it stays away, never give up
    FakeClient.scripts = [("start", 0)] * 6 + [(None, 0)]
    store = Store()
    c = consumer(store, max_restarts=3)
    running = asyncio.create_task(c.run())
    await asyncio.wait_for(applied_all(store), timeout=20)
    await c.stop()
    await asyncio.wait_for(running, timeout=10)
    assert c.restarts == 6 and len(store.applied) == len(LOG)


async def test_a_client_that_keeps_failing_while_the_broker_answers_stops_the_process_loudly(fake_client, capsys):
    FakeClient.scripts = [("start", 0)] * 10
    store = Store()
    other_stopped = asyncio.Event()

    class Other:
        async def run(self) -> None:
            await other_stopped.wait()

        async def stop(self) -> None:
            other_stopped.set()

    with pytest.raises(ConsumerGaveUp, match="3 failures in a row"):
        await asyncio.wait_for(run_components([consumer(store, max_restarts=3), Other()], install_signals=False),
                               timeout=10)
    assert other_stopped.is_set()
    out = capsys.readouterr().out
    assert '"consumer_gave_up"' in out and '"component_failed"' in out


async def test_an_outside_cancellation_still_ends_the_consumer(fake_client):
    store = Store()
    c = consumer(store)
    running = asyncio.create_task(c.run())
    await asyncio.wait_for(applied_all(store), timeout=10)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert len(FakeClient.made) == 1 and FakeClient.made[0].stopped


async def test_a_stop_during_a_start_that_waits_ends_the_consumer(fake_client):
    class Waits(FakeClient):
        async def start(self) -> None:
            await asyncio.sleep(3600)  # waiting for the first assignment with the broker away

    kafka_mod.AIOKafkaConsumer = Waits  # restored by monkeypatch
    c = consumer(Store())
    running = asyncio.create_task(c.run())
    await asyncio.sleep(0.05)
    await c.stop()
    await asyncio.wait_for(running, timeout=10)
    assert FakeClient.made[0].stopped  # the half-started client was closed


def test_the_client_tasks_the_consumer_watches_exist_in_aiokafka():
    """`_ended_task` reads two private attributes of aiokafka's consumer: fail here when an upgrade renames them."""
    import inspect

    from aiokafka.consumer import fetcher, group_coordinator

    assert "self._fetch_task = " in inspect.getsource(fetcher.Fetcher)
    assert "self._coordination_task = " in inspect.getsource(group_coordinator.GroupCoordinator)
    assert "self._fetcher = " in inspect.getsource(AIOKafkaConsumer)
    assert "self._coordinator = " in inspect.getsource(AIOKafkaConsumer)


class Trickle:
    """A client with `per_poll` records ready at each poll (a steady trickle), none after the log's end."""

    def __init__(self, per_poll: int) -> None:
        self.per_poll, self.position_, self.polls = per_poll, 0, 0

    async def getmany(self, timeout_ms=0, max_records=None):
        self.polls += 1
        await asyncio.sleep(0.001)
        n = min(self.per_poll, max_records or self.per_poll)
        records = [Record(TOPIC, 0, self.position_ + i, b"k", v, 0)
                   for i, v in enumerate(LOG[self.position_:self.position_ + n])]
        self.position_ += len(records)
        return {TP: records} if records else {}


async def test_a_poll_short_of_a_batch_gathers_what_arrives_within_the_linger():
    lingering = BatchConsumer(settings=KAFKA.model_copy(update={"consumer_linger_ms": 2000}), service="unit",
                              group_id="unit.g", topics=[TOPIC], handler=Store(), producer=FakeProducer(),
                              dead_letter_topic="unit.dlq", batch_size=5)
    client = Trickle(per_poll=2)
    batch = await lingering._poll(client)
    # a full batch (2 + 2 + 1 records, in offset order) as soon as it is full, not after the whole linger
    assert [r.offset for r in batch[TP]] == [0, 1, 2, 3, 4] and client.polls == 3

    eager = BatchConsumer(settings=KAFKA.model_copy(update={"consumer_linger_ms": 0}), service="unit",
                          group_id="unit.g", topics=[TOPIC], handler=Store(), producer=FakeProducer(),
                          dead_letter_topic="unit.dlq", batch_size=5)
    assert [r.offset for r in (await eager._poll(Trickle(per_poll=2)))[TP]] == [0, 1]


async def test_the_linger_ends_with_what_arrived_when_records_stop():
    c = BatchConsumer(settings=KAFKA.model_copy(update={"consumer_linger_ms": 50}), service="unit",
                      group_id="unit.g", topics=[TOPIC], handler=Store(), producer=FakeProducer(),
                      dead_letter_topic="unit.dlq", batch_size=100)
    client = Trickle(per_poll=4)
    client.position_ = len(LOG) - 6  # six records left
    batch = await c._poll(client)
    assert [r.offset for r in batch[TP]] == list(range(len(LOG) - 6, len(LOG)))
