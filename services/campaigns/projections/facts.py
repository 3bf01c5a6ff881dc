"""What a campaign's indicators are computed from, fed by the same consumer as the audience (`consumers.py`):
when each customer first reached a conversion stage (`crm.customer.stage_changed`), their deposits and
withdrawals (`crm.customer.funds_moved`) and their asset snapshots (`trading.asset_snapshot_taken` on the
brokerage's trading topic: the customer service publishes no valuation of its own).

Any order and any duplicates give the same rows: a milestone is the earliest time a stage at or past it was
reached (a jump from registered to funded reaches account_opened and funded at once); funds are keyed by
transaction, snapshots by (customer, account, as_of)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_customer import STAGE_ORDER, FundsMoved, Stage, StageChanged
from shared.events.upstream import AssetSnapshotTaken
from shared.runtime.sqlrows import insert_ignore, upsert

from .tables import asset, funds, milestone

# a conversion milestone -> the first stage that implies it
MILESTONES = {"account_opened": Stage.pending_funding, "funded": Stage.funded, "first_trade": Stage.traded}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def milestones_of(p: StageChanged) -> list[str]:
    return [kind for kind, stage in MILESTONES.items() if STAGE_ORDER[p.to_stage] >= STAGE_ORDER[stage]]


def apply_evaluation_facts(session: Session, events: list[Event]) -> None:
    """`SqlBatchHandler` apply (with the audience's): a fixed number of statements per batch."""
    reached: dict[tuple[str, str], datetime] = {}
    moves: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    for e in events:
        p = e.payload
        if isinstance(p, StageChanged):
            for kind in milestones_of(p):
                k, at = (p.customer_id, kind), _utc(p.changed_at)
                reached[k] = min(at, reached.get(k, at))
        elif isinstance(p, FundsMoved):
            moves.append({"customer_id": p.customer_id, "transaction_id": p.transaction_id,
                          "amount": p.amount if p.direction == "deposit" else -p.amount, "currency": p.currency,
                          "occurred_at": _utc(p.occurred_at)})
        elif isinstance(p, AssetSnapshotTaken):
            snapshots.append({"customer_id": p.customer_id, "account_id": p.account_id, "as_of": _utc(p.as_of),
                              "total_assets": p.total_assets, "currency": p.currency})
    if reached:
        keys = sorted(reached)
        stored = {(r.customer_id, r.kind): _utc(r.at) for r in session.execute(
            select(milestone.c.customer_id, milestone.c.kind, milestone.c.at)
            .where(tuple_(milestone.c.customer_id, milestone.c.kind).in_(keys)))}
        rows = [{"customer_id": c, "kind": kind, "at": reached[(c, kind)]} for c, kind in keys
                if (c, kind) not in stored or reached[(c, kind)] < stored[(c, kind)]]
        upsert(session, milestone, rows, ["customer_id", "kind"])
    insert_ignore(session, funds, moves, ["customer_id", "transaction_id"])
    insert_ignore(session, asset, snapshots, ["customer_id", "account_id", "as_of"])
