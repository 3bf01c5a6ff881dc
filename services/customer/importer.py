"""The import worker: takes the unfinished import jobs (queued, or running when a process stopped) and
imports their files chunk by chunk. Each chunk's customers (a Customer aggregate per accepted row: created,
or the existing one, with an `import.customer_imported` fact) and the job's `ChunkProcessed` (the new row
offset, the totals, the rejections) are saved in ONE event-store transaction with the read-model rows they
imply; the outbox then publishes `crm.customer.customer_registered` (+ stage) for the new customers, which
the assignment service routes like registrations. A restart resumes after the last committed chunk; two
workers on one job conflict on the job's version and only one chunk commits."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.health import ComponentHealth, Stuck
from shared.runtime.logging import get_logger

from .application import Batch, CustomerApplication, IngestCache, MatchStep
from .domain.customer import Customer, customer_uuid
from .domain.imports import ImportJob, RowRejected, job_uuid, validate_row
from .import_files import BadFile, iter_rows
from .projections.tables import Tables

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


class ImportRunner:
    """A worker component (`run`/`stop`): polls for unfinished jobs every `poll_s` (or when woken by an
    upload in the same process) and imports one job at a time in a thread."""

    def __init__(self, app: CustomerApplication, sessions: sessionmaker[Session], tables: Tables, *,
                 directory: Path, id_key: bytes, chunk_rows: int = 2000, poll_s: float = 2.0,
                 match: MatchStep | None = None):
        self.app, self.sessions, self.tables, self.match = app, sessions, tables, match
        self.directory, self.id_key, self.chunk_rows, self.poll_s = directory, id_key, chunk_rows, poll_s
        self._stopping = threading.Event()
        self._wake: asyncio.Event | None = None
        self.health = ComponentHealth("customer", "importer")
        self._job: str | None = None  # the job being worked on (what a failure is counted against)
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        with self.health:  # a job that cannot get on makes the worker unready (and says so once, at ERROR)
            while not self._stopping.is_set():
                if await self._step():
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
            return True
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
    def next_job(self) -> str | None:
        j = self.tables.import_job
        with self.sessions() as s:
            return s.scalar(select(j.c.job_id).where(j.c.state.in_(ACTIVE))
                            .order_by(j.c.created_at, j.c.job_id).limit(1))

    def _institutions(self) -> frozenset[str]:
        with self.sessions() as s:
            return frozenset(s.scalars(select(self.tables.institution.c.institution_id)))

    def process(self, job_id: str) -> None:
        """Import `job_id` from its checkpoint to the end (or until asked to stop)."""
        job: ImportJob = self.app.repository.get(job_uuid(job_id))  # type: ignore[assignment]
        if job.state not in ACTIVE:
            return
        path = file_path(self.directory, job_id, job.file_format)
        if not path.exists():
            self._fail(job_id, "file_missing")
            return
        log.info("import_started", job_id=job_id, offset=job.offset)
        try:
            rows = iter_rows(path, job.file_format, start=job.offset)
            current: ImportJob | None = job
            while current is not None and not self._stopping.is_set():
                chunk = list(islice(rows, self.chunk_rows))
                if not chunk:
                    self._finish(job_id)
                    return
                current = self._save_chunk(current, chunk)  # None: another worker holds this job
        except BadFile as exc:
            self._fail(job_id, str(exc))

    def _save_chunk(self, job: ImportJob, chunk: list[tuple[int, dict[str, Any]]]) -> ImportJob | None:
        """Save one chunk with the job's checkpoint; the job (in memory, saved) for the next chunk, or None
        when another worker has moved the job on meanwhile."""
        institutions = self._institutions()
        for _ in range(CONFLICT_RETRIES):
            first_row = chunk[0][0]
            if job.offset + 2 != first_row or job.state not in ACTIVE:
                log.warning("import_chunk_taken", job_id=job.job_id, offset=job.offset, first_row=first_row)
                return None
            customers, accepted, rejects = self._fold(job, chunk, institutions)
            job.record_chunk(job.offset + len(chunk), accepted, rejects, datetime.now(UTC))
            try:
                self.app.save(job, *customers)
            except IntegrityError:  # another writer (the ingest consumer, a worker) got there first: reload
                log.warning("import_chunk_conflict", job_id=job.job_id, offset=job.offset)
                job = self.app.repository.get(job.id)  # type: ignore[assignment]
                continue
            return job
        raise RuntimeError(f"import chunk of {job.job_id} kept conflicting")

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

    def _finish(self, job_id: str) -> None:
        job: ImportJob = self.app.repository.get(job_uuid(job_id))  # type: ignore[assignment]
        if job.state in ACTIVE:
            job.finish(datetime.now(UTC))
            self.app.save(job)
            log.info("import_finished", job_id=job_id, rows=job.offset, accepted=job.accepted,
                     rejected=job.rejected)

    def _fail(self, job_id: str, error: str) -> None:
        job: ImportJob = self.app.repository.get(job_uuid(job_id))  # type: ignore[assignment]
        if job.state in ACTIVE:
            job.fail(error, datetime.now(UTC))
            self.app.save(job)
            log.warning("import_failed", job_id=job_id, error=error)
