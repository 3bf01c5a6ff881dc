"""Read-side queries: the review queue (keyset pagination, oldest first) and per-customer completion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from ..domain.case import OPEN_STATES, QUEUE_STATES, S_IN_REVIEW, S_SECOND
from ..domain.rules import SlaRules
from .cases import utc
from .tables import kyc_case, kyc_customer


@dataclass(frozen=True)
class QueueFilter:
    states: Sequence[str] = OPEN_STATES
    reviewer_id: str | None = None
    high_risk: bool | None = None
    overdue: bool | None = None
    customer_id: str | None = None


def overdue_clause(now: datetime, sla: SlaRules) -> Any:
    c = kyc_case.c
    return or_(
        and_(c.state.in_(QUEUE_STATES), c.queued_at < now - timedelta(seconds=sla.queue_seconds)),
        and_(c.state == S_IN_REVIEW, c.claimed_at < now - timedelta(seconds=sla.review_seconds)),
        and_(c.state == S_SECOND, c.second_requested_at < now - timedelta(seconds=sla.second_review_seconds)),
    )


def queue_statement(*, now: datetime, sla: SlaRules, flt: QueueFilter, limit: int,
                    after: tuple[datetime, str] | None) -> Any:
    """SELECT for one queue page (limit + 1 rows, to know whether there is a next page)."""
    c = kyc_case.c
    q = select(kyc_case)
    states = list(dict.fromkeys(flt.states))
    q = q.where(c.state == states[0]) if len(states) == 1 else q.where(c.state.in_(states))
    if flt.reviewer_id is not None:
        q = q.where(c.reviewer_id == flt.reviewer_id)
    if flt.high_risk is not None:
        q = q.where(c.high_risk.is_(flt.high_risk))
    if flt.customer_id is not None:
        q = q.where(c.customer_id == flt.customer_id)
    if flt.overdue is not None:
        clause = overdue_clause(now, sla)
        q = q.where(clause if flt.overdue else ~clause)
    if after is not None:
        q = q.where(tuple_(c.queued_at, c.case_id) > tuple_(*after))
    return q.order_by(c.queued_at, c.case_id).limit(limit + 1)


def queue_page(
    session: Session, *, now: datetime, sla: SlaRules, flt: QueueFilter, limit: int,
    after: tuple[datetime, str] | None = None,
) -> tuple[list[dict[str, Any]], tuple[datetime, str] | None]:
    """One page and the (queued_at, case_id) key of its last row when there is a next page."""
    stmt = queue_statement(now=now, sla=sla, flt=flt, limit=limit, after=after)
    rows = session.execute(stmt).mappings().all()
    items = [queue_item(r, now, sla) for r in rows[:limit]]
    last = (utc(rows[limit - 1]["queued_at"]), rows[limit - 1]["case_id"]) if len(rows) > limit else None
    return items, last  # type: ignore[return-value]


def _secs(a: datetime | None, b: datetime) -> int:
    return 0 if a is None else max(int((b - utc(a)).total_seconds()), 0)  # type: ignore[operator]


def queue_item(r: Any, now: datetime, sla: SlaRules) -> dict[str, Any]:
    state = r["state"]
    in_queue = r["queue_seconds_total"] + (_secs(r["waiting_since"], now) if state in QUEUE_STATES else 0)
    in_review = (
        r["review_seconds_total"]
        + (_secs(r["claimed_at"], now) if state == S_IN_REVIEW else 0)
        + (_secs(r["second_requested_at"], now) if state == S_SECOND else 0)
    )
    overdue = (
        (state in QUEUE_STATES and _secs(r["queued_at"], now) > sla.queue_seconds)
        or (state == S_IN_REVIEW and _secs(r["claimed_at"], now) > sla.review_seconds)
        or (state == S_SECOND and _secs(r["second_requested_at"], now) > sla.second_review_seconds)
    )
    return {
        "case_id": r["case_id"],
        "customer_id": r["customer_id"],
        "application_id": r["application_id"],
        "state": state,
        "high_risk": bool(r["high_risk"]),
        "submission": r["submission"],
        "documents_total": r["documents_total"],
        "documents_pending": r["documents_pending"],
        "completion_pct": r["completion_pct"],
        "reviewer_id": r["reviewer_id"],
        "first_reviewer_id": r["first_reviewer_id"],
        "queued_at": utc(r["queued_at"]),
        "claimed_at": utc(r["claimed_at"]),
        "age_seconds": _secs(r["queued_at"], now),
        "time_in_queue_seconds": in_queue,
        "time_in_review_seconds": in_review,
        "overdue": bool(overdue),
    }


def customer_completion(session: Session, customer_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(kyc_customer).where(kyc_customer.c.customer_id == customer_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return {
        "customer_id": row["customer_id"],
        "completion_pct": row["completion_pct"],
        "latest_case_id": row["latest_case_id"],
        "latest_state": row["latest_state"],
        "cases": row["cases"],
        "identity_verified": row["identity_verified_at"] is not None,
        "identity_verified_at": utc(row["identity_verified_at"]),
    }
