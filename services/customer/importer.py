"""The import worker: takes the unfinished import jobs (queued, or running when a process stopped) and
imports their files chunk by chunk. Each chunk's customers (a Customer aggregate per accepted row: created,
or the existing one, with an `import.customer_imported` fact) and the job's `ChunkProcessed` (the new row
offset, the totals, the rejections) are saved in ONE event-store transaction with the read-model rows they
imply; the outbox then publishes `crm.customer.customer_registered` (+ stage) for the new customers, which
the assignment service routes like registrations. A restart resumes after the last committed chunk; two
workers on one job conflict on the job's version and only one chunk commits. The next chunk is read and
folded while one commits (`ImportRunner._pipeline`), so the database's time overlaps the Python work."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
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
from .domain.derive import view
from .domain.imports import ImportJob, RowRejected, job_uuid, validate_row
from .domain.state import new_state
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


_EMPTY_VIEW = view(new_state(""))


def new_view_of(customer_id: str) -> dict[str, Any]:
    """The view of a customer nothing is known about yet (computed once, not per imported row)."""
    return {**_EMPTY_VIEW, "customer_id": customer_id}


@dataclass(frozen=True)
class Folded:
    """A chunk's rows validated and recorded on their customers (not yet matched nor saved)."""

    chunk: list[tuple[int, dict[str, Any]]]
    batch: Batch
    accepted: int
    rejects: list[dict[str, Any]]
    keys: frozenset[uuid.UUID]  # its customers
    checked: Any  # the envelopes of its events, built and checked (`check_outgoing`) in the folding stage


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
            with ThreadPoolExecutor(1, thread_name_prefix="customer-import-commit") as committer:
                self._pipeline(job, rows, committer)
        except BadFile as exc:
            self._fail(job_id, str(exc))

    def _pipeline(self, job: ImportJob, rows: Iterator[tuple[int, dict[str, Any]]],
                  committer: ThreadPoolExecutor) -> None:
        """Two stages, one chunk apart: while chunk N commits (`_save_chunk` in `committer`: the match step, the
        checkpoint, the transaction), chunk N+1 is read, validated and folded here — its CPU work overlaps
        N's waits on the database. N+1 is folded again if N had to be retried (what N+1 read may be stale), and
        a chunk holding a customer of the chunk in flight waits for that commit before reading it. A stop lets
        the chunk in flight commit."""
        current: ImportJob | None = job
        inflight: Future[tuple[ImportJob | None, bool]] | None = None
        inflight_keys: frozenset[uuid.UUID] = frozenset()
        while not self._stopping.is_set():
            chunk = list(islice(rows, self.chunk_rows))
            folded = self._fold(job.job_id, job.created_at, chunk, self._institutions(),
                                busy=(inflight, inflight_keys)) if chunk else None
            if inflight is not None:
                (current, clean), inflight = inflight.result(), None
                if current is None:  # another worker holds this job
                    return
                if not clean and folded is not None:
                    folded = self._fold(job.job_id, job.created_at, chunk, self._institutions())
            if folded is None:
                self._finish(job.job_id)
                return
            if self._stopping.is_set():  # asked to stop meanwhile: the folded chunk is read again after a restart
                return
            assert current is not None
            inflight, inflight_keys = committer.submit(self._save_chunk, current, folded), folded.keys
        if inflight is not None:
            inflight.result()

    def _save_chunk(self, job: ImportJob, folded: Folded) -> tuple[ImportJob | None, bool]:
        """Save one folded chunk with the job's checkpoint, after the existing-customer match step (which must
        see every earlier chunk committed); only the events the match step adds are checked here. (the job, in memory and saved, for the next chunk; whether it was
        saved as folded — False: it conflicted and was folded again) or (None, _) when another worker has moved
        the job on meanwhile."""
        clean = True
        for _ in range(CONFLICT_RETRIES):
            first_row = folded.chunk[0][0]
            if job.offset + 2 != first_row or job.state not in ACTIVE:
                log.warning("import_chunk_taken", job_id=job.job_id, offset=job.offset, first_row=first_row)
                return None, clean
            if self.match is not None:  # imported rows go through the existing-customer match like registrations
                self.match(self.app, IngestCache(0), folded.batch)
            customers = [c for c in folded.batch.customers.values() if c.pending_events]
            job.record_chunk(job.offset + len(folded.chunk), folded.accepted, folded.rejects, datetime.now(UTC))
            try:
                self.app.save(job, *customers, prechecked=folded.checked)
            except IntegrityError:  # another writer (the ingest consumer, a worker) got there first: reload
                log.warning("import_chunk_conflict", job_id=job.job_id, offset=job.offset)
                job = self.app.repository.get(job.id)  # type: ignore[assignment]
                folded, clean = self._fold(job.job_id, job.created_at, folded.chunk, self._institutions()), False
                continue
            return job, clean
        raise RuntimeError(f"import chunk of {job.job_id} kept conflicting")

    def _fold(self, job_id: str, at: datetime, chunk: list[tuple[int, dict[str, Any]]],
              institutions: frozenset[str], busy: tuple[Future[Any] | None, frozenset[uuid.UUID]] | None = None,
              ) -> Folded:
        """Validate the chunk's rows and record their facts on their customers (loaded, or new). `busy`: the
        chunk being committed meanwhile and its customers — one of them in this chunk is read after it commits."""
        facts: list[tuple[str, dict[str, Any]]] = []
        rejects: list[dict[str, Any]] = []
        for row_no, row in chunk:
            try:
                facts.append(validate_row(row, job_id=job_id, row_no=row_no, at=at, key=self.id_key,
                                          institutions=institutions))
            except RowRejected as exc:
                rejects.append({"row": row_no, "field": exc.field, "reason": exc.reason})
        keys = list(dict.fromkeys(customer_uuid(cid) for cid, _ in facts))
        if busy is not None and busy[0] is not None and not busy[1].isdisjoint(keys):
            wait([busy[0]])
        loaded = self.app.load_many(keys)
        batch = Batch()
        for cid, fact in facts:
            key = customer_uuid(cid)
            if key not in batch.customers:
                customer = loaded.get(key)
                if customer is None:
                    customer, current = Customer(customer_id=cid), new_view_of(cid)
                else:
                    current = customer.view
                batch.add(key, customer, current)
            new_view = batch.customers[key].record(fact, batch.views[key])
            if new_view is not None:
                batch.views[key], batch.last_fact[key] = new_view, fact
        checked = self.app.check_outgoing([e for c in batch.customers.values() for e in c.pending_events])
        return Folded(chunk, batch, len(facts), rejects, frozenset(keys), checked)

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
