"""The components that follow an event store (outbox relay, projection runner) remember the position they
last recorded, so that finding nothing new costs one event-store query, while a replica that moved the
position meanwhile is still respected (nothing published or applied twice) and a reset position (a
rebuild) is read again. Event store on real PostgreSQL and on SQLite; the relay publishes to the real
broker."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, select

from shared.events import topics
from shared.events.crm_assignment import TeamChanged
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay, Outgoing
from shared.runtime.projection import ProjectionRunner, projection_position_table

pytestmark = pytest.mark.asyncio


class Team(Aggregate):
    @event("Created")
    def __init__(self, name: str):
        self.name = name


class TeamApp(TrackingApplication):
    pass


def mapper(domain_event: Any) -> list[Outgoing]:
    return [Outgoing(TeamChanged(team_id=str(domain_event.originator_id), name=domain_event.name,
                                 changed_at=datetime.now(UTC)))]


@pytest.fixture(params=["postgres", "sqlite"])
def urls(request, pg_database, sqlite_url) -> tuple[str, str]:
    if request.param == "postgres":
        return pg_database("followers_es"), pg_database("followers_rm")
    return sqlite_url("followers_es"), sqlite_url("followers_rm")


def count_calls(recorder: Any, names: tuple[str, ...]) -> Counter:
    """Counts calls of the recorder's query methods (instance attributes wrapping the bound methods)."""
    calls: Counter = Counter()
    for name in names:
        original = getattr(recorder, name)

        def wrapped(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _original(*args, **kwargs)

        setattr(recorder, name, wrapped)
    return calls


QUERIES = ("select_notifications", "max_tracking_id", "max_notification_id")


async def test_relay_idle_check_is_one_query_and_a_replica_does_not_republish(kafka_settings, urls):
    es_url, _ = urls
    await ensure_topics(kafka_settings, [kafka_settings.topic(topics.CRM_ASSIGNMENT)])
    producer = EventProducer(kafka_settings, client_id="followers-relay")
    await producer.start()
    one, two = build_application(TeamApp, es_url), build_application(TeamApp, es_url)
    a = OutboxRelay(one, producer, mapper, service="assignment", batch_size=2)
    b = OutboxRelay(two, producer, mapper, service="assignment", batch_size=2)
    try:
        one.save(*[Team(name=f"t{i}") for i in range(3)])
        while await a.publish_once():
            pass
        assert a.published == 3 and a.position() == 3

        calls = count_calls(one.process_recorder, QUERIES)
        assert await a.publish_once() == 0
        assert dict(calls) == {"select_notifications": 1}, "an idle check reads the log once, nothing else"

        # b starts after a published everything: it reads the recorded position, publishes nothing
        assert await b.publish_once() == 0 and b.published == 0
        # a publishes two more; b's remembered position is behind, so b finds them, reads the recorded
        # position again and sees they were published: still nothing from b
        one.save(Team(name="t3"), Team(name="t4"))
        while await a.publish_once():
            pass
        assert a.published == 5
        assert await b.publish_once() == 0 and b.published == 0
        assert b.position() == 5
    finally:
        await producer.stop()
        one.close()
        two.close()


def _runner(app: TrackingApplication, rm_url: str, name: str = "teams") -> tuple[ProjectionRunner, Any, Table]:
    md = MetaData()
    teams = Table("teams", md, Column("n", Integer, primary_key=True, autoincrement=True), Column("name", String(50)))
    positions = projection_position_table(md)
    engine = make_engine(rm_url)
    md.create_all(engine)
    sessions = session_factory(engine)

    def apply(session, events) -> None:  # noqa: ANN001
        session.execute(teams.insert(), [{"name": e.name} for e in events])

    return ProjectionRunner(app, sessions, positions, apply, name=name, service="test", batch_size=2), sessions, teams


async def test_projection_idle_check_is_one_query_replicas_take_turns_and_a_reset_is_replayed(urls):
    es_url, rm_url = urls
    one, two = build_application(TeamApp, es_url), build_application(TeamApp, es_url)
    a, sessions, teams = _runner(one, rm_url)
    b, _, _ = _runner(two, rm_url)

    def rows() -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(teams))

    try:
        one.save(*[Team(name=f"t{i}") for i in range(3)])
        assert a.catch_up() == 3 and rows() == 3

        calls = count_calls(one.process_recorder, QUERIES)
        assert a.run_once() == 0
        assert dict(calls) == {"select_notifications": 1}, "an idle check reads the log once, nothing else"

        # b (another replica) applies new events: a's remembered position is behind; a must not apply
        # them again
        one.save(Team(name="t3"), Team(name="t4"))
        assert b.catch_up() == 2 and rows() == 5
        assert a.run_once() == 0 and rows() == 5

        # a rebuild empties the read model and resets the position: catch_up replays everything
        with sessions.begin() as s:
            s.execute(delete(teams))
            s.execute(delete(a.positions))
        assert a.catch_up() == 5 and rows() == 5
    finally:
        one.close()
        two.close()


