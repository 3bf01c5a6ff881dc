"""A write's audit record is written ahead in the write's own event-store transaction (`shared.runtime.audit`,
`sametx.ride_along`): an app built by `create_app` whose write route saves an aggregate through the kit's
`TrackingApplication` on SQLite, the emitter's spool in the same database, a fake producer.

- Answered and published: the final record (its real status) goes out under the record id the provisional row
  had, and the row is deleted.
- The process ended before its queue was published (the emitter never runs again): the provisional row is in
  the database with the write, and another emitter on that database publishes it once the hold is over — not
  before.
- A write whose transaction rolled back leaves no row; a failed publish replaces the row with the final
  record; a read, a write that stores nothing, and a store in another database write nothing ahead."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from fastapi import HTTPException
from sqlalchemy import select

from shared.runtime.api import create_app
from shared.runtime.audit import AuditEmitter, spool
from shared.runtime.db import make_engine
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.settings import AuditEmitSettings, KafkaSettings
from tests.unit.test_audit_emit import AUTH, Reader, bearer
from tests.unit.test_audit_emit import FakeProducer as _FakeProducer


class FakeProducer(_FakeProducer):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def publish_many(self, envelopes, *, topic=None):
        self.calls += 1
        await super().publish_many(envelopes, topic=topic)


class Note(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Renamed")
    def rename(self, text: str) -> None:
        self.text = text


def build(tmp_path, producer, *, store_url: str | None = None, hold_s: float = 120.0):
    url = f"sqlite:///{tmp_path}/svc.db"
    engine = make_engine(url)
    app = build_application(TrackingApplication, store_url or url)
    emitter = AuditEmitter("svc", KafkaSettings(topic_prefix="p."), engine,
                           AuditEmitSettings(enabled=True, spool_retry_s=0.05, write_ahead_hold_s=hold_s),
                           producer=producer)
    api = create_app(service="svc", auth=AUTH, audit=emitter)
    stale: dict[str, Note] = {}

    @api.post("/notes", status_code=201)
    def create(p: Reader, fail: bool = False) -> dict:  # a sync route: run in a thread, as commands are
        note = Note(text="hello")
        app.save(note)
        if fail:
            raise HTTPException(409, "refused after the save")
        return {"id": str(note.id)}

    @api.post("/notes/bulk", status_code=201)
    def bulk(p: Reader, n: int = 3) -> dict:  # one command saving in a loop: one record, one row
        for i in range(n):
            app.save(Note(text=f"note {i}"))
        return {}

    @api.post("/nothing", status_code=200)
    def nothing(p: Reader) -> dict:
        app.save()
        return {}

    @api.post("/stale", status_code=200)
    def rename_stale(p: Reader) -> dict:  # a copy another writer has moved on from: the save conflicts
        note = stale["note"]
        note.rename("late")
        try:
            app.save(note)
        except IntegrityError as exc:
            raise HTTPException(409, "changed meanwhile") from exc
        return {}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t")
    client.stale = stale  # type: ignore[attr-defined]
    return emitter, engine, client, app


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(spool).order_by(spool.c.id))]


@pytest.mark.asyncio
async def test_published_final_record_replaces_nothing_and_the_row_goes(tmp_path):
    producer = FakeProducer()
    emitter, engine, client, _ = build(tmp_path, producer)
    async with client:
        r = await client.post("/notes", headers=bearer("manager", "M-1"))
        assert r.status_code == 201
        await emitter.flush()
        for _ in range(100):  # the row's delete follows the publish
            if not rows(engine):
                break
            await asyncio.sleep(0.02)
    await emitter.stop()
    [(_, envelope)] = producer.sent
    assert envelope.payload["status"] == 201 and envelope.payload["staff_id"] == "M-1"
    assert rows(engine) == []


@pytest.mark.asyncio
async def test_a_process_that_ended_before_publishing_leaves_the_provisional_record_with_the_write(tmp_path):
    producer = FakeProducer()
    producer.down = True  # nothing leaves this process ...
    emitter, engine, client, app = build(tmp_path, producer, hold_s=0.5)
    emitter._spool = _never  # ... and it dies before spooling anything (SIGKILL): only the write-ahead row is left
    async with client:
        r = await client.post("/notes", headers={**bearer("manager", "M-1"), "X-Request-ID": "req-9"})
        assert r.status_code == 201
    [row] = rows(engine)
    assert row["hold_until"] is not None
    provisional = json.loads(row["envelope"])
    assert provisional["event_id"] == row["record_id"]
    body = provisional["payload"]
    assert (body["action"], body["kind"], body["staff_id"], body["status"], body["outcome"],
            body["correlation_id"], body["route"], body["answered"]) == (
        "svc.notes.create", "write", "M-1", 200, "allowed", "req-9", "/notes", False)  # not an answer anyone got
    assert len(app.recorder.select_notifications(1, 10)) == 1  # committed with the write
    async with httpx.AsyncClient(transport=client._transport, base_url="http://t") as again:
        assert (await again.post("/notes/bulk", headers=bearer("manager", "M-1"))).status_code == 201
    assert len(rows(engine)) == 2  # one row for the bulk request's three transactions
    assert len(app.recorder.select_notifications(1, 10)) == 4

    # another process on the same database: nothing before the hold is over, then the record
    producer2 = FakeProducer()
    other = AuditEmitter("svc", KafkaSettings(topic_prefix="p."), engine,
                         AuditEmitSettings(enabled=True, spool_retry_s=0.05, write_ahead_hold_s=0.5),
                         producer=producer2)
    assert other._read_spool() == (0, [])
    await asyncio.sleep(0.6)
    await other._republish_spool()
    assert [str(e.event_id) for _, e in producer2.sent][0] == row["record_id"]
    assert len(producer2.sent) == 2
    assert rows(engine) == []
    await other.stop()


async def _never(envelopes) -> None:
    return None


@pytest.mark.asyncio
async def test_a_failed_publish_replaces_the_provisional_row_with_the_final_record(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, engine, client, _ = build(tmp_path, producer)
    async with client:
        r = await client.post("/notes", params={"fail": "true"}, headers=bearer("manager", "M-1"))
        assert r.status_code == 409  # saved, then refused: the final record says so
        await emitter.flush()
    [row] = rows(engine)
    assert row["hold_until"] is None  # the final record: re-published at once
    assert json.loads(row["envelope"])["payload"]["status"] == 409
    producer.down = False
    await emitter._republish_spool()
    assert [e.payload["status"] for _, e in producer.sent] == [409] and rows(engine) == []
    await emitter.stop()


@pytest.mark.asyncio
async def test_no_row_without_a_committed_write(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, engine, client, app = build(tmp_path, producer)
    emitter._spool = _never  # (only write-ahead rows can reach the spool)
    note = Note(text="a")
    app.save(note)  # outside a request: nothing written ahead
    client.stale["note"] = app.repository.get(note.id)
    moved = app.repository.get(note.id)
    moved.rename("b")
    app.save(moved)
    async with client:
        assert (await client.post("/stale", headers=bearer("manager"))).status_code == 409  # rolled back
        assert (await client.post("/nothing", headers=bearer("manager"))).status_code == 200  # stores nothing
        assert (await client.get("/missing", headers=bearer("manager"))).status_code == 404  # a read
    assert rows(engine) == []
    assert len(app.recorder.select_notifications(1, 10)) == 2


@pytest.mark.asyncio
async def test_a_store_in_another_database_writes_nothing_ahead(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, engine, client, app = build(tmp_path, producer, store_url=f"sqlite:///{tmp_path}/other.db")
    emitter._spool = _never
    async with client:
        assert (await client.post("/notes", headers=bearer("manager"))).status_code == 201
    assert rows(engine) == []  # nothing written ahead, and the write itself went through
    assert len(app.recorder.select_notifications(1, 10)) == 1
