"""The import worker: takes the unfinished import jobs (queued, or running when a process stopped) and
imports their files chunk by chunk, lane by lane. A job's rows are cut into lanes (`domain.imports.lane_of`);
worker `w` of `W` imports the lanes `l` with `l % W == w`: on PostgreSQL the service's worker process is
worker 0 and starts `import_processes - 1` more (`ImportProcesses`), so a file is imported on as many cores,
which one process's GIL kept to one. Each lane reads the whole file and takes its own rows.

Each chunk's customers (a Customer aggregate per accepted row: created, or the existing one, with an
`import.customer_imported` fact) and its lane's `ChunkProcessed` (the lane's new row offset, the chunk's
counts and rejections) are saved in ONE event-store transaction with the read-model rows they imply; the
outbox then publishes `crm.customer.customer_registered` (+ stage) for the new customers, which the
assignment service routes like registrations. A restart resumes each lane after its last committed chunk;
two workers on one lane conflict on the lane's version and only one chunk commits; the last lane to finish
finishes the job."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, OperationalError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime import gc_tuning
from shared.runtime.health import ComponentHealth, Stuck
from shared.runtime.logging import configure_logging, get_logger

from .application import Batch, CustomerApplication, IngestCache, MatchStep
from .domain.customer import Customer, customer_uuid
from .domain.imports import ImportJob, ImportLane, RowRejected, job_uuid, lane_of, lane_uuid, validate_row
from .import_files import BadFile, iter_rows
from .projections.tables import Tables
from .settings import CustomerSettings

log = get_logger("customer.importer")
ACTIVE = ("queued", "running")
CONFLICT_RETRIES = 5
# A job that fails this many times in a row for a reason other than the database being away is marked
# failed (`internal_error:<type>`) instead of being retried forever; a database outage is retried for as
# long as it lasts (the stall is declared once by the component's health: one ERROR, metric, readiness).
GIVE_UP_AFTER = 5
TRANSIENT = (OperationalError, SqlOperationalError, ConnectionError, TimeoutError)


def file_path(directory: Path, job_id: str, fmt: str) -> Path:
    return directory / f"{job_id}.{fmt}"


@dataclass(frozen=True)
class Chunk:
    start: int  # data rows of the file read before it (the lane's offset it continues from)
    end: int  # data rows read after it (the lane's offset once it is saved)
    rows: list[tuple[int, dict[str, Any]]]  # the lane's rows among them


class ImportRunner:
    """A worker component (`run`/`stop`): polls for unfinished jobs every `poll_s` (or when woken by an
    upload in the same process) and imports its lanes of one job at a time in a thread. `report`: told after
    each attempt whether the worker is stalled (an import process tells the service's worker)."""

    def __init__(self, app: CustomerApplication, sessions: sessionmaker[Session], tables: Tables, *,
                 directory: Path, id_key: bytes, chunk_rows: int = 2000, poll_s: float = 2.0,
                 match: MatchStep | None = None, worker: int = 0, workers: int = 1,
                 report: Callable[[bool], None] | None = None):
        self.app, self.sessions, self.tables, self.match = app, sessions, tables, match
        self.directory, self.id_key, self.chunk_rows, self.poll_s = directory, id_key, chunk_rows, poll_s
        self.worker, self.workers, self.report = worker, workers, report
        self._stopping = threading.Event()
        self._wake: asyncio.Event | None = None
        self.health = ComponentHealth("customer", "importer" if worker == 0 else f"importer-{worker}")
        self._job: str | None = None  # the job being worked on (what a failure is counted against)
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        with self.health:  # a job that cannot get on makes the worker unready (and says so once, at ERROR)
            while not self._stopping.is_set():
                busy = await self._step()
                if self.report is not None:
                    self.report(self.health.stalled)
                if busy:
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
                except TimeoutError:
                    pass

    async def _step(self) -> bool:
        """One job (or none waiting). True: look for the next one at once."""
        self._job = None
        try:
            job_id = await asyncio.to_thread(self.next_job)
            if job_id is None:
                self.health.progressed()
                return False
            self._job = job_id
            await asyncio.to_thread(self.process, job_id)
            self.health.progressed()
            return not self._stopping.is_set()
        except Exception as exc:  # noqa: BLE001 - the chunk did not commit: retry it, or give the job up
            stuck = Stuck(self._job or "next_job")
            self.health.failed(stuck, exc)
            if self._job is not None and not isinstance(exc, TRANSIENT) and self.health.failures >= GIVE_UP_AFTER:
                await asyncio.to_thread(self._give_up, self._job, exc)
            return False

    def _give_up(self, job_id: str, exc: Exception) -> None:
        try:
            self._fail(job_id, f"internal_error:{type(exc).__name__}")
        except Exception as again:  # noqa: BLE001 - the store refused too: the health check keeps reporting it
            log.warning("import_give_up_failed", job_id=job_id, error=type(again).__name__)

    async def stop(self) -> None:
        self._stopping.set()
        self.wake()

    # ---- the work (threads) ------------------------------------------------------------------------
    def active_jobs(self) -> list[str]:
        j = self.tables.import_job
        with self.sessions() as s:
            return list(s.scalars(select(j.c.job_id).where(j.c.state.in_(ACTIVE))
                                  .order_by(j.c.created_at, j.c.job_id)))

    def next_job(self) -> str | None:
        """The oldest unfinished job with a lane of this worker's left to import. A job whose lanes are all
        done but which is not (its last lane's worker stopped in between) is finished on the way."""
        for job_id in self.active_jobs():
            job = self._job_of(job_id)
            if job.state not in ACTIVE:
                continue
            if any(self._lane(job, n).state == "running" for n in self._lanes_of(job)):
                return job_id
            self._finish_if_done(job_id)
        return None

    def _job_of(self, job_id: str) -> ImportJob:
        return self.app.repository.get(job_uuid(job_id))  # type: ignore[return-value]

    def _lanes_of(self, job: ImportJob) -> list[int]:
        return [n for n in range(job.lane_count) if n % self.workers == self.worker]

    def _lane(self, job: ImportJob, n: int) -> ImportLane:
        """Lane `n` of `job` as stored, or a new one (not stored yet: it is, with its first chunk). The one
        lane of a job stored before lanes continues from the job's own checkpoint."""
        try:
            return self.app.repository.get(lane_uuid(job.job_id, n))  # type: ignore[return-value]
        except AggregateNotFoundError:
            return ImportLane(job_id=job.job_id, lane=n, lanes=job.lane_count,
                              offset=job.offset if job.lanes is None else 0, at=datetime.now(UTC))

    def _institutions(self) -> frozenset[str]:
        with self.sessions() as s:
            return frozenset(s.scalars(select(self.tables.institution.c.institution_id)))

    def process(self, job_id: str) -> None:
        """Import this worker's lanes of `job_id` from their checkpoints to the end (or until asked to stop)."""
        job = self._job_of(job_id)
        if job.state not in ACTIVE:
            return
        path = file_path(self.directory, job_id, job.file_format)
        if not path.exists():
            self._fail(job_id, "file_missing")
            return
        try:
            for n in self._lanes_of(job):
                if self._stopping.is_set():
                    return
                self._import_lane(job, n, path)
        except BadFile as exc:
            self._fail(job_id, str(exc))
            return
        self._finish_if_done(job_id)

    def _import_lane(self, job: ImportJob, n: int, path: Path) -> None:
        lane = self._lane(job, n)
        if lane.state != "running":
            return
        log.info("import_started", job_id=job.job_id, lane=n, lanes=job.lane_count, offset=lane.offset)
        rows = iter_rows(path, job.file_format, start=lane.offset)
        offset = lane.offset
        while not self._stopping.is_set():
            chunk = self._next_chunk(rows, offset, n, job.lane_count)
            if chunk.end == chunk.start:  # the end of the file
                self._finish_lane(lane)
                return
            saved = self._save_chunk(lane, chunk)
            if saved is None:  # another worker holds this lane
                return
            lane, offset = saved, chunk.end

    def _next_chunk(self, rows: Iterator[tuple[int, dict[str, Any]]], start: int, lane: int, lanes: int) -> Chunk:
        """The lane's next `chunk_rows` rows (fewer at the end of the file), with how far the file is read."""
        mine: list[tuple[int, dict[str, Any]]] = []
        end = start
        for row_no, row in rows:
            end = row_no - 1
            if lane_of(row, lanes) == lane:
                mine.append((row_no, row))
                if len(mine) >= self.chunk_rows:
                    break
        return Chunk(start, end, mine)

    def _save_chunk(self, lane: ImportLane, chunk: Chunk) -> ImportLane | None:
        """Save one chunk with its lane's checkpoint; the lane (in memory, saved) for the next chunk, or None
        when another worker has moved the lane on meanwhile, or the job was failed."""
        institutions = self._institutions()
        for _ in range(CONFLICT_RETRIES):
            job = self._job_of(lane.job_id)
            if lane.offset != chunk.start or lane.state != "running" or job.state not in ACTIVE:
                log.warning("import_chunk_taken", job_id=lane.job_id, lane=lane.lane, offset=lane.offset,
                            start=chunk.start)
                return None
            customers, accepted, rejects = self._fold(job, chunk.rows, institutions)
            lane.record_chunk(chunk.end, len(chunk.rows), accepted, rejects, datetime.now(UTC))
            try:
                self.app.save(lane, *customers)
            except IntegrityError:  # another writer (the ingest consumer, a worker) got there first: reload
                log.warning("import_chunk_conflict", job_id=lane.job_id, lane=lane.lane, offset=lane.offset)
                lane = self._lane(job, lane.lane)
                continue
            return lane
        raise RuntimeError(f"import chunk of {lane.job_id} kept conflicting")

    def _fold(self, job: ImportJob, chunk: list[tuple[int, dict[str, Any]]],
              institutions: frozenset[str]) -> tuple[list[Customer], int, list[dict[str, Any]]]:
        facts: list[tuple[str, dict[str, Any]]] = []
        rejects: list[dict[str, Any]] = []
        for row_no, row in chunk:
            try:
                facts.append(validate_row(row, job_id=job.job_id, row_no=row_no, at=job.created_at,
                                          key=self.id_key, institutions=institutions))
            except RowRejected as exc:
                rejects.append({"row": row_no, "field": exc.field, "reason": exc.reason})
        keys = list(dict.fromkeys(customer_uuid(cid) for cid, _ in facts))
        loaded = self.app.load_many(keys)
        batch = Batch()
        for cid, fact in facts:
            batch.record(cid, fact, loaded.get(customer_uuid(cid)))
        if self.match is not None:  # imported rows go through the existing-customer match like registrations
            self.match(self.app, IngestCache(0), batch)
        return [c for c in batch.customers.values() if c.pending_events], len(facts), rejects

    def _finish_lane(self, lane: ImportLane) -> None:
        lane.finish(datetime.now(UTC))
        try:
            self.app.save(lane)
        except IntegrityError:  # another worker finished it
            return
        log.info("import_lane_finished", job_id=lane.job_id, lane=lane.lane, rows=lane.offset)

    def _finish_if_done(self, job_id: str) -> None:
        """Finish the job when all its lanes are done. Each worker asks after saving its own lane's end, so
        of two lanes ending at once at least the later one sees both done."""
        job = self._job_of(job_id)
        if job.state not in ACTIVE:
            return
        for n in range(job.lane_count):
            try:
                if self.app.repository.get(lane_uuid(job_id, n)).state != "done":  # type: ignore[attr-defined]
                    return
            except AggregateNotFoundError:
                return
        job.finish(datetime.now(UTC))
        try:
            self.app.save(job)
        except IntegrityError:  # another worker finished (or failed) it meanwhile
            return
        log.info("import_finished", job_id=job_id, lanes=job.lane_count)

    def _fail(self, job_id: str, error: str) -> None:
        job = self._job_of(job_id)
        if job.state in ACTIVE:
            job.fail(error, datetime.now(UTC))
            try:
                self.app.save(job)
            except IntegrityError:  # another worker ended it meanwhile
                return
            log.warning("import_failed", job_id=job_id, error=error)


class ImportProcesses:
    """The import's other workers, on PostgreSQL: `workers - 1` processes (spawned; each `run_worker`), started
    when a job is waiting (`waiting()`) and kept until the service stops; one that exits is started again.
    Each says itself, once, at ERROR, when it cannot get on, and raises its flag: this process's readiness
    then counts it stalled (`ComponentHealth.mirror`); one that keeps exiting is this component's stall."""

    RESTART_AFTER_S = 2.0
    STEADY_AFTER_S = 30.0  # a worker up this long has started well (its earlier exits are forgiven)

    def __init__(self, settings: CustomerSettings, workers: int, waiting: Callable[[], bool], *,
                 poll_s: float = 2.0):
        self.settings, self.workers, self.waiting, self.poll_s = settings, workers, waiting, poll_s
        self.health = ComponentHealth("customer", "import-processes")
        self._stopping = asyncio.Event()
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: dict[int, Any] = {}
        self._started: dict[int, float] = {}
        self._flags = {i: self._ctx.Value("b", 0, lock=False) for i in range(1, workers)}

    def _start(self, i: int) -> None:
        self._flags[i].value = 0
        p = self._ctx.Process(target=run_worker, args=(self.settings, i, self.workers, self._flags[i]),
                              name=f"customer-import-{i}", daemon=True)
        p.start()
        self._procs[i], self._started[i] = p, time.monotonic()
        log.info("import_process_started", worker=i, workers=self.workers, pid=p.pid)

    async def run(self) -> None:
        try:
            with self.health:
                while not self._stopping.is_set():
                    if not self._procs:
                        try:
                            if await asyncio.to_thread(self.waiting):
                                for i in range(1, self.workers):
                                    self._start(i)
                        except Exception as exc:  # noqa: BLE001 - the importer's own health reports the database
                            log.warning("import_processes_check_failed", error=type(exc).__name__)
                    else:
                        self._watch()
                    try:
                        await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_s)
                    except TimeoutError:
                        pass
        finally:  # stopped, or cancelled: the processes never outlive the component
            await asyncio.shield(asyncio.to_thread(self._stop_all))

    def _watch(self) -> None:
        now = time.monotonic()
        for i, p in list(self._procs.items()):
            if p.is_alive():
                continue
            self.health.failed(Stuck(f"import-process-{i}"), RuntimeError(f"exit code {p.exitcode}"))
            if now - self._started[i] >= self.RESTART_AFTER_S:
                self._start(i)
        if all(p.is_alive() for p in self._procs.values()):
            flagged = any(f.value for f in self._flags.values())
            if flagged:
                self.health.mirror(True)
            elif all(now - t >= self.STEADY_AFTER_S for t in self._started.values()) or not self.health.failures:
                self.health.progressed()

    def _stop_all(self) -> None:
        for p in self._procs.values():
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker ends after the chunk it is saving
        for p in self._procs.values():
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
        self._procs.clear()

    async def stop(self) -> None:
        self._stopping.set()


def run_worker(settings: CustomerSettings, worker: int, workers: int, flag: Any) -> None:
    """An import process (`ImportProcesses`): worker `worker` of `workers`, until SIGTERM."""
    from .bootstrap import bootstrap  # the composition root (it imports this module)

    configure_logging(settings.log_level, service="customer")
    c = bootstrap(settings, migrate=False)
    runner = c.import_runner(worker=worker, workers=workers)
    parent = os.getppid()

    def report(stalled: bool) -> None:  # after each attempt (at least every poll_s while idle)
        flag.value = int(stalled)
        if os.getppid() != parent:  # the service's worker died without stopping it (SIGKILL, OOM): stop too
            log.warning("import_process_orphaned", worker=worker)
            asyncio.ensure_future(runner.stop())

    runner.report = report
    # as the service's own process (`service.serve`): without it an import process spent 40% of its CPU in full
    # collections walking what start-up built (21.6 of 54 s over a 300,000-row import)
    gc_tuning.tune(settings.gc_gen0_threshold, freeze=settings.gc_freeze)

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(runner.stop()))
        await runner.run()

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the worker stops it

    try:
        asyncio.run(main())
    finally:
        c.engine.dispose()
