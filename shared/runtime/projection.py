"""Projections: read models (SQLAlchemy) built from an eventsourcing application's notification log.

Each projection stores its position (last notification id applied) in its own database, in the same
transaction as the rows it writes, so it resumes exactly where it stopped and a rebuild is: empty the
read-model tables, reset the position, run again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, select
from sqlalchemy.orm import Session, sessionmaker

from .eventstore import TrackingApplication
from .health import ComponentHealth, store_backlog, stuck_at
from .logging import get_logger
from .metrics import PROJECTION_POSITION
from .wakeup import Waker, follow

log = get_logger("projection")

ApplyBatch = Callable[[Session, list[Any]], None]  # (session, [domain events]) -> None


def projection_position_table(metadata: MetaData) -> Table:
    return Table(
        "projection_position",
        metadata,
        Column("projection", String(120), primary_key=True),
        Column("position", BigInteger, nullable=False),
    )


class ProjectionRunner:
    def __init__(self, app: TrackingApplication, sessions: sessionmaker[Session], positions: Table,
                 apply: ApplyBatch, *, name: str, service: str, batch_size: int = 1000, interval_s: float = 0.05):
        self.app, self.sessions, self.positions, self._apply = app, sessions, positions, apply
        self.name, self.service, self.batch_size, self.interval_s = name, service, batch_size, interval_s
        self._wake = Waker()
        self._stopping = asyncio.Event()
        app.on_recorded(self.wake)
        self._position: int | None = None  # as last written by this runner; None: read it from the read model
        self.health = ComponentHealth(service, f"projection:{name}")
        self._narrow = False  # after a failure: one event at a time, so a stall names its event
        self._attempt: tuple[Any, Any] | None = None  # (first notification, its domain event) being applied

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def position(self, session: Session | None = None) -> int:
        if session is None:
            with self.sessions() as s:
                return self.position(s)
        return session.scalar(select(self.positions.c.position).where(self.positions.c.projection == self.name)) or 0

    def run_once(self) -> int:
        """Apply the next batch of notifications; returns how many were applied.

        On PostgreSQL the position row is locked for the transaction, so several worker replicas running
        the same projection take turns instead of applying the same batch twice. The position this runner
        last wrote is remembered: finding nothing new costs one event-store query and no read-model
        transaction."""
        n, _ = self._run_once()
        return n

    def _run_once(self) -> tuple[int, bool]:
        rec = self.app.process_recorder
        hint = self._position
        limit = 1 if self._narrow else self.batch_size
        ahead = rec.select_notifications(start=hint + 1, limit=limit) if hint is not None else None
        if hint is not None and not ahead:
            self.health.progressed(position=hint)
            return 0, False
        self._attempt = None
        try:
            with self.sessions.begin() as s:
                q = select(self.positions.c.position).where(self.positions.c.projection == self.name)
                if s.get_bind().dialect.name == "postgresql":
                    q = q.with_for_update()
                stored = s.scalar(q)
                pos = stored or 0
                notifications = ahead if pos == hint else rec.select_notifications(start=pos + 1, limit=limit)
                if not notifications:
                    self._position = pos
                    self.health.progressed(position=pos)
                    return 0, False
                self._attempt = (notifications[0], None)
                events = [self.app.mapper.to_domain_event(n) for n in notifications]
                self._attempt = (notifications[0], events[0])
                self._apply(s, events)
                last = notifications[-1].id
                if stored is None:
                    s.execute(self.positions.insert().values(projection=self.name, position=last))
                else:
                    s.execute(self.positions.update().where(self.positions.c.projection == self.name)
                              .values(position=last))
        except BaseException as exc:
            self._position = None  # read it from the read model again
            self._failed(exc)
            raise
        self._position = last
        self._narrow = False
        PROJECTION_POSITION.labels(self.service, self.name).set(last)
        full = len(notifications) >= limit
        # behind (a full batch): the backlog and the age of the event after this batch (about the last one's)
        backlog = (rec.max_notification_id() or 0) - last if full else 0
        self.health.progressed(position=last, backlog=backlog, oldest=events[-1].timestamp if full else None)
        return len(notifications), full

    def _failed(self, exc: BaseException) -> None:
        """Report the event this runner could not apply (one at a time from now on, so it is named)."""
        if self._attempt is None:  # the store or the read model could not be read: no event to name
            return
        n, event = self._attempt
        self._narrow = True
        self.health.failed(stuck_at(n), exc, oldest=getattr(event, "timestamp", None), position=self._position,
                           backlog=store_backlog(self.app, n.id))

    def forget_position(self) -> None:
        """Read the position from the read model next time (after it was reset, e.g. for a rebuild)."""
        self._position = None

    def catch_up(self) -> int:
        self.forget_position()
        total = 0
        while n := self.run_once():
            total += n
        return total

    def _step(self) -> int:
        """For `follow`: a batch that was not full reached the end of the log, so the runner waits for the
        next wake-up instead of reading again at once (a recording meanwhile has set the wake-up)."""
        n, full = self._run_once()
        return n if full else 0

    async def run(self) -> None:
        log.info("projection_started", projection=self.name, position=self.position())
        with self.health:  # counts for this process's readiness while it runs
            # Woken by recordings in this process and, on PostgreSQL, by NOTIFY from other processes (the API).
            await follow(self.app, self._wake, self._stopping, lambda: asyncio.to_thread(self._step),
                         interval_s=self.interval_s,
                         on_error=lambda exc: None)  # reported by `health` (WARNING per retry, one ERROR)


def rebuild_from_store(app: TrackingApplication, sessions: sessionmaker[Session], tables: list[Table],
                       fold: ApplyBatch, *, batch_size: int = 5000) -> int:
    """Empty `tables` and replay every stored event of `app` into them with `fold(session, events)` (the
    fold the service runs in the events' transactions), all in ONE read-model transaction: readers see the
    old rows until the new ones commit, and a failure leaves the old ones. Returns the events replayed.

    With the read model in the event store's database (`sametx`), a recording meanwhile waits for the
    rows this transaction holds and writes its own rows after it: run it with the workers stopped anyway
    (`python -m services.<name> rebuild`), as the rows of events stored meanwhile are written once."""
    rec = app.process_recorder
    replayed, start = 0, time.perf_counter()
    with sessions.begin() as s:
        for table in tables:
            s.execute(delete(table))
        position = 0
        while notifications := rec.select_notifications(start=position + 1, limit=batch_size):
            fold(s, [app.mapper.to_domain_event(n) for n in notifications])
            position = notifications[-1].id
            replayed += len(notifications)
    elapsed = time.perf_counter() - start
    log.info("read_model_replayed", events=replayed, seconds=round(elapsed, 3),
             events_per_s=round(replayed / elapsed) if elapsed > 0 else None)
    return replayed
