"""Intake journals: every platform event a consumer-fed read model applied, kept in the service's own store.

A read model fed by platform topics (`brokerage.*`, kept 30 days) cannot be rebuilt from the topics: its
consumer journals each event it uses in the transaction that applies it (with its position and processed id),
and a rebuild replays the journal in the order it was written (docs/service-conventions.md). `customer_id`
makes a person's rows erasable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, registry

from .handlers import SqlApply
from .sqlrows import insert_ignore

REPLAY_CHUNK = 2000


def journal_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("customer_id", String(64)),
        Column("envelope", JSON, nullable=False),
        Index(f"ix_{name}_customer", "customer_id"),
    )


def journaled(apply: SqlApply, used: Collection[type], journal: Table) -> SqlApply:
    """`apply`, journaling first the events whose payload type is in `used` (the others change nothing)."""

    def apply_and_journal(session: Session, events: list[Event]) -> None:
        kept = [e for e in events if type(e.payload) in used]
        insert_ignore(session, journal, [_row(e) for e in kept], ["event_id"])
        apply(session, kept)

    return apply_and_journal


def _row(e: Event) -> dict[str, Any]:
    return {"event_id": str(e.event_id), "customer_id": getattr(e.payload, "customer_id", None),
            "envelope": e.envelope.model_dump(mode="json")}


def replay(sessions: sessionmaker[Session], apply: SqlApply, journal: Table, *, chunk: int = REPLAY_CHUNK,
           progress: Callable[[int], None] | None = None) -> int:
    """Apply the whole journal, in the order it was written, a chunk per transaction. Returns the count."""
    last, count = 0, 0
    while True:
        with sessions.begin() as s:
            rows = s.execute(select(journal.c.seq, journal.c.envelope).where(journal.c.seq > last)
                             .order_by(journal.c.seq).limit(chunk)).all()
            if not rows:
                return count
            apply(s, [registry.decode(r.envelope) for r in rows])
        last, count = rows[-1].seq, count + len(rows)
        if progress is not None:
            progress(count)


def erase(session: Session, journal: Table, customer_id: str) -> int:
    """Forget a person's journaled events (erasure); the read models are erased by the caller."""
    return session.execute(delete(journal).where(journal.c.customer_id == customer_id)).rowcount or 0
