"""The intake journal: every platform / CRM event the User CRM applied, kept in its own store
(`shared.runtime.journal`, table `uc_journal`).

The read models fed by the consumer (statement, login log, accounts, allocations, profile facts, owners) are
rebuilt from this journal, not from the topics: the platform's `brokerage.*` topics keep 30 days, the
statement and the login log cover the whole history. Each event is journaled in the transaction that applies
it (with its position and processed id), only if the User CRM uses its type; `customer_id` makes a person's
rows erasable. See docs/retention.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session, sessionmaker

from shared.runtime import journal as kit
from shared.runtime.handlers import SqlApply

from .tables import journal

REPLAY_CHUNK = kit.REPLAY_CHUNK


def journaled(apply: SqlApply, used: Collection[type]) -> SqlApply:
    """`apply`, journaling first the events whose payload type is in `used` (the others change nothing)."""
    return kit.journaled(apply, used, journal)


def replay(sessions: sessionmaker[Session], apply: SqlApply, *, chunk: int = REPLAY_CHUNK,
           progress: Callable[[int], None] | None = None) -> int:
    """Apply the whole journal, in the order it was written, a chunk per transaction. Returns the count."""
    return kit.replay(sessions, apply, journal, chunk=chunk, progress=progress)


def erase(session: Session, customer_id: str) -> int:
    """Forget a person's journaled events (erasure); the read models are erased by the caller."""
    return kit.erase(session, journal, customer_id)
