"""A write whose process is killed (SIGKILL) right after answering, before its audit record left: the record
was written ahead in the write's own transaction (`shared.runtime.audit`), on PostgreSQL, and another process's
emitter publishes it through the real broker once the hold is over; the audit worker's store then has it.
(Unit tests: tests/unit/test_audit_write_ahead.py.)"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import psycopg

from shared.events import Envelope, topics
from shared.runtime.audit import AuditEmitter
from shared.runtime.db import make_engine
from shared.runtime.settings import AuditEmitSettings
from tests.kafka_helpers import read_topic


async def test_a_write_killed_before_its_record_left_is_still_audited(pg_database, kafka_settings):
    url = pg_database("audit_ahead")
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tests.integration.audit_kill_writer", url, "INST-KILL-1"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, (done.returncode, done.stderr[-2000:])  # killed, nothing cleaned up
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 201 and answer["body"]["institution_id"] == "INST-KILL-1"

    pg = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(pg) as conn:
        institutions = conn.execute("SELECT count(*) FROM customer_institution").fetchone()[0]
        spooled = conn.execute("SELECT record_id, hold_until, envelope FROM audit_spool").fetchall()
    assert institutions == 1
    [(record_id, hold_until, envelope)] = spooled  # the write's record, written ahead with it
    assert hold_until is not None
    provisional = json.loads(envelope)["payload"]
    assert (provisional["action"], provisional["staff_id"], provisional["correlation_id"], provisional["method"],
            provisional["route"], provisional["status"], provisional["answered"]) == (
        "customer.institutions.create", "A-KILL", "kill-req-1", "POST", "/institutions", 200, False)

    # another replica's emitter, once the hold is over, through the real broker
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("UPDATE audit_spool SET hold_until = 0")  # (the 120 s hold, passed)
    engine = make_engine(url)
    emitter = AuditEmitter("customer", kafka_settings, engine, AuditEmitSettings(enabled=True))
    try:
        await emitter._republish_spool()
    finally:
        await emitter.stop()
        engine.dispose()
    records = [Envelope.model_validate(json.loads(r.value)) for r in
               await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_AUDIT), expect=1)]
    assert [str(e.event_id) for e in records] == [record_id]
    assert records[0].payload["answered"] is False  # the auditor sees a write no one got an answer to
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM audit_spool").fetchone()[0] == 0
