"""The intake journal: every platform / CRM event the User CRM applied, kept in its own store.

The read models fed by the consumer (statement, login log, accounts, allocations, profile facts, owners) are
rebuilt from this journal, not from the topics: the platform's `brokerage.*` topics keep 30 days, the
statement and the login log cover the whole history. Each event is journaled in the transaction that applies
it (with its position and processed id), only if the User CRM uses its type; `customer_id` makes a person's
rows erasable. See docs/retention.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, registry
from shared.runtime.handlers import SqlApply
from shared.runtime.sqlrows import insert_ignore

from .tables import journal

REPLAY_CHUNK = 2000


def journaled(apply: SqlApply, used: Collection[type]) -> SqlApply:
    """`apply`, journaling first the events whose payload type is in `used` (the others change nothing)."""

    def apply_and_journal(session: Session, events: list[Event]) -> None:
        kept = [e for e in events if type(e.payload) in used]
        insert_ignore(session, journal, [_row(e) for e in kept], ["event_id"])
        apply(session, kept)

    return apply_and_journal


def _row(e: Event) -> dict[str, Any]:
    return {"event_id": str(e.event_id), "customer_id": getattr(e.payload, "customer_id", None),
            "envelope": e.envelope.model_dump(mode="json")}


def replay(sessions: sessionmaker[Session], apply: SqlApply, *, chunk: int = REPLAY_CHUNK,
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


def erase(session: Session, customer_id: str) -> int:
    """Forget a person's journaled events (erasure); the read models are erased by the caller."""
    return session.execute(delete(journal).where(journal.c.customer_id == customer_id)).rowcount or 0
