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

from sqlalchemy import bindparam, select
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
        self._prefetch(session, events, rows, customers)
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

    # ------------------------------------------------------------------------------- loading
    def _prefetch(
        self, session: Session, events: list[Any], rows: dict[str, dict[str, Any]],
        customers: dict[str, dict[str, Any]]
    ) -> None:
        """The rows the batch's events touch, with one query per table (instead of one per case and
        customer): the cases, then their customers (locked, in id order, on PostgreSQL). A case or customer
        without a row is remembered as absent (None)."""
        case_ids = sorted({str(ev.originator_id) for ev in events if isinstance(ev, KycCase.Event)})
        for part in _chunks(case_ids):
            for found in session.execute(select(kyc_case).where(kyc_case.c.case_id.in_(part))).mappings():
                rows[found["case_id"]] = _case_row(found)
        for case_id in case_ids:
            rows.setdefault(case_id, None)  # type: ignore[arg-type]
        customer_ids = {ev.customer_id for ev in events
                        if isinstance(ev, KycCase.Opened | CustomerKyc.IdentityVerified) and ev.customer_id}
        customer_ids |= {row["customer_id"] for row in rows.values() if row is not None and row["customer_id"]}
        pg = session.get_bind().dialect.name == "postgresql"
        for part in _chunks(sorted(customer_ids)):
            query = select(kyc_customer).where(kyc_customer.c.customer_id.in_(part))
            if pg:
                query = query.order_by(kyc_customer.c.customer_id).with_for_update()
            for found in session.execute(query).mappings():
                customers[found["customer_id"]] = _customer_row(found)
        for customer_id in customer_ids:
            customers.setdefault(customer_id, None)  # type: ignore[arg-type]

    # ---------------------------------------------------------------------------------- cases
    def _load_case(
        self, session: Session, rows: dict[str, dict[str, Any]], case_id: str
    ) -> dict[str, Any] | None:
        if case_id not in rows:
            found = session.execute(select(kyc_case).where(kyc_case.c.case_id == case_id)).mappings().first()
            rows[case_id] = _case_row(found) if found is not None else None  # type: ignore[assignment]
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
        if customers.get(customer_id) is None:
            found = None
            if customer_id not in customers:  # not prefetched (absent ones are None)
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
                customers[customer_id] = _customer_row(found)
        row = customers[customer_id]
        row["_touched"] = True  # written back by `_flush` (a prefetched row nothing touched is not)
        return row

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
        """The batch's rows: new ones inserted, changed ones updated, one executemany per table and kind."""
        inserts, updates = [], []
        for row in rows.values():
            if row is None or not row.get("_dirty"):
                continue
            data = {k: v for k, v in row.items() if not k.startswith("_")}
            (inserts if row["_new"] else updates).append(data)
        if inserts:
            session.execute(kyc_case.insert(), inserts)
        _update_many(session, kyc_case, "case_id", updates)
        present = [c for c in customers.values() if c is not None]
        c_new = [{k: v for k, v in c.items() if not k.startswith("_")} for c in present if c["_new"]]
        if c_new:
            session.execute(kyc_customer.insert(), c_new)
        _update_many(session, kyc_customer, "customer_id",
                     [{k: v for k, v in c.items() if not k.startswith("_")} for c in present
                      if not c["_new"] and c.get("_touched")])


CASE_TIMES = ("opened_at", "submitted_at", "queued_at", "waiting_since", "claimed_at", "second_requested_at",
              "decided_at", "updated_at")


def _case_row(found: Any) -> dict[str, Any]:
    row = {**dict(found), "_new": False, "_dirty": False}
    for key in CASE_TIMES:
        row[key] = utc(row[key])
    return row


def _customer_row(found: Any) -> dict[str, Any]:
    row = {**dict(found), "_new": False}
    row["identity_verified_at"] = utc(found["identity_verified_at"])
    row["updated_at"] = utc(found["updated_at"])
    return row


def _chunks(ids: list[str], size: int = 1000) -> list[list[str]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _update_many(session: Session, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """Every row's columns set by its key, as one executemany (the rows carry all the table's columns)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    stmt = (table.update().where(table.c[key] == bindparam(f"k_{key}"))
            .values({c: bindparam(f"v_{c}") for c in columns}))
    session.execute(stmt, [{f"k_{key}": r[key], **{f"v_{c}": r[c] for c in columns}} for r in rows])


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
