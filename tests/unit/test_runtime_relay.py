"""Outbox relay and producer recovery, with a fake Kafka producer (the real broker: integration tests).

- `EventProducer` reports, per envelope, what was acknowledged, and replaces its AIOKafkaProducer after any
  failed send (a new producer id: no `OutOfOrderSequenceNumber` forever after an outage);
- the relay publishes a batch in one transaction (aborted and sent again after a failure) and, with a
  publisher without transactions, records its position over the acknowledged prefix and re-sends the rest:
  every stored event is published once per event id, however the failures fall."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from aiokafka.errors import LeaderNotAvailableError, OutOfOrderSequenceNumber
from eventsourcing.persistence import RecordConflictError

from shared.events import encode
from shared.events.crm_assignment import TeamChanged
from shared.runtime.commands import guard_outgoing, guard_outgoing_at
from shared.runtime.eventstore import build_application, deterministic_event_id
from shared.runtime.outbox import OutboxRelay, Outgoing
from shared.runtime.producer import EventProducer, PublishFailed
from shared.runtime.settings import KafkaSettings
from tests.integration.test_runtime_outbox import Team, TeamApp, mapper

pytestmark = pytest.mark.asyncio


class FakeKafka:
    """Stands in for AIOKafkaProducer: sends whose index (over the producer's life) is in `fail` raise
    `error` through their future; acknowledged values reach `log` (what a read_committed consumer sees) at
    once or, in a transaction, on commit."""

    instances: list[FakeKafka] = []

    def __init__(self, log: list[bytes], fail: set[int], error: type[Exception]):
        self.log, self.fail, self.error = log, fail, error
        self.sent = 0
        self.started = self.stopped = False
        self.txn: list[bytes] | None = None
        self.commits = self.aborts = 0
        FakeKafka.instances.append(self)

    async def begin_transaction(self) -> None:
        self.txn = []

    async def commit_transaction(self) -> None:
        self.log.extend(self.txn or ())
        self.txn, self.commits = None, self.commits + 1

    async def abort_transaction(self) -> None:
        self.txn, self.aborts = None, self.aborts + 1

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic, value=None, key=None, headers=None) -> asyncio.Future:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        if self.sent in self.fail:
            fut.set_exception(self.error())
        else:
            (self.txn if self.txn is not None else self.log).append(value)
            fut.set_result(None)
        self.sent += 1
        return fut


def fake_producer(plan: list[tuple[set[int], type[Exception]]], *,
                  transactional: bool = False) -> tuple[EventProducer, list[bytes]]:
    """An EventProducer whose n-th AIOKafkaProducer fails the sends in plan[n] (later ones never fail)."""
    log: list[bytes] = []
    producer = EventProducer(KafkaSettings(topic_prefix="unit."), client_id="unit",
                             transactional_id="unit-outbox" if transactional else None)
    made = iter(plan)
    producer._new = lambda: FakeKafka(log, *next(made, (set(), OutOfOrderSequenceNumber)))  # type: ignore[method-assign]

    async def nothing_committed_yet(topics):  # what the broker holds: the integration tests
        return None

    producer.committed_tail = nothing_committed_yet  # type: ignore[method-assign]
    return producer, log


@pytest.fixture()
def app(tmp_path):
    application = build_application(TeamApp, f"sqlite:///{tmp_path / 'relay.db'}")
    yield application
    application.close()


async def test_the_producer_reports_what_was_acknowledged_and_starts_a_new_session_after_a_failure(app):
    FakeKafka.instances.clear()
    producer, log = fake_producer([({1, 3}, LeaderNotAvailableError)])
    relay = relay_with(app, producer)
    app.save(*[Team(name=f"t{i}") for i in range(5)])
    envelopes = [env for n in app.process_recorder.select_notifications(start=1, limit=10)
                 for env in relay.envelopes(app.mapper.to_domain_event(n))]
    with pytest.raises(PublishFailed) as failed:
        await producer.publish_many(envelopes)
    assert failed.value.acked == [True, False, True, False, True]
    assert isinstance(failed.value.error, LeaderNotAvailableError)
    first = FakeKafka.instances[0]
    assert first.stopped and producer.rebuilds == 1
    await producer.publish_many(envelopes[:1])
    assert len(FakeKafka.instances) == 2 and FakeKafka.instances[1].started  # a new session
    assert len(log) == 4


def relay_with(app, producer: EventProducer, **kwargs) -> OutboxRelay:
    relay = OutboxRelay(app, producer, mapper, service="assignment", **kwargs)
    relay.producer = producer
    return relay


def published_once(app, log: list[bytes]) -> bool:
    ids = Counter(json.loads(v)["event_id"] for v in log)
    expected = {str(deterministic_event_id(e.originator_id, e.originator_version, 0))
                for e in map(app.mapper.to_domain_event, app.process_recorder.select_notifications(start=1, limit=100))}
    return set(ids) == expected and set(ids.values()) == {1}


async def test_the_relay_publishes_in_a_transaction_of_its_own(app):
    relay = OutboxRelay(app, EventProducer(KafkaSettings(topic_prefix="p."), client_id="x"), mapper,
                        service="assignment")
    assert relay.producer.transactional_id == "whale-p.assignment-outbox"  # the same in every replica


async def test_a_failed_transaction_is_aborted_and_sent_again_by_a_new_producer(app):
    FakeKafka.instances.clear()
    producer, log = fake_producer([({2}, LeaderNotAvailableError)], transactional=True)
    relay = relay_with(app, producer, batch_size=8)
    app.save(*[Team(name=f"t{i}") for i in range(12)])
    with pytest.raises(PublishFailed) as failed:
        await relay.publish_once()
    assert failed.value.acked == [False] * 8  # aborted: nothing of the batch is visible
    first = FakeKafka.instances[0]
    assert first.aborts == 1 and first.commits == 0 and first.stopped and log == []
    assert relay.position() == 0
    while await relay.publish_once():
        pass
    # one event alone after the failure (so that a stall would name it), then full batches again
    assert relay.position() == 12 and FakeKafka.instances[1].commits == 3
    assert published_once(app, log)


async def test_a_partly_failed_batch_is_completed_without_publishing_any_event_twice(app):
    # a publisher without transactions: the first session fails sends 2 and 5 of the first batch, the
    # second one the retry of the first event not acknowledged
    producer, log = fake_producer([({2, 5}, LeaderNotAvailableError), ({0}, OutOfOrderSequenceNumber)])
    relay = relay_with(app, producer, batch_size=8)
    app.save(*[Team(name=f"t{i}") for i in range(12)])
    with pytest.raises(PublishFailed):
        await relay.publish_once()
    assert relay.position() == 2  # the acknowledged prefix of the batch
    with pytest.raises(PublishFailed):
        await relay.publish_once()
    assert relay.position() == 2
    while await relay.publish_once():  # 4, 5, 7 and 8 were acknowledged already: not sent again
        pass
    assert relay.position() == 12
    assert published_once(app, log)  # every stored event, once per event id


async def test_a_failure_to_record_the_position_does_not_re_publish(app):
    producer, log = fake_producer([], transactional=True)
    relay = relay_with(app, producer)
    app.save(*[Team(name=f"t{i}") for i in range(3)])
    record = app.process_recorder.insert_tracking

    def down(tracking):
        raise ConnectionError("database down")

    app.process_recorder.insert_tracking = down  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await relay.publish_once()
    app.process_recorder.insert_tracking = record  # type: ignore[method-assign]
    while await relay.publish_once():
        pass
    assert relay.position() == 3 and len(log) == 3  # nothing was sent twice


# ---- each envelope built once: the relay publishes what the outgoing check built -------------------------
def stamped(domain_event) -> list[Outgoing]:
    """A deterministic mapper (the test module's `mapper` stamps the time of mapping)."""
    if isinstance(domain_event, Team.Created | Team.Renamed):
        return [Outgoing(TeamChanged(team_id=str(domain_event.originator_id), name=domain_event.name,
                                     changed_at=domain_event.timestamp), correlation_id="c-1")]
    return []


class TeamAt:
    """A mapper over the aggregate at the event's version (as `guard_outgoing_at` builds them)."""

    def __init__(self, team_at):
        self.team_at = team_at

    def __call__(self, domain_event) -> list[Outgoing]:
        team = self.team_at(domain_event.originator_id, domain_event.originator_version)
        return [Outgoing(TeamChanged(team_id=str(team.id), name=team.name.upper(), changed_at=domain_event.timestamp)),
                Outgoing(TeamChanged(team_id=str(team.id), name=team.name, changed_at=domain_event.timestamp))]


def store_at(app):
    return lambda team_id, version: app.repository.get(team_id, version=version)


def built_from_the_store(app, relay: OutboxRelay) -> list[bytes]:
    """What the relay publishes when it reads the store (after a restart): envelopes built there."""
    return [encode(env) for n in app.process_recorder.select_notifications(start=1, limit=100)
            for env in relay.envelopes(app.mapper.to_domain_event(n))]


async def publish_all(relay: OutboxRelay) -> None:
    while await relay.publish_once():
        pass


async def running(relay: OutboxRelay) -> OutboxRelay:
    """A relay that has read its position (as a running one has): what is handed over follows it."""
    await relay.publish_once()
    return relay


@pytest.mark.parametrize("guard", ["mapper", "mapper at a version"])
async def test_the_relay_publishes_the_envelopes_the_outgoing_check_built_byte_for_byte(app, guard):
    if guard == "mapper":
        guard_outgoing(app, stamped, service="assignment")
        relay_mapper = stamped
    else:
        guard_outgoing_at(app, TeamAt, service="assignment")
        relay_mapper = TeamAt(store_at(app))
    producer, log = fake_producer([], transactional=True)
    relay = OutboxRelay(app, producer, relay_mapper, service="assignment")
    relay.producer = producer
    await running(relay)
    teams = [Team(name=f"t{i}") for i in range(5)]
    app.save(*teams)
    for team in teams[:3]:
        team.rename(team.name + "-renamed")
    app.save(*teams[:3])
    assert app.checked_outgoing() is None  # nothing is held after the recording
    await publish_all(relay)
    assert relay.from_memory == relay.reused == 8  # every event from memory, none mapped again
    assert log == built_from_the_store(app, relay)  # identical to the envelopes built from the store
    assert len(log) == 8 * (1 if guard == "mapper" else 2)


async def test_a_relay_that_maps_otherwise_than_the_check_builds_its_own_envelopes(app):
    guard_outgoing(app, stamped, service="assignment")
    producer, log = fake_producer([], transactional=True)
    other = OutboxRelay(app, producer, lambda e: stamped(e), service="assignment")  # another mapper
    other.producer = producer
    await running(other)
    app.save(*[Team(name=f"t{i}") for i in range(3)])
    await publish_all(other)
    assert other.from_memory == 3 and other.reused == 0
    assert log == built_from_the_store(app, other)


async def test_a_check_for_another_service_is_not_published_by_this_relay(app):
    guard_outgoing(app, stamped, service="tasks")  # another producer name in the envelopes
    producer, log = fake_producer([], transactional=True)
    relay = OutboxRelay(app, producer, stamped, service="assignment")
    relay.producer = producer
    await running(relay)
    app.save(Team(name="t"))
    await publish_all(relay)
    assert relay.reused == 0 and [json.loads(v)["producer"] for v in log] == ["whale-crm/assignment"]


async def test_a_recording_that_fails_hands_nothing_over(app):
    guard_outgoing(app, stamped, service="assignment")
    producer, log = fake_producer([], transactional=True)
    relay = OutboxRelay(app, producer, stamped, service="assignment")
    relay.producer = producer
    await running(relay)
    team = Team(name="t")
    app.save(team)
    stale = app.repository.get(team.id)
    team.rename("first")
    app.save(team)
    stale.rename("second")  # the same version as "first": an optimistic-concurrency conflict
    with pytest.raises(RecordConflictError):
        app.save(stale)
    assert app.checked_outgoing() is None
    await publish_all(relay)
    assert relay.reused == 2 and [json.loads(v)["payload"]["name"] for v in log] == ["t", "first"]
    assert log == built_from_the_store(app, relay)


async def test_what_a_recording_under_way_commits_is_published_from_its_hand_over_not_read_again(app, tmp_path):
    guard_outgoing(app, stamped, service="assignment")
    producer, log = fake_producer([], transactional=True)
    reads: list[tuple[int, int]] = []  # (notifications in the store, batch the relay read) during hand-overs

    def relay_reads_meanwhile(recordings) -> None:  # an on_recordings callback before the relay's own
        assert app.recording_now()
        batch, _, _ = relay._read()  # the relay's turn while the recording hands over (committed already)
        reads.append((app.process_recorder.max_notification_id(), len(batch)))

    app.on_recordings(relay_reads_meanwhile)
    relay = OutboxRelay(app, producer, stamped, service="assignment")
    relay.producer = producer
    await running(relay)
    app.save(*[Team(name=f"t{i}") for i in range(3)])
    assert reads == [(3, 0)] and relay.deferred == 1 and not app.recording_now()
    await publish_all(relay)
    assert relay.from_memory == relay.reused == 3  # published from the hand-over, none mapped again

    other = build_application(TeamApp, f"sqlite:///{tmp_path / 'relay.db'}")  # another process, same store
    other.save(Team(name="elsewhere"))  # committed there: nothing handed over to this relay
    await publish_all(relay)
    assert relay.from_memory == 3 and [json.loads(v)["payload"]["name"] for v in log] == ["t0", "t1", "t2",
                                                                                          "elsewhere"]
    assert log == built_from_the_store(app, relay)
    other.close()
