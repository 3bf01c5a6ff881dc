"""The kit's event-store recorders: eventsourcing's process recorders that also store, in the transaction
of the events, more tracking records (one per Kafka partition of a poll) and the read-model rows of the
new events (`sametx`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.popo import POPOProcessRecorder
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry

from .sametx import READ_MODEL, write_in_transaction

MORE_TRACKING = "more_tracking"  # keyword of `insert_events`: tracking records beyond the first, same transaction


class PostgresMultiTrackingRecorder(PostgresProcessRecorder):
    """A process recorder that also stores, in the transaction of the events, `more_tracking` (tracking
    records of several Kafka partitions: one transaction for a poll that spans many partitions) and the
    read-model rows of `read_model` (`sametx`: one pass per event).

    eventsourcing's documented way to write more in the events' transaction is a recorder subclass that
    extends `_insert_events` (its searchable-content example), given the keyword arguments of
    `Application.save`; the extra tracking rows are the library's own, so they go through its
    `_insert_tracking`. These three subclasses are the only place the kit touches recorder internals."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing's `insert_events`, with one difference: a conflict (the unique key of an aggregate's
        version: another writer saved that version first) propagates from inside the transaction, which rolls
        back. The library keeps it until the transaction's block has ended, which then COMMITs: when results
        of the failed pipeline were still queued (the executemany of several events), that COMMIT raised
        "pipeline aborted", an OperationalError, instead of the conflict: the library retried it ten times
        and the caller never saw a conflict to retry on fresh state (two assignment scheduler replicas
        reclaiming at once failed about one run in four)."""
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:  # tracking records and read-model rows, pipelined too
                    self._insert_events(curs, stored_events, **kwargs)
                with conn.cursor() as curs:
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    pipeline.sync()  # a conflict raises IntegrityError here, inside the transaction
                    return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        for tracking in kwargs.get(MORE_TRACKING, ()):
            self._insert_tracking(curs, tracking)
        write = kwargs.get(READ_MODEL)
        if write is not None:
            write_in_transaction(curs.connection, "postgresql", write)


class SQLiteMultiTrackingRecorder(SQLiteProcessRecorder):
    __doc__ = PostgresMultiTrackingRecorder.__doc__

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        for tracking in kwargs.get(MORE_TRACKING, ()):
            self._insert_tracking(c, tracking)
        write = kwargs.get(READ_MODEL)
        if write is not None:  # after the events: the write lock is already held
            write_in_transaction(c.sqlite_cursor.connection, "sqlite", write)
        return returning


class POPOMultiTrackingRecorder(POPOProcessRecorder):
    __doc__ = PostgresMultiTrackingRecorder.__doc__

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        for tracking in kwargs.get(MORE_TRACKING, ()):
            self._assert_tracking_uniqueness(tracking)

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if kwargs.get(READ_MODEL) is not None:
            raise NotImplementedError("an in-memory event store has no transaction to share with a read model")
        ids = super()._update_table(stored_events, **kwargs)
        for tracking in kwargs.get(MORE_TRACKING, ()):
            self._insert_tracking(tracking)
        return ids


def recorder_topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def supports_more_tracking(recorder: object) -> bool:
    return isinstance(recorder, PostgresMultiTrackingRecorder | SQLiteMultiTrackingRecorder
                      | POPOMultiTrackingRecorder)
