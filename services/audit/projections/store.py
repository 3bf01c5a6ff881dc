"""Appending records to the chain (in the consumer's batch transaction), pruning to an anchor, verifying.

Appending locks the one `audit_chain` row (`SELECT … FOR UPDATE`), so two workers never fork the chain; a
record id already stored is skipped (the consumer's processed ids are pruned after 30 days, the records are
not). The topic has one partition (`shared.events.topics.PARTITIONS`): the chain's order is the topic's, so a
replay from offset 0 gives the same sequence numbers and hashes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_audit import AuditRecord

from ..domain.chain import GENESIS, Verdict, check_anchors, link, verify
from .tables import chain, record

FIELDS = tuple(AuditRecord.model_fields)  # the contract's fields, each a column
COLUMNS = tuple(f for f in FIELDS if f != "record_id")
# Fields added to the contract after records were chained, with their default: left out of the chained form
# at that value, so a record from before them (or one that has the default) hashes as it always did.
LATE_DEFAULTS: dict[str, Any] = {"answered": True}


def ensure_chain(conn: Connection | Session) -> None:
    if conn.execute(select(chain.c.id)).first() is None:
        conn.execute(insert(chain).values(id=1, head_seq=0, head_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS))


def head(session: Session, *, lock: bool = False) -> tuple[int, str]:
    """The chain's head (sequence number, hash); `lock`: its row locked for the transaction (appending,
    pruning), else read as it is (anchoring)."""
    q = select(chain.c.head_seq, chain.c.head_hash).where(chain.c.id == 1)
    row = session.execute(q.with_for_update() if lock else q).one()
    return row.head_seq, row.head_hash


def record_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The chained form of a record: the decoded payload (contract fields, in JSON types, and unknown ones)."""
    return dict(data)


def row_of(seq: int, rec: Mapping[str, Any], hash_: str) -> dict[str, Any]:
    extra = {k: v for k, v in rec.items() if k not in FIELDS}
    return {
        "seq": seq, "record_id": str(rec["record_id"]), "staff_id": rec.get("staff_id"),
        "roles": json.dumps(list(rec.get("roles") or []), separators=(",", ":")),
        "action": rec["action"], "kind": rec["kind"], "service": rec["service"], "method": rec["method"],
        "route": rec["route"], "customer_id": rec.get("customer_id"),
        "at": datetime.fromisoformat(str(rec["at"]).replace("Z", "+00:00")),
        "client_ip": rec.get("client_ip"), "correlation_id": rec.get("correlation_id"),
        "status": rec["status"], "outcome": rec["outcome"],
        **{k: default if rec.get(k) is None else rec[k] for k, default in LATE_DEFAULTS.items()},
        "extra": json.dumps(extra, sort_keys=True, separators=(",", ":")), "hash": hash_,
    }


def record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The record a stored row holds (what was hashed): the inverse of `row_of`."""
    rec: dict[str, Any] = {"record_id": row["record_id"], **{c: row[c] for c in COLUMNS if c != "roles"}}
    rec["roles"] = json.loads(row["roles"])
    rec.update(json.loads(row["extra"]))
    return rec


def chained(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A record with every contract field present (absent optional ones as None; `LATE_DEFAULTS` fields only
    when they differ from their default): the same canonical JSON whether it comes from the payload or from
    the stored row."""
    out = {f: rec.get(f) for f in FIELDS}
    out.update({k: v for k, v in rec.items() if k not in FIELDS})
    out["roles"] = list(out.get("roles") or [])
    for name, default in LATE_DEFAULTS.items():
        if out.get(name) is None or out[name] == default:
            del out[name]
    out["at"] = datetime.fromisoformat(str(out["at"]).replace("Z", "+00:00")) if isinstance(out["at"], str) \
        else out["at"]
    return out


