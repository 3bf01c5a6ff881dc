"""The read-model fold of saved segments (run with the customer rows, in the events' transaction): a
segment's row is its latest version (a deleted one keeps its row, marked deleted), a static segment's members
are its latest list. Re-running a batch or a rebuild writes the same rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..domain.segments import Segment
from .tables import Tables, id_in, upsert

SEGMENTS_FACT = "crm.segments_changed"


def apply_membership(session: Session, t: Tables, events: list[Any]) -> None:
    """`customer_segment_membership` from the customers' `crm.segments_changed` facts, in order: each fact's
    set; a segment kept keeps its `since` (also across facts of one batch: a rebuild's batches are larger)."""
    facts: dict[str, list[Any]] = {}
    for e in events:
        facts.setdefault(e.row["customer_id"], []).append(e.fact)
    if not facts:
        return
    m = t.membership
    ids = sorted(facts)
    since: dict[str, dict[str, Any]] = {cid: {} for cid in ids}
    for i in range(0, len(ids), 5000):
        chunk = ids[i:i + 5000]
        for r in session.execute(select(m.c.customer_id, m.c.segment_id, m.c.since)
                                 .where(id_in(session, m.c.customer_id, chunk))):
            since[r.customer_id][r.segment_id] = r.since
        session.execute(delete(m).where(id_in(session, m.c.customer_id, chunk)))
    rows = []
    for cid in ids:
        cur = since[cid]
        for fact in facts[cid]:
            cur = {sid: cur.get(sid, fact["at"]) for sid in sorted(set(fact["data"]["segments"]))}
        rows += [{"segment_id": sid, "customer_id": cid, "since": at} for sid, at in sorted(cur.items())]
    if rows:
        session.execute(m.insert(), rows)


def apply_segment_events(session: Session, t: Tables, events: list[Any]) -> None:
    new: dict[str, dict[str, Any]] = {}
    changes: list[tuple[str, dict[str, Any]]] = []  # (segment id, columns) of segments stored before
    members: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, Segment.Created):
            new[e.segment_id] = {"segment_id": e.segment_id, "name": e.name, "kind": e.kind, "filter": e.filter,
                                 "owner_id": e.by, "created_at": e.at, "updated_at": e.at, "deleted": False,
                                 "size": len(set(e.customer_ids))}
            members[e.segment_id] = list(e.customer_ids)
        elif isinstance(e, Segment.Updated | Segment.Deleted):
            cols: dict[str, Any] = ({"name": e.name, "filter": e.filter, "updated_at": e.at,
                                     "size": len(set(e.customer_ids))} if isinstance(e, Segment.Updated)
                                    else {"deleted": True, "updated_at": e.at})
            members[e.segment_id] = list(e.customer_ids) if isinstance(e, Segment.Updated) else []
            if e.segment_id in new:
                new[e.segment_id].update(cols)
            else:
                changes.append((e.segment_id, cols))
    if new:
        upsert(session, t.segment, [new[k] for k in sorted(new)], ["segment_id"])
    for sid, cols in changes:  # a few per batch at most: segments change by hand
        session.execute(update(t.segment).where(t.segment.c.segment_id == sid).values(**cols))
    m = t.segment_member
    for sid in sorted(members):
        session.execute(delete(m).where(m.c.segment_id == sid))
        if members[sid]:
            session.execute(m.insert(), [{"segment_id": sid, "customer_id": c} for c in sorted(set(members[sid]))])
