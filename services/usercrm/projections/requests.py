"""Projection of the request aggregates into `uc_request` (state per request) and `uc_audit` (one row per
step). Pure function of the stored events; each row remembers the version applied, so re-applying is a no-op."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime.sqlrows import insert_ignore

from ..domain.request import UserRequest
from ..domain.summary import summarise
from .tables import audit, request


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RequestProjection:
    """`fold(session, new events)`: the application's `read_model`, run in the events' transaction (a request
    row changes only with its request's events: a concurrent writer of the same request loses on the
    aggregate's version and rolls back)."""

    def __call__(self, session: Session, events: list[Any]) -> None:
        ours = [e for e in events if isinstance(e, UserRequest.Event)]
        if not ours:
            return
        ids = list({str(e.originator_id) for e in ours})
        rows = {r["request_id"]: {**dict(r), "_new": False}
                for r in session.execute(select(request).where(request.c.request_id.in_(ids))).mappings()}
        steps: list[dict[str, Any]] = []
        for ev in ours:
            rid = str(ev.originator_id)
            row = rows.get(rid)
            if isinstance(ev, UserRequest.Requested):
                if row is None:
                    rows[rid] = row = self._new_row(ev)
            elif row is None or ev.originator_version <= row["version"]:
                continue
            else:
                self._step(row, ev)
            row["version"], row["_dirty"] = ev.originator_version, True
            steps.append(self._audit(row, ev))
        inserts = [_plain(r) for r in rows.values() if r.get("_dirty") and r["_new"]]
        if inserts:
            session.execute(request.insert(), inserts)
        for r in rows.values():
            if r.get("_dirty") and not r["_new"]:
                session.execute(request.update().where(request.c.request_id == r["request_id"]).values(**_plain(r)))
        insert_ignore(session, audit, steps, ["request_id", "seq"])

    @staticmethod
    def _new_row(ev: Any) -> dict[str, Any]:
        at = utc(ev.at)
        return {
            "request_id": ev.request_id, "customer_id": ev.customer_id, "action": ev.action,
            "state": "awaiting_approval" if ev.needs_approval else "submitted",
            "requested_by": ev.requested_by, "requested_role": ev.requested_role, "requested_at": at,
            "reason": ev.reason, "needs_approval": ev.needs_approval, "approved_by": None, "decided_at": None,
            "amount": ev.amount, "currency": ev.currency, "summary": summarise(ev.params), "result": {},
            "failure_code": None, "failure_reason": None, "done_at": None, "correlation_id": ev.correlation_id,
            "updated_at": at, "version": ev.originator_version, "_new": True,
        }

    @staticmethod
    def _step(row: dict[str, Any], ev: Any) -> None:
        at = utc(ev.at)
        if isinstance(ev, UserRequest.Approved):
            row.update(state="submitted", approved_by=ev.by, decided_at=at)
        elif isinstance(ev, UserRequest.Declined):
            row.update(state="declined", approved_by=ev.by, decided_at=at, done_at=at)
        elif isinstance(ev, UserRequest.Answered):
            row["state"] = ev.to_state
            row["result"] = {**(row["result"] or {}), **ev.result}
            row["failure_code"] = ev.reason_code or row["failure_code"]
            row["failure_reason"] = ev.reason or row["failure_reason"]
            if ev.to_state in ("completed", "failed"):
                row["done_at"] = at
        row["updated_at"] = max(utc(row["updated_at"]), at)

    @staticmethod
    def _audit(row: dict[str, Any], ev: Any) -> dict[str, Any]:
        actor, role, step = None, None, "requested"
        if isinstance(ev, UserRequest.Requested):
            actor, role = ev.requested_by, ev.requested_role
        elif isinstance(ev, UserRequest.Approved | UserRequest.Declined):
            actor, role = ev.by, ev.role
            step = "approved" if isinstance(ev, UserRequest.Approved) else "declined"
        elif isinstance(ev, UserRequest.Answered):
            step = ev.answer
        return {"request_id": row["request_id"], "seq": ev.originator_version, "at": utc(ev.at), "step": step,
                "actor_id": actor, "actor_role": role, "action": row["action"], "customer_id": row["customer_id"],
                "correlation_id": row["correlation_id"], "outcome": row["state"]}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}
