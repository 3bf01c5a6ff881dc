"""One transaction per batch: the read-model rows a recording implies are written in the transaction that
stores its events and tracking records (`shared.runtime.sametx`), on real PostgreSQL and on SQLite; the
outbox relay publishes the handed-over notifications from memory, and reads the store only for a gap."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, Tracking
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.orm import Session

from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.outbox import OutboxRelay
from shared.runtime.settings import KafkaSettings


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str):
        self.name, self.n = name, 0

    @event("Added")
    def add(self, by: int) -> None:
        self.n += by


md = MetaData()
counters = Table("counter_view", md, Column("counter_id", String(36), primary_key=True),
                 Column("name", String(40)), Column("n", Integer, nullable=False))


class Fails(Exception):
    pass


def fold(session: Session, events: Sequence[Any]) -> None:
    """Rows from the new events in memory; a counter named "poison" fails (after writing a row)."""
    for e in events:
        key = str(e.originator_id)
        if isinstance(e, Counter.Started):
            session.execute(counters.insert().values(counter_id=key, name=e.name, n=0))
            if e.name == "poison":
                raise Fails("the read model refuses it")
        elif isinstance(e, Counter.Added):
            session.execute(counters.update().where(counters.c.counter_id == key).values(n=counters.c.n + e.by))


class CounterApp(TrackingApplication):
    pass


@pytest.fixture(params=["postgres", "sqlite"])
def world(request, pg_database, sqlite_url):
    url = pg_database("sametx") if request.param == "postgres" else sqlite_url("sametx")
    engine = make_engine(url)
    md.create_all(engine)
    app = build_application(CounterApp, url)
    app.read_model = fold
    app.url = url  # for a second application on the same store
    yield app, session_factory(engine)
    app.close()
    engine.dispose()


def rows(sessions) -> dict[str, int]:
    with sessions() as s:
        return {r.counter_id: r.n for r in s.execute(select(counters))}


def test_rows_commit_with_the_events_and_tracking(world):
    app, sessions = world
    a = Counter("a")
    a.add(2)
    app.save(a)  # a command: save
    pe = ProcessingEvent()
    a.add(3)
    b = Counter("b")
    pe.collect_events(a, b)
    app.record_processed(pe, [Tracking("consumer:t:0", 7)])  # a consumer batch: record_processed
    assert rows(sessions) == {str(a.id): 5, str(b.id): 0}
    assert app.process_recorder.max_tracking_id("consumer:t:0") == 7
    assert app.process_recorder.max_notification_id() == 4


def test_a_failing_fold_stores_nothing(world):
    app, sessions = world
    pe = ProcessingEvent()
    ok, poison = Counter("ok"), Counter("poison")
    pe.collect_events(ok, poison)
    with pytest.raises(Fails):
        app.record_processed(pe, [Tracking("consumer:t:0", 3)])
    assert rows(sessions) == {}
    assert (app.process_recorder.max_notification_id() or 0) == 0
    assert app.process_recorder.max_tracking_id("consumer:t:0") is None


def test_a_conflict_of_several_events_is_a_conflict_every_time(world):
    """A stale save of several events (an executemany: the rows after the refused one are still queued in the
    pipeline when the conflict is raised) is refused as a conflict (IntegrityError, which the application
    turns into RecordConflictError for the caller to retry on fresh state), never as "pipeline aborted" (an
    OperationalError, which the library retried ten times and no caller retried)."""
    app, sessions = world
    recorder, attempts = app.process_recorder, []
    name = "_insert_stored_events" if hasattr(recorder, "_insert_stored_events") else "_insert_events"  # SQLite
    insert = getattr(recorder, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        return insert(*args, **kwargs)

    setattr(recorder, name, counted)
    for round_ in range(20):
        a = Counter(f"multi{round_}")
        app.save(a)
        stale, fresh = app.repository.get(a.id), app.repository.get(a.id)
        fresh.add(1)
        app.save(fresh)
        for i in range(5):
            stale.add(100 + i)
        attempts.clear()
        with pytest.raises(IntegrityError):
            app.save(stale)
        assert len(attempts) == 1, f"round {round_}: {len(attempts)} attempts (retried as an OperationalError)"
        assert rows(sessions)[str(a.id)] == 1


def test_a_conflicting_write_leaves_no_rows(world):
    app, sessions = world
    a = Counter("a")
    app.save(a)
    stale = app.repository.get(a.id)
    fresh = app.repository.get(a.id)
    fresh.add(1)
    app.save(fresh)
    stale.add(100)  # the same version again: the store refuses it, and the rows it implied
    with pytest.raises(IntegrityError):
        app.save(stale)
    assert rows(sessions) == {str(a.id): 1}
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(counters)) == 1


class CountingRecorder:
    """Counts the relay's reads of the notification log."""

    def __init__(self, app: TrackingApplication):
        self.reads = 0
        recorder = app.process_recorder
        original = recorder.select_notifications

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads += 1
            return original(*args, **kwargs)

        recorder.select_notifications = counted  # type: ignore[method-assign]