def append(session: Session, events: list[Event]) -> int:
    """Chain the batch's records not stored yet; returns how many were appended."""
    ids = list(dict.fromkeys(str(e.envelope.payload["record_id"]) for e in events))
    stored = set(session.scalars(select(record.c.record_id).where(record.c.record_id.in_(ids)))) if ids else set()
    seq, prev = head(session, lock=True)
    rows: list[dict[str, Any]] = []
    for e in events:
        rec = chained(record_of(e.data))
        rid = str(rec["record_id"])
        if rid in stored:
            continue
        stored.add(rid)
        seq, prev = seq + 1, link(prev, rec)
        rows.append(row_of(seq, rec, prev))
    if rows:
        session.execute(insert(record), rows)
        session.execute(update(chain).where(chain.c.id == 1).values(head_seq=seq, head_hash=prev))
    return len(rows)


def anchor(session: Session) -> tuple[int, str, int]:
    row = session.execute(select(chain.c.anchor_seq, chain.c.anchor_hash, chain.c.head_seq)
                          .where(chain.c.id == 1)).one()
    return row.anchor_seq, row.anchor_hash, row.head_seq


def stored_rows(session: Session, *, batch: int = 2000) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Every stored record in sequence order (keyset batches): (seq, record, stored hash)."""
    last = -1
    while True:
        rows = list(session.execute(select(record).where(record.c.seq > last).order_by(record.c.seq)
                                    .limit(batch)).mappings())
        if not rows:
            return
        for r in rows:
            yield r["seq"], chained(record_from_row(r)), r["hash"]
        last = rows[-1]["seq"]


def verify_store(session: Session, anchors: Sequence[Any] | None = None) -> Verdict:
    """The chain checked from its prune anchor; then, if it holds, against the published `anchors` (objects
    with `seq`, `hash`, `anchored_at`: `services.audit.anchors`; None: not compared)."""
    anchor_seq, anchor_hash, head_seq = anchor(session)
    verdict = verify(stored_rows(session), anchor_seq=anchor_seq, anchor_hash=anchor_hash)
    if verdict.ok and verdict.head_seq != head_seq:
        return Verdict(False, verdict.checked, anchor_seq, verdict.head_seq, verdict.head_seq + 1,
                       f"the chain's head is {head_seq} but the records end at {verdict.head_seq}")
    if not verdict.ok or anchors is None:
        return verdict
    seqs = sorted({a.seq for a in anchors})
    stored: dict[int, str] = {}
    for i in range(0, len(seqs), 1000):
        stored.update(session.execute(select(record.c.seq, record.c.hash)
                                      .where(record.c.seq.in_(seqs[i:i + 1000]))).tuples().all())
    checked, failure = check_anchors([(a.seq, a.hash, a.anchored_at.isoformat()) for a in anchors], stored,
                                     anchor_seq=anchor_seq, anchor_hash=anchor_hash, head_seq=verdict.head_seq)
    if failure is not None:
        return Verdict(False, verdict.checked, anchor_seq, verdict.head_seq, failure[0], failure[1], checked)
    return Verdict(True, verdict.checked, anchor_seq, verdict.head_seq, anchors_checked=checked)


def prune_through(session: Session, seq: int) -> int:
    """Delete records up to `seq` (inclusive) and make the last one's hash the anchor; returns rows deleted."""
    anchor_seq, _, _ = anchor(session)
    if seq <= anchor_seq:
        return 0
    last = session.execute(select(record.c.hash).where(record.c.seq == seq)).scalar_one_or_none()
    if last is None:
        return 0
    deleted = session.execute(delete(record).where(record.c.seq <= seq)).rowcount or 0
    session.execute(update(chain).where(chain.c.id == 1).values(anchor_seq=seq, anchor_hash=last))
    return deleted


def prune_before(session: Session, cutoff: datetime) -> int:
    """Prune the longest prefix of the chain whose records are all older than `cutoff` (the chain is pruned
    from its start only, so it stays verifiable from the anchor)."""
    head(session, lock=True)  # lock the chain: no append interleaves
    first_kept = session.execute(select(record.c.seq).where(record.c.at >= cutoff).order_by(record.c.seq)
                                 .limit(1)).scalar_one_or_none()
    if first_kept is None:
        last = session.execute(select(record.c.seq).order_by(record.c.seq.desc()).limit(1)).scalar_one_or_none()
        return prune_through(session, last) if last is not None else 0
    return prune_through(session, first_kept - 1)