class Desk(Aggregate):
    @event("Created")
    def __init__(self, name: str):
        self.name = name
        self.members: list[str] = []

    @event("Joined")
    def join(self, member: str) -> None:
        self.members.append(member)


class DeskApp(TrackingApplication):
    kept_types = (Desk,)
    snapshotting_intervals = {Desk: 2}  # snapshots must not confuse the kept copies


async def test_kept_aggregates_follow_other_writers_and_never_see_unsaved_changes(urls):
    """The rule-book/teams/managers cache: a kept aggregate is brought up to date with what another
    process (the API) stored, a caller's unsaved change never leaks into the kept copy, and a save from a
    stale copy is still refused by the store."""
    es_url, _ = urls
    worker, api = build_application(DeskApp, es_url), build_application(DeskApp, es_url)
    try:
        desk = Desk(name="HK")
        worker.save(desk)
        assert worker.load(desk.id).members == []  # now kept

        d = api.load(desk.id)
        d.join("m1")
        d.join("m2")
        d.join("m3")
        api.save(d)
        assert worker.load(desk.id).members == ["m1", "m2", "m3"], "caught up on load"

        d = api.load(desk.id)
        d.join("m4")
        api.save(d)
        worker.refresh_kept()
        kept = worker.kept_copy(desk.id)
        assert kept.members == ["m1", "m2", "m3", "m4"] and kept.version == d.version, "caught up in bulk"

        mine = worker.load(desk.id)
        mine.join("never-saved")
        assert "never-saved" not in worker.load(desk.id).members, "callers get copies"

        stale = worker.kept_copy(desk.id)
        d = api.load(desk.id)
        d.join("m5")
        api.save(d)
        stale.join("late")
        with pytest.raises(Exception) as conflict:
            worker.save(stale)
        assert "Conflict" in type(conflict.value).__name__ or "Integrity" in type(conflict.value).__name__
        assert worker.load(desk.id).members[-1] == "m5"
    finally:
        worker.close()
        api.close()


async def test_tracker_marks_event_ids_once_per_consumer(urls):
    """The de-duplication of every SQL consumer: ids new to this consumer come back once (duplicates in
    the batch included), ids it has seen do not, and another consumer's ids are its own."""
    from shared.runtime.db import Tracker, tracking_tables

    _, rm_url = urls
    md = MetaData()
    position, processed = tracking_tables(md)
    engine = make_engine(rm_url)
    md.create_all(engine)
    sessions = session_factory(engine)
    a, b = Tracker(position, processed, "a"), Tracker(position, processed, "b")
    try:
        with sessions.begin() as s:
            assert a.first_time(s, ["e1", "e2", "e1"]) == {"e1", "e2"}
            assert a.first_time(s, []) == set()
        with sessions.begin() as s:
            assert a.first_time(s, ["e2", "e3"]) == {"e3"}
            assert b.first_time(s, ["e2"]) == {"e2"}
        with sessions.begin() as s:  # rolled back: not marked
            assert a.first_time(s, ["e4"]) == {"e4"}
            s.rollback()
        with sessions.begin() as s:
            assert a.first_time(s, [f"x{i}" for i in range(2500)] + ["e4", "e1"]) == {f"x{i}" for i in range(2500)} | {"e4"}
    finally:
        engine.dispose()
