"""Views of requests: from the aggregate (right after a command) or from the read model (lists)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.request import UserRequest
from ..domain.summary import summarise


def request_view(r: UserRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id, "customer_id": r.customer_id, "action": r.action, "state": str(r.state),
        "needs_approval": r.needs_approval, "requested_by": r.requested_by, "requested_role": r.requested_role,
        "requested_at": r.requested_at, "reason": r.reason, "approved_by": r.approved_by,
        "decided_at": r.decided_at, "amount": r.amount, "currency": r.currency, "summary": summarise(r.params),
        "result": r.result, "failure_code": r.failure_code, "failure_reason": r.failure_reason,
        "done_at": r.done_at,
    }


def row_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in (  # plain str keys (see deps.plain)
        "request_id", "customer_id", "action", "state", "needs_approval", "requested_by", "requested_role",
        "requested_at", "reason", "approved_by", "decided_at", "amount", "currency", "summary", "result",
        "failure_code", "failure_reason", "done_at")}
