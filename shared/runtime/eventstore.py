"""Building an `eventsourcing` application on SQLite (embedded default) or PostgreSQL (production).

The application's recorder is a *process recorder*: new domain events can be stored atomically with a
`Tracking` record (topic/partition/offset of the Kafka record that caused them), which is how the
Kafka consumers get exactly-once effect, and how the outbox relay and projections remember positions.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote, urlparse

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.application import ProcessingEvent as _ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import ProcessRecorder, Recording, StoredEvent, Tracking
from eventsourcing.popo import POPOFactory
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

from .logging import get_logger
from .recorders import (
    MORE_TRACKING,
    POPOMultiTrackingRecorder,
    PostgresMultiTrackingRecorder,
    SQLiteMultiTrackingRecorder,
    recorder_topic,
    supports_more_tracking,
)
from .sametx import READ_MODEL, ReadModelFold, along

TApp = TypeVar("TApp", bound=Application)  # type: ignore[type-arg]
log = get_logger("eventstore")

EVENT_NAMESPACE = uuid.UUID("5b0c7a6e-6b8e-4e57-9f3a-3f1d2b7e9a10")


def eventstore_env(url: str) -> dict[str, str]:
    """eventsourcing environment for `sqlite:///path`, `sqlite:///:memory:` or `postgresql://…`."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ":memory:"
        if path in ("", ":memory:"):
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:",
                    "PROCESS_RECORDER_TOPIC": recorder_topic(SQLiteMultiTrackingRecorder)}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "30",
                "PROCESS_RECORDER_TOPIC": recorder_topic(SQLiteMultiTrackingRecorder)}
    if url.startswith("postgres"):
        u = urlparse(url.replace("postgresql+psycopg://", "postgresql://"))
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": u.path.lstrip("/"),
            "POSTGRES_HOST": u.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(u.port or 5432),
            "POSTGRES_USER": unquote(u.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(u.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # No pre-ping (a SELECT 1 round trip before every transaction): the recorder's methods already
            # retry on OperationalError/InterfaceError, which is what a dropped connection raises.
            "POSTGRES_PRE_PING": "n",
            "PROCESS_RECORDER_TOPIC": recorder_topic(PostgresMultiTrackingRecorder),
        }
        return env
    if url.startswith("memory"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    raise ValueError(f"unsupported event store URL scheme: {url.split(':', 1)[0]}")


MISSING = object()


def _pg_stored_events(rec: PostgresAggregateRecorder, condition: str, params: list[Any], *,
                      latest: bool = False) -> list[StoredEvent]:
    """The stored events of the recorder's events table `e` that meet `condition` (a WHERE or JOIN clause
    of ours), in originator and version order, with one query; with `latest`, only each originator's
    latest one."""
    head = "SELECT DISTINCT ON (e.originator_id)" if latest else "SELECT"
    order = "e.originator_id, e.originator_version DESC" if latest else "e.originator_id, e.originator_version"
    stmt = SQL(head + " e.originator_id, e.originator_version, e.topic, e.state FROM {0}.{1} e " + condition
               + " ORDER BY " + order).format(
        Identifier(rec.datastore.schema), Identifier(rec.events_table_name))
    with rec.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(stmt, params)
        return [StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                for r in curs.fetchall()]


class ProcessingEvent(_ProcessingEvent):  # type: ignore[type-arg]
    """eventsourcing's `ProcessingEvent` (the new events of a batch, recorded by `record_processed`), whose
    `collect_events` recognises the library's aggregates by their class: its own asks `isinstance` of two
    runtime-checkable Protocols for every object (`DomainEventProtocol`, `CollectEventsProtocol`), which
    `typing` answers by walking the protocol's attributes, ~10 + ~5 us of CPU per aggregate, more than
    collecting its events. Anything else (a domain event, another kind of aggregate) goes the library's way."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class TrackingApplication(Application):  # type: ignore[type-arg]
    """An Application whose recorder also stores tracking records (a ProcessRecorder), and that calls its
    wake-up callbacks (`on_recorded`) after every recording that stored events.

    Aggregates of the classes in `kept_types` (few and read on every batch: teams, managers, the rule
    book) are kept in memory once loaded. A load brings the kept copy up to date with the events stored
    after its version (one query, usually returning nothing) instead of reading a snapshot and the events
    after it; `refresh_kept` does that for all of them at once. Callers always get their own copy, so a
    change that is never saved leaves the kept one as it was, and saving stays optimistic (a conflict
    with another writer is detected by the store as before)."""

    kept_types: ClassVar[tuple[type, ...]] = ()
    kept_maxsize: ClassVar[int] = 10_000
    # Set by `shared.runtime.commands.guard_outgoing`: validates the events a recording would store against
    # the contracts the outbox will publish, before anything commits; returns the envelopes it built
    # (`outbox.Checked`), which the recording hands to its `on_recordings` callbacks (`checked_outgoing`).
    outgoing_check: Callable[[Sequence[Any]], Any] | None = None
    # The service's read-model fold (`sametx`): given the new domain events of every recording (`save` and
    # `record_processed`), it writes their rows in the transaction that stores them. None: no read model
    # is kept in this store's transactions (projections of their own, or none).
    read_model: ReadModelFold | None = None
    database_url: str | None = None  # the database the store is in (`build_application`; None: in memory)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: OrderedDict[uuid.UUID, Any] = OrderedDict()
        self._kept_lock = threading.Lock()
        self._handover = threading.local()  # .checked: what the check built for the recording in progress
        # recordings of this process between their start and the end of their hand-over (`recording_now`)
        self._recording = 0
        self._recording_lock = threading.Lock()

    def refresh_kept(self) -> None:
        """Bring every kept aggregate up to date with the store (one query on PostgreSQL)."""
        with self._kept_lock:
            self._catch_up_kept(list(self._kept))

    def kept_copy(self, key: uuid.UUID) -> Any:
        """A copy of the kept aggregate as of the last refresh, without a query; `MISSING` if not kept."""
        with self._kept_lock:
            agg = self._kept.get(key, MISSING)
            return agg if agg is MISSING else copy.deepcopy(agg)

    def _keep(self, aggregate: Any) -> None:
        with self._kept_lock:
            self._kept[aggregate.id] = copy.deepcopy(aggregate)
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.kept_maxsize:
                self._kept.popitem(last=False)

    def _catch_up_kept(self, keys: list[uuid.UUID]) -> None:
        if not keys:
            return
        after = {k: self._kept[k].version for k in keys}
        found = self._select_after(after)
        if found is None:  # a recorder without the bulk query: one query per aggregate
            stored = [(k, se) for k, v in after.items() for se in self.recorder.select_events(k, gt=v)]
        else:
            stored = [(se.originator_id, se) for se in found]
        for key, se in stored:
            agg = self._kept.get(key)
            if agg is not None and se.originator_version > agg.version:
                self._kept[key] = self.mapper.to_domain_event(se).mutate(agg)

    def _select_after(self, after: dict[uuid.UUID, int]) -> list[StoredEvent] | None:
        rec = self.recorder
        if not isinstance(rec, PostgresAggregateRecorder):
            return None
        return _pg_stored_events(rec, "JOIN unnest(%s::uuid[], %s::bigint[]) AS k(id, v) "
                                      "ON e.originator_id = k.id AND e.originator_version > k.v",
                                 [list(after), list(after.values())])

    def load_many(self, keys: list[uuid.UUID]) -> dict[uuid.UUID, Any | None]:
        """Loads many aggregates with one query (bulk commands, consumer batches): every stored event of
        those aggregates, projected in version order. Missing aggregates map to None. On PostgreSQL, with
        snapshots, two queries: each aggregate's latest snapshot, then the events after it (as
        `repository.get` does per aggregate)."""
        if self.snapshots is not None and isinstance(self.recorder, PostgresAggregateRecorder) \
                and isinstance(self.snapshots.recorder, PostgresAggregateRecorder) and keys:
            return self._load_many_from_snapshots(keys)
        stored = self._select_many(keys)
        if stored is None:  # a recorder without a bulk query: one by one
            return {k: self.load(k) for k in keys}
        grouped: dict[uuid.UUID, list[Any]] = {}
        for se in stored:
            event = self.mapper.to_domain_event(se)
            grouped.setdefault(event.originator_id, []).append(event)
        return {k: project_aggregate(None, grouped[k]) if k in grouped else None for k in keys}

    def _load_many_from_snapshots(self, keys: list[uuid.UUID]) -> dict[uuid.UUID, Any | None]:
        assert self.snapshots is not None
        keys = list(dict.fromkeys(keys))  # a key twice would join its events twice
        snapshots = {se.originator_id: self.snapshots.mapper.to_domain_event(se) for se in _pg_stored_events(
            self.snapshots.recorder, "WHERE e.originator_id = ANY(%s)", [list(keys)], latest=True)}  # type: ignore[arg-type]
        after = [snapshots[k].originator_version if k in snapshots else 0 for k in keys]
        grouped: dict[uuid.UUID, list[Any]] = {k: [snapshots[k]] for k in snapshots}
        for se in _pg_stored_events(self.recorder, "JOIN unnest(%s::uuid[], %s::bigint[]) AS k(id, v) "  # type: ignore[arg-type]
                                                   "ON e.originator_id = k.id AND e.originator_version > k.v",
                                    [list(keys), after]):
            grouped.setdefault(se.originator_id, []).append(self.mapper.to_domain_event(se))
        return {k: project_aggregate(None, grouped[k]) if k in grouped else None for k in keys}

    def _select_many(self, keys: list[uuid.UUID]) -> list[StoredEvent] | None:
        rec = self.recorder
        if not keys:
            return []
        if isinstance(rec, PostgresAggregateRecorder):
            return _pg_stored_events(rec, "WHERE e.originator_id = ANY(%s)", [list(keys)])
        if isinstance(rec, SQLiteAggregateRecorder):
            marks = ",".join("?" * len(keys))
            stmt = (f"SELECT originator_id, originator_version, topic, state FROM {rec.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version")
            with rec.datastore.transaction(commit=False) as c:
                c.execute(stmt, [k.hex for k in keys])
                return [StoredEvent(uuid.UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"])
                        for r in c.fetchall()]
        return None

    def load(self, key: uuid.UUID) -> Any | None:
        if self.kept_types:
            with self._kept_lock:
                if key in self._kept:
                    self._catch_up_kept([key])
                    return copy.deepcopy(self._kept[key])
        try:
            aggregate = self.repository.get(key)
        except AggregateNotFoundError:
            return None
        if isinstance(aggregate, self.kept_types):
            self._keep(aggregate)
        return aggregate

    # -- the kit's seam over eventsourcing: recording processed events --------------------------------
    def record_processed(self, pe: ProcessingEvent, trackings: Sequence[Tracking]) -> list[Recording]:  # type: ignore[type-arg]
        """Stores the processing event's new domain events together with the tracking records (where the
        consumer got to in each partition it read), in one transaction; then takes the snapshots that are
        due and wakes whoever follows this store (`on_recorded`). With more than one tracking record the
        recorder must store several (`supports_more_tracking`).

        eventsourcing has no public method that records events with a tracking record: its own
        `ProcessApplication.process_event` calls `_record` and `_take_snapshots`. This is the one place the
        kit does the same; no service or handler calls them."""
        if trackings:
            pe.tracking = trackings[0]
            if len(trackings) > 1:
                if not supports_more_tracking(self.recorder):
                    raise NotImplementedError("recorder without more_tracking")
                pe.saved_kwargs[MORE_TRACKING] = list(trackings[1:])
        checked = self.check_outgoing(pe.events)
        self._with_read_model(pe.saved_kwargs, pe.events)
        with self._handing_over(checked):
            recordings = self._record(pe)
            self._notify(recordings)
        self.take_snapshots(pe)
        return recordings

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:  # type: ignore[type-arg, override]
        """`Application.save`, after the outgoing check of the events it is about to store, with the
        read-model rows they imply written in the same transaction (`read_model`)."""
        checked = None
        extra = along() if self.database_url is not None and supports_more_tracking(self.recorder) else None
        if self.outgoing_check is not None or self.read_model is not None or extra is not None:
            events = [e for obj in objs if obj is not None
                      for e in (obj.pending_events if hasattr(obj, "pending_events") else [obj])]
            checked = self.check_outgoing(events)
            self._with_read_model(kwargs, events, extra)
        with self._handing_over(checked):
            return super().save(*objs, **kwargs)

    def _with_read_model(self, kwargs: dict[str, Any], events: Sequence[Any], extra: Any = None) -> None:
        """Pass the read-model fold of `events` to the recorder (`sametx.READ_MODEL`), with the request's own
        write (`sametx.ride_along`: the audit's write-ahead record) when there is one."""
        fold, url = self.read_model, self.database_url
        if not events or (fold is None and extra is None):
            return
        new = list(events)

        def write(session: Any) -> None:
            if fold is not None:
                fold(session, new)
            if extra is not None:
                extra(session, url)

        kwargs[READ_MODEL] = write

    def check_outgoing(self, events: Sequence[Any]) -> Any:
        """Raise `OutgoingRejected` (see `guard_outgoing`) for events whose published form would be invalid;
        else return the envelopes built (`outbox.Checked`; None without a check)."""
        if self.outgoing_check is not None and events:
            return self.outgoing_check(events)
        return None

    @contextmanager
    def _handing_over(self, checked: Any) -> Iterator[None]:
        """A recording and its hand-over (`on_recordings` callbacks): `checked` is what `checked_outgoing`
        answers in this thread meanwhile, and `recording_now` is true."""
        before = getattr(self._handover, "checked", None)
        self._handover.checked = checked
        with self._recording_lock:
            self._recording += 1
        try:
            yield
        finally:
            with self._recording_lock:
                self._recording -= 1
            self._handover.checked = before

    def recording_now(self) -> bool:
        """Whether a recording of this process is under way: what it commits is handed over to the
        `on_recordings` callbacks before it ends, then `on_recorded` callbacks are called."""
        return self._recording > 0

    def checked_outgoing(self) -> Any:
        """In an `on_recordings` callback: the envelopes the outgoing check built for the events just recorded
        (`outbox.Checked`), or None. Held only for the duration of the recording: nothing is kept after it."""
        return getattr(self._handover, "checked", None)

    def take_snapshots(self, pe: ProcessingEvent) -> None:  # type: ignore[type-arg]
        """The snapshots due after recording `pe` (the application's `snapshotting_intervals`). A snapshot is
        an optimisation: a failure is logged, the events stay stored."""
        try:
            self._take_snapshots(pe)
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("snapshot_failed", error=type(exc).__name__)

    def on_recorded(self, callback: Any) -> None:
        """Call `callback()` (from any thread) after every recording that stored events."""
        callbacks = self.__dict__.setdefault("_recorded_callbacks", [])
        if callback not in callbacks:
            callbacks.append(callback)

    def on_recordings(self, callback: Callable[[list[Recording]], None]) -> None:  # type: ignore[type-arg]
        """Call `callback(recordings)` (from any thread) after every commit that stored events: the new
        notifications (ids and domain events) in memory, for the outbox to publish without reading back."""
        callbacks = self.__dict__.setdefault("_recordings_callbacks", [])
        if callback not in callbacks:
            callbacks.append(callback)

    def _notify(self, recordings: list[Recording]) -> None:  # type: ignore[type-arg]
        # eventsourcing's documented hook, called after new events were saved (`save`, `record_processed`)
        if recordings:
            for handover in self.__dict__.get("_recordings_callbacks", ()):
                handover(recordings)
            for callback in self.__dict__.get("_recorded_callbacks", ()):
                callback()

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        if isinstance(self.factory, POPOFactory):  # the in-memory factory has no PROCESS_RECORDER_TOPIC
            return POPOMultiTrackingRecorder()
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        return self.recorder  # type: ignore[return-value]


def build_application(cls: type[TApp], url: str, **extra_env: Any) -> TApp:
    env = eventstore_env(url)
    env.update({k: str(v) for k, v in extra_env.items()})
    app = cls(env=env)
    if isinstance(app, TrackingApplication) and not url.startswith("memory"):
        app.database_url = url  # (what `sametx.ride_along` writers are told)
    return app


def deterministic_event_id(originator_id: object, originator_version: int, index: int = 0) -> uuid.UUID:
    """Stable envelope id for the `index`-th message published for one stored domain event, so a
    re-published outbox event carries the same id and consumers de-duplicate it."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{originator_id}:{originator_version}:{index}")