class Sent:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def publish_many(self, envelopes: Sequence[Any], **_: Any) -> None:
        self.envelopes.extend(envelopes)

    def topic_for(self, envelope: Any) -> str:
        return "t"

    async def start(self) -> None:
        pass

    async def committed_tail(self, topics: Sequence[str]) -> None:  # nothing committed to Kafka before this test
        return None

    async def stop(self) -> None:
        pass


def team_changed(domain_event: Any) -> list[Any]:
    from datetime import UTC, datetime

    from shared.events.crm_assignment import TeamChanged
    from shared.runtime.outbox import Outgoing

    if isinstance(domain_event, Counter.Started):
        return [Outgoing(TeamChanged(team_id=str(domain_event.originator_id), name=domain_event.name,
                                     changed_at=datetime.now(UTC)))]
    return []


@pytest.mark.asyncio
async def test_the_relay_publishes_handed_over_notifications_from_memory_and_reads_only_a_gap(world):
    app, _ = world
    relay = OutboxRelay(app, _Producer(), team_changed, service=f"sametx-{uuid.uuid4().hex[:6]}")
    relay.producer = sent = Sent()  # type: ignore[assignment]
    app.save(Counter("before"))  # stored before the relay knew its position: read from the store
    assert await relay.publish_once() == 1
    reads = CountingRecorder(app)
    for i in range(5):
        app.save(Counter(f"c{i}"))
    assert await relay.publish_once() == 5  # one batch, mapped from the handed-over domain events
    assert [e.payload["name"] for e in sent.envelopes] == ["before", "c0", "c1", "c2", "c3", "c4"]
    assert reads.reads == 0 and relay.from_memory == 5
    # a commit the relay never heard of (another process): the next hand-over leaves a gap, read from the store
    other = build_application(CounterApp, app.url)
    other.read_model = fold
    other.save(Counter("elsewhere"))
    other.close()
    app.save(Counter("after"))
    while await relay.publish_once():
        pass
    assert [e.payload["name"] for e in sent.envelopes][-2:] == ["elsewhere", "after"]
    assert reads.reads == 2  # the gap alone ("elsewhere"), "after" from memory, then the last call's "nothing new"
    assert relay.from_memory == 6 and relay.gaps_skipped == 0
    assert len({e.event_id for e in sent.envelopes}) == len(sent.envelopes) == 8
    # ids taken by a transaction that rolled back (PostgreSQL's sequence does not give them back; SQLite's rowids
    # are): the gap is looked up once, found empty, and what follows is published from memory
    with pytest.raises(Fails):
        app.save(Counter("poison"))
    recorder = app.process_recorder
    postgres = type(recorder).__name__.startswith("Postgres")
    if postgres:  # a rolled-back insert's nextval
        with recorder.datastore.get_connection() as conn:
            conn.execute(f"SELECT nextval(pg_get_serial_sequence('{recorder.events_table_name}', "
                         "'notification_id'))")
    app.save(Counter("next"))
    while await relay.publish_once():
        pass
    assert [e.payload["name"] for e in sent.envelopes][-1] == "next" and len(sent.envelopes) == 9
    assert relay.from_memory == 7
    gap = 1 if postgres else 0
    assert (relay.gaps_skipped, reads.reads) == (gap, 3 + gap)


def _Producer() -> Any:
    from shared.runtime.kafka import EventProducer

    return EventProducer(KafkaSettings(topic_prefix="sametx."), client_id="unused")



class SnapshottingCounterApp(TrackingApplication):
    snapshotting_intervals = {Counter: 10}  # noqa: RUF012 - eventsourcing API


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_load_many_gives_what_the_repository_gives_with_snapshots(backend, pg_database, sqlite_url):
    """`load_many` (one or two queries for many aggregates; on PostgreSQL from each one's latest snapshot and
    the events after it) reconstructs every aggregate as `repository.get` does; a missing one is None."""
    url = pg_database("loadmany") if backend == "postgres" else sqlite_url("loadmany")
    app = build_application(SnapshottingCounterApp, url)
    try:
        long, short, snapped = Counter("long"), Counter("short"), Counter("snapped")
        for i in range(25):  # snapshots at versions 10 and 20, events after them
            long.add(i)
            app.record_processed(_collected(long), [])
        short.add(4)
        for _ in range(9):  # a snapshot at version 10, no event after it
            snapped.add(1)
        for agg in (short, snapped):
            app.record_processed(_collected(agg), [])
        missing = uuid.uuid4()
        loaded = app.load_many([long.id, short.id, snapped.id, missing])
        assert loaded[missing] is None
        for agg in (long, short, snapped):
            got, want = loaded[agg.id], app.repository.get(agg.id)
            assert (got.version, got.name, got.n) == (want.version, want.name, want.n) == (agg.version, agg.name,
                                                                                              agg.n)
        assert app.snapshots is not None and len(list(app.snapshots.get(long.id))) == 2
    finally:
        app.close()


def _collected(*aggregates: Any) -> ProcessingEvent:
    pe = ProcessingEvent()
    pe.collect_events(*aggregates)
    return pe
