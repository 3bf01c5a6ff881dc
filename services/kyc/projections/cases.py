"""The KYC read model, `kyc_case` and `kyc_customer`, folded from new events in the transaction that stores
them (`app.read_model`), and from the whole store by a rebuild.

Pure function of the stored events (no clock, no configuration), so rebuilding from the log gives the same
rows. Each row remembers the aggregate version it has applied: a re-applied event is skipped. A case row
changes only with its case's events (a concurrent writer of the same case loses on the aggregate's version
and rolls back); a customer row sums up several cases, so it is read FOR UPDATE on PostgreSQL: transactions
of different cases of one customer take turns on it instead of overwriting each other's counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.case import QUEUE_STATES, S_IN_REVIEW, S_SECOND, KycCase
from ..domain.customer import CustomerKyc
from ..domain.rules import PENDING, SUPERSEDED
from ..outbox import event_time
from .tables import kyc_case, kyc_customer


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _seconds(start: datetime | None, end: datetime) -> int:
    if start is None:
        return 0
    return max(int((utc(end) - utc(start)).total_seconds()), 0)  # type: ignore[operator]


def _doc_counts(documents: dict[str, Any]) -> tuple[int, int]:
    active = [d for d in documents.values() if d["status"] != SUPERSEDED]
    return len(active), sum(1 for d in active if d["status"] == PENDING)


class CaseProjection:
    """`fold(session, new events)`: the application's `read_model`. Keeps the rows of one batch in memory."""

    def __call__(self, session: Session, events: list[Any]) -> None:
        rows: dict[str, dict[str, Any]] = {}
        customers: dict[str, dict[str, Any]] = {}
        for ev in events:
            if isinstance(ev, KycCase.Event):
                self._case_event(session, rows, customers, ev)
            elif isinstance(ev, CustomerKyc.IdentityVerified):
                at = utc(ev.verified_at)
                row = self._customer(session, customers, ev.customer_id, at)
                if row is not None:
                    if row["identity_verified_at"] is None or at > row["identity_verified_at"]:
                        row["identity_verified_at"] = at
                    row["updated_at"] = max(row["updated_at"], at)
        self._flush(session, rows, customers)

    # ---------------------------------------------------------------------------------- cases
    def _load_case(
        self, session: Session, rows: dict[str, dict[str, Any]], case_id: str
    ) -> dict[str, Any] | None:
        if case_id not in rows:
            found = session.execute(select(kyc_case).where(kyc_case.c.case_id == case_id)).mappings().first()
            if found is None:
                return None
            rows[case_id] = {**dict(found), "_new": False, "_dirty": False}
            for key in (
                "opened_at",
                "submitted_at",
                "queued_at",
                "waiting_since",
                "claimed_at",
                "second_requested_at",
                "decided_at",
                "updated_at",
            ):
                rows[case_id][key] = utc(rows[case_id][key])
        return rows[case_id]

    def _case_event(
        self, session: Session, rows: dict[str, dict[str, Any]], customers: dict[str, dict[str, Any]], ev: Any
    ) -> None:
        case_id = str(ev.originator_id)
        at = utc(event_time(ev))
        if isinstance(ev, KycCase.Opened):
            if self._load_case(session, rows, case_id) is not None:
                return
            total, pending = _doc_counts(ev.documents)
            verified = utc(ev.verified_at)
            updated = max(at, verified) if verified else at  # same row whichever topic was read first
            rows[case_id] = {
                "case_id": case_id,
                "customer_id": ev.customer_id,
                "application_id": ev.application_id,
                "account_type": ev.account_type,
                "state": "pending",
                "high_risk": ev.high_risk,
                "submission": 1,
                "documents_total": total,
                "documents_pending": pending,
                "completion_pct": ev.completion_pct,
                "reviewer_id": None,
                "first_reviewer_id": None,
                "opened_at": at,
                "submitted_at": at,
                "queued_at": at,
                "waiting_since": at,
                "claimed_at": None,
                "second_requested_at": None,
                "decided_at": None,
                "decided_by": None,
                "second_reviewer_id": None,
                "queue_seconds_total": 0,
                "review_seconds_total": 0,
                "updated_at": updated,
                "version": ev.originator_version,
                "_new": True,
                "_dirty": True,
            }
            self._touch_customer(session, customers, rows[case_id], opened=True)
            return
        row = self._load_case(session, rows, case_id)
        if row is None or ev.originator_version <= row["version"]:
            return  # unknown case (cannot happen: Opened is first in the log) or already applied
        handler = CASE_EVENTS.get(type(ev))
        if handler is not None:
            handler(self, row, ev, at)
        row["version"] = ev.originator_version
        row["updated_at"] = max(row["updated_at"], at)
        row["_dirty"] = True
        self._touch_customer(session, customers, row, opened=False)

    def _on_resubmitted(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["application_id"] = ev.application_id
        row["submission"] += 1
        row["submitted_at"] = at
        row["high_risk"], row["completion_pct"] = ev.high_risk, ev.completion_pct
        row["documents_total"], row["documents_pending"] = _doc_counts(ev.documents)
        if ev.to_state == "resubmitted":
            row.update(
                state="resubmitted",
                queued_at=at,
                waiting_since=at,
                reviewer_id=None,
                claimed_at=None,
                first_reviewer_id=None,
                second_requested_at=None,
            )

    def _on_identity_verified(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["high_risk"], row["completion_pct"] = ev.high_risk, ev.completion_pct

    def _on_claimed(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        if ev.from_state in QUEUE_STATES:
            row["queue_seconds_total"] += _seconds(row["waiting_since"], at)
        elif ev.from_state == S_IN_REVIEW:
            row["review_seconds_total"] += _seconds(row["claimed_at"], at)
        row.update(state=S_IN_REVIEW, reviewer_id=ev.reviewer_id, claimed_at=at)

    def _on_released(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["review_seconds_total"] += _seconds(row["claimed_at"], at)
        row.update(state=ev.to_state, reviewer_id=None, claimed_at=None, waiting_since=at)

    def _on_document_decided(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["completion_pct"], row["documents_pending"] = ev.completion_pct, ev.documents_pending

    def _on_info_requested(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["completion_pct"], row["documents_pending"] = ev.completion_pct, ev.documents_pending
        self._decided(row, ev.to_state, at, by=ev.by, second=None)

    def _on_review_submitted(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        if ev.to_state == S_SECOND:
            row["review_seconds_total"] += _seconds(row["claimed_at"], at)
            row.update(
                state=S_SECOND,
                first_reviewer_id=ev.by,
                second_requested_at=at,
                reviewer_id=None,
                claimed_at=None,
            )
            return
        self._decided(row, ev.to_state, at, by=ev.by, second=None)

    def _on_second_reviewed(self, row: dict[str, Any], ev: Any, at: datetime) -> None:
        row["review_seconds_total"] += _seconds(row["second_requested_at"], at)
        self._decided(row, ev.to_state, at, by=ev.first_reviewer, second=ev.by)
        row["second_requested_at"] = None

    def _decided(self, row: dict[str, Any], state: str, at: datetime, *, by: str, second: str | None) -> None:
        if row["state"] == S_IN_REVIEW:
            row["review_seconds_total"] += _seconds(row["claimed_at"], at)
        row.update(
            state=state,
            decided_at=at,
            decided_by=by,
            second_reviewer_id=second,
            reviewer_id=None,
            claimed_at=None,
        )

    # ------------------------------------------------------------------------------- customers
    def _customer(
        self, session: Session, customers: dict[str, dict[str, Any]], customer_id: str | None, at: datetime
    ) -> dict[str, Any] | None:
        if customer_id is None:
            return None
        if customer_id not in customers:
            query = select(kyc_customer).where(kyc_customer.c.customer_id == customer_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            found = session.execute(query).mappings().first()
            if found is None:
                customers[customer_id] = {
                    "customer_id": customer_id,
                    "latest_case_id": None,
                    "latest_state": None,
                    "completion_pct": 0,
                    "cases": 0,
                    "identity_verified_at": None,
                    "updated_at": at,
                    "_new": True,
                }
            else:
                customers[customer_id] = {**dict(found), "_new": False}
                customers[customer_id]["identity_verified_at"] = utc(found["identity_verified_at"])
                customers[customer_id]["updated_at"] = utc(found["updated_at"])
        return customers[customer_id]

    def _touch_customer(
        self, session: Session, customers: dict[str, dict[str, Any]], row: dict[str, Any], *, opened: bool
    ) -> None:
        cust = self._customer(session, customers, row["customer_id"], row["updated_at"])
        assert cust is not None
        if opened:
            cust["cases"] += 1
            cust["latest_case_id"] = row["case_id"]
        if cust["latest_case_id"] == row["case_id"]:
            cust["latest_state"], cust["completion_pct"] = row["state"], row["completion_pct"]
            cust["updated_at"] = max(cust["updated_at"], row["updated_at"])

    # ---------------------------------------------------------------------------------- writes
    def _flush(
        self, session: Session, rows: dict[str, dict[str, Any]], customers: dict[str, dict[str, Any]]
    ) -> None:
        inserts, updates = [], []
        for row in rows.values():
            if not row.get("_dirty"):
                continue
            data = {k: v for k, v in row.items() if not k.startswith("_")}
            (inserts if row["_new"] else updates).append(data)
        if inserts:
            session.execute(kyc_case.insert(), inserts)
        for data in updates:
            session.execute(kyc_case.update().where(kyc_case.c.case_id == data["case_id"]).values(**data))
        c_new = [
            {k: v for k, v in c.items() if not k.startswith("_")} for c in customers.values() if c["_new"]
        ]
        if c_new:
            session.execute(kyc_customer.insert(), c_new)
        for c in customers.values():
            if not c["_new"]:
                data = {k: v for k, v in c.items() if not k.startswith("_")}
                session.execute(
                    kyc_customer.update().where(kyc_customer.c.customer_id == c["customer_id"]).values(**data)
                )


# by the stored domain event's class (Opened creates the row, in `_case_event`)
CASE_EVENTS: dict[type, Callable[[CaseProjection, dict[str, Any], Any, datetime], None]] = {
    KycCase.Resubmitted: CaseProjection._on_resubmitted,
    KycCase.IdentityVerified: CaseProjection._on_identity_verified,
    KycCase.Claimed: CaseProjection._on_claimed,
    KycCase.Released: CaseProjection._on_released,
    KycCase.DocumentDecided: CaseProjection._on_document_decided,
    KycCase.InfoRequested: CaseProjection._on_info_requested,
    KycCase.ReviewSubmitted: CaseProjection._on_review_submitted,
    KycCase.SecondReviewed: CaseProjection._on_second_reviewed,
}
