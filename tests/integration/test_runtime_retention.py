"""Retention of the de-duplication table: `processed_event` ids older than the retention age are pruned
(in bounded batches, at most once per interval, inside a consumer's transaction), recent ones are kept;
a table from before the `processed_at` column keeps working without retention. Real PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, select, update

from shared.runtime.db import Tracker, make_engine, session_factory, tracking_tables
from shared.runtime.retention import RetentionSettings


@pytest.fixture(params=["postgres", "sqlite"])
def url(request, pg_database, sqlite_url) -> str:
    return pg_database("retention") if request.param == "postgres" else sqlite_url("retention")


def test_expired_ids_are_pruned_in_bounded_batches_and_recent_ones_kept(url):
    engine = make_engine(url)
    metadata = MetaData()
    position, processed = tracking_tables(metadata)
    metadata.create_all(engine)
    sessions = session_factory(engine)
    settings = RetentionSettings(retention_days=7, prune_interval_s=3600, prune_batch=3)
    tracker = Tracker(position, processed, "c1", retention=settings)
    other = Tracker(position, processed, "c2", retention=settings)
    old = [f"old-{i}" for i in range(5)]
    with sessions.begin() as s:
        assert tracker.first_time(s, [*old, "new-1"]) == {*old, "new-1"}
        assert other.first_time(s, ["old-0"]) == {"old-0"}
        s.execute(update(processed).where(processed.c.event_id.in_(old))
                  .values(processed_at=datetime.now(UTC) - timedelta(days=8)))
    with sessions.begin() as s:
        assert tracker.pruner.maybe_prune(s) == 0  # not due yet (interval)
        assert tracker.pruner.prune(s) == 3  # bounded batch
        assert tracker.pruner.prune(s) == 2
        assert tracker.pruner.prune(s) == 0
    with sessions() as s:
        left = set(s.execute(select(processed.c.consumer, processed.c.event_id)).all())
    assert left == {("c1", "new-1"), ("c2", "old-0")}  # another consumer's ids are its own business
    with sessions.begin() as s:  # within the window: still a duplicate; past it: the trade-off, new again
        assert tracker.first_time(s, ["new-1", "old-0"]) == {"old-0"}
    engine.dispose()


def test_a_table_from_before_the_column_works_without_retention(url):
    engine = make_engine(url)
    metadata = MetaData()
    position, _ = tracking_tables(MetaData())
    legacy = Table("processed_event", metadata, Column("consumer", String(120), primary_key=True),
                   Column("event_id", String(36), primary_key=True))
    position.to_metadata(metadata)
    metadata.create_all(engine)
    _, current = tracking_tables(MetaData())  # the code's idea of the table has the column
    tracker = Tracker(position, current, "c1", retention=RetentionSettings(prune_interval_s=0))
    sessions = session_factory(engine)
    with sessions.begin() as s:
        assert tracker.first_time(s, ["a", "b"]) == {"a", "b"}  # the prune failed in its savepoint only
    assert tracker.pruner.enabled is False
    with sessions.begin() as s:
        assert tracker.first_time(s, ["a", "c"]) == {"c"}
    with sessions() as s:
        assert {r for (r,) in s.execute(select(legacy.c.event_id))} == {"a", "b", "c"}
    engine.dispose()
