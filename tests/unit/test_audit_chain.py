"""The audit store's hash chain: appending (dedupe by record id), verifying from the anchor, pruning to an
anchor, and a tampered row found at its sequence number (SQLite; the integration test runs PostgreSQL)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services.audit.anchors import Anchor, ChainAnchorPublisher
from services.audit.domain.chain import GENESIS, canonical_json, check_anchors, link, verify
from services.audit.projections.store import (
    anchor,
    append,
    ensure_chain,
    prune_before,
    prune_through,
    stored_rows,
    verify_store,
)
from services.audit.projections.tables import chain, metadata, record
from services.audit.retention import prune_once
from shared.events import registry
from shared.events.crm_audit import AuditKind, AuditOutcome, AuditRecord
from shared.runtime.db import make_engine, session_factory
from shared.runtime.settings import KafkaSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rec(i: int, **over) -> AuditRecord:
    fields = dict(record_id=uuid.uuid4(), staff_id=f"m-{i}", roles=["manager"], action="customer.remarks.create",
                  kind=AuditKind.write, service="customer", method="POST", route="/customers/{customer_id}/remarks",
                  customer_id=f"c-{i}", at=T0 + timedelta(days=i), client_ip="10.0.0.1", correlation_id=f"r-{i}",
                  status=201, outcome=AuditOutcome.allowed)
    fields.update(over)
    return AuditRecord(**fields)


def events(*records: AuditRecord):
    return [registry.decode(env.model_dump_json().encode()) for env in
            (registry.envelope(r, producer=r.service, event_id=r.record_id) for r in records)]


@pytest.fixture()
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.db")
    metadata.create_all(engine)
    with engine.begin() as conn:
        ensure_chain(conn)
    yield session_factory(engine)
    engine.dispose()


def test_link_is_sha256_of_previous_hash_and_canonical_json():
    r = {"b": 1, "a": T0, "c": None}
    assert canonical_json(r) == '{"a":"2026-01-01T00:00:00.000000Z","b":1,"c":null}'
    assert link(GENESIS, r) == hashlib.sha256((GENESIS + canonical_json(r)).encode()).hexdigest()


def test_verify_names_the_first_broken_sequence_number():
    rows, prev = [], GENESIS
    for seq in range(1, 6):
        r = {"n": seq}
        prev = link(prev, r)
        rows.append((seq, r, prev))
    assert verify(rows).ok and verify(rows).checked == 5
    tampered = [*rows[:2], (3, {"n": 33}, rows[2][2]), *rows[3:]]
    v = verify(tampered)
    assert (v.ok, v.first_broken_seq) == (False, 3)
    gap = [*rows[:2], *rows[3:]]
    assert verify(gap).first_broken_seq == 3
    assert verify(rows[2:], anchor_seq=2, anchor_hash=rows[1][2]).ok
    assert not verify(rows[2:]).ok  # not from the anchor: the first kept record does not chain to genesis


def test_append_chains_each_record_once_and_verifies(sessions):
    a, b, c = rec(1), rec(2, staff_id=None, roles=[], outcome=AuditOutcome.denied, status=401), rec(3)
    with sessions.begin() as s:
        assert append(s, events(a, b)) == 2
    with sessions.begin() as s:
        assert append(s, events(b, c, c)) == 1  # b stored already; c twice in one batch
    with sessions() as s:
        rows = s.execute(select(record.c.seq, record.c.record_id).order_by(record.c.seq)).all()
        assert [(q, r) for q, r in rows] == [(1, str(a.record_id)), (2, str(b.record_id)), (3, str(c.record_id))]
        v = verify_store(s)
        assert (v.ok, v.checked, v.head_seq) == (True, 3, 3)


def test_a_tampered_column_breaks_the_chain_at_that_row(sessions):
    with sessions.begin() as s:
        append(s, events(*(rec(i) for i in range(1, 6))))
    with sessions.begin() as s:
        s.execute(update(record).where(record.c.seq == 3).values(customer_id="c-other"))
    with sessions() as s:
        v = verify_store(s)
    assert (v.ok, v.first_broken_seq) == (False, 3)


def test_a_deleted_row_breaks_the_chain_and_a_rehashed_row_breaks_the_next(sessions):
    with sessions.begin() as s:
        append(s, events(*(rec(i) for i in range(1, 6))))
    with sessions.begin() as s:  # change a row AND its stored hash: the next row no longer chains to it
        s.execute(update(record).where(record.c.seq == 2).values(action="customer.read", hash="f" * 64))
    with sessions() as s:
        assert verify_store(s).first_broken_seq == 2  # its hash is not the record's
    with sessions.begin() as s:
        s.execute(record.delete().where(record.c.seq == 2))
    with sessions() as s:
        assert verify_store(s).first_broken_seq == 2  # missing


def test_pruning_keeps_the_chain_verifiable_from_the_anchor(sessions):
    records = [rec(i) for i in range(1, 11)]  # one a day from T0+1d
    with sessions.begin() as s:
        append(s, events(*records))
        hash_of_4 = s.execute(select(record.c.hash).where(record.c.seq == 4)).scalar_one()
    assert prune_once(sessions, retention_days=30, now=T0 + timedelta(days=35)) == 4  # days 1..4 are > 30 days old
    with sessions() as s:
        assert anchor(s) == (4, hash_of_4, 10)
        v = verify_store(s)
        assert (v.ok, v.checked, v.anchor_seq) == (True, 6, 4)
        assert s.execute(select(record.c.seq).order_by(record.c.seq)).scalars().first() == 5
    with sessions.begin() as s:  # appending after pruning chains on from the head
        append(s, events(rec(11)))
    with sessions.begin() as s:
        assert prune_through(s, 3) == 0  # never behind the anchor
        assert prune_before(s, T0) == 0
    with sessions() as s:
        assert verify_store(s).ok
    with sessions.begin() as s:  # tampering with the anchor is found at the first kept record
        s.execute(update(chain).values(anchor_hash="0" * 64))
    with sessions() as s:
        assert verify_store(s).first_broken_seq == 5


def test_retention_zero_keeps_everything(sessions):
    with sessions.begin() as s:
        append(s, events(rec(1)))
    assert prune_once(sessions, retention_days=0, now=T0 + timedelta(days=10_000)) == 0


def test_unknown_fields_of_a_newer_producer_are_chained_and_verified(sessions):
    env = registry.envelope(rec(1), producer="customer").model_dump(mode="json")
    env["payload"]["device"] = "kiosk-7"
    import json

    from shared.events import registry as reg

    ev = reg.decode(json.dumps(env).encode())
    with sessions.begin() as s:
        append(s, [ev])
    with sessions() as s:
        assert verify_store(s).ok
        assert s.execute(select(record.c.extra)).scalar_one() == '{"device":"kiosk-7"}'


def test_a_write_that_was_never_answered_is_chained_as_such_and_older_records_hash_as_before(sessions):
    """`answered` came after records were chained: at its default (true) it is left out of the chained form, so
    a record of an older producer (without it) and a new answered one hash as records always did; a write
    whose process ended before answering (false) is chained with it, stored and verified."""
    old = rec(1)
    before = {k: v for k, v in old.model_dump(mode="json").items() if k != "answered"}  # the form hashed before
    env = registry.envelope(old, producer="customer", event_id=old.record_id).model_dump(mode="json")
    del env["payload"]["answered"]  # as an older producer sent it
    import json

    unanswered = rec(2, status=200, answered=False)
    with sessions.begin() as s:
        append(s, [registry.decode(json.dumps(env).encode()), *events(rec(3), unanswered)])
    with sessions() as s:
        got = list(stored_rows(s))
        assert verify_store(s).ok
        assert got[0][2] == link(GENESIS, {**before, "at": old.at})  # the hash it had before the field existed
        assert "answered" not in got[1][1] and got[2][1]["answered"] is False
        stored = dict(s.execute(select(record.c.seq, record.c.answered)).all())
        assert stored == {1: True, 2: True, 3: False}


# ---- anchors: the head published outside the database (services/audit/anchors.py) -------------------------
def _forge_from(s, seq: int) -> None:
    """Recompute every hash from `seq` on and the head, as a forger who can write the database would."""
    rows = [r for r in stored_rows(s)]
    prev = next(h for q, _, h in rows if q == seq - 1)
    for q, r, _ in rows:
        if q >= seq:
            prev = link(prev, r)
            s.execute(update(record).where(record.c.seq == q).values(hash=prev))
    s.execute(update(chain).where(chain.c.id == 1).values(head_hash=prev))


def _anchors_of(s, *seqs: int) -> list[Anchor]:
    hashes = dict(s.execute(select(record.c.seq, record.c.hash).where(record.c.seq.in_(seqs))).tuples().all())
    return [Anchor(q, hashes[q], T0 + timedelta(hours=q)) for q in seqs]


def test_check_anchors_compares_each_anchor_with_the_stored_chain():
    stored = {3: "h3", 5: "h5"}
    kw = dict(anchor_seq=2, anchor_hash="h2", head_seq=5)
    assert check_anchors([(5, "h5", "t5"), (3, "h3", "t3"), (2, "h2", "t2"), (1, "x", "t1")], stored, **kw) == (3, None)
    checked, failure = check_anchors([(3, "h3", "t3"), (5, "forged", "t5")], stored, **kw)
    assert checked == 1 and failure[0] == 5 and "rewritten after sequence 3" in failure[1]
    assert check_anchors([(2, "other", "t2")], stored, **kw)[1][0] == 2  # the prune anchor itself
    checked, failure = check_anchors([(7, "h7", "t7")], stored, **kw)
    assert failure[0] == 6 and "beyond the head 5" in failure[1]


def test_a_chain_rewritten_or_truncated_consistently_verifies_alone_but_not_against_its_anchors(sessions):
    with sessions.begin() as s:
        append(s, events(*(rec(i) for i in range(1, 7))))
    with sessions() as s:
        anchors = _anchors_of(s, 2, 4, 6)
        v = verify_store(s, anchors)
        assert (v.ok, v.checked, v.anchors_checked) == (True, 6, 3)
        assert verify_store(s).anchors_checked is None  # not compared
    with sessions.begin() as s:  # record 5 changed, 5 and 6 and the head recomputed
        s.execute(update(record).where(record.c.seq == 5).values(customer_id="c-someone-else"))
        _forge_from(s, 5)
    with sessions() as s:
        assert verify_store(s).ok  # the chain alone cannot tell
        v = verify_store(s, anchors)
        assert (v.ok, v.first_broken_seq, v.anchors_checked) == (False, 6, 2)
        assert "rewritten after sequence 4" in v.reason
    with sessions.begin() as s:  # truncated instead: the last record removed and the head set back
        s.execute(record.delete().where(record.c.seq == 6))
        s.execute(update(chain).where(chain.c.id == 1).values(head_seq=5))
        _forge_from(s, 5)
    with sessions() as s:
        assert verify_store(s).ok
        v = verify_store(s, anchors)
        assert (v.ok, v.first_broken_seq) == (False, 6) and "removed from the end" in v.reason


class _Producer:
    def __init__(self) -> None:
        self.sent: list = []

    async def publish(self, envelope, *, topic=None) -> None:
        self.sent.append((topic, envelope))


@pytest.mark.asyncio
async def test_the_publisher_anchors_the_head_when_it_moved(sessions):
    producer = _Producer()
    kafka = KafkaSettings(topic_prefix="t1.")
    pub = ChainAnchorPublisher(sessions, producer, kafka, interval_s=60)
    assert not await pub.publish_once()  # an empty chain: nothing to anchor
    with sessions.begin() as s:
        append(s, events(rec(1), rec(2)))
    assert await pub.publish_once() and not await pub.publish_once()  # once per head
    with sessions.begin() as s:
        append(s, events(rec(3)))
    assert await pub.publish_once()
    with sessions() as s:
        heads = [(q, h) for q, _, h in stored_rows(s) if q in (2, 3)]
    assert [(t, e.event_type, (e.payload.seq, e.payload.hash)) for t, e in
            ((t, registry.decode(e.model_dump_json().encode())) for t, e in producer.sent)] == [
        ("t1.crm.audit.anchors", "crm.audit.chain_anchored", heads[0]),
        ("t1.crm.audit.anchors", "crm.audit.chain_anchored", heads[1])]


def test_a_field_added_to_the_record_contract_is_left_out_of_older_records_hashes():
    """The fields records were chained with from the start; any other must be in `LATE_DEFAULTS` (else every
    record chained before it would hash with it as null, and the chain would no longer verify)."""
    from services.audit.projections.store import FIELDS, LATE_DEFAULTS

    original = {"record_id", "staff_id", "roles", "action", "kind", "service", "method", "route", "customer_id",
                "at", "client_ip", "correlation_id", "status", "outcome"}
    assert set(FIELDS) - original == set(LATE_DEFAULTS)
