"""Customer card and current assignment, projected from crm.customer.events and crm.assignment.events.

Applied through `SqlBatchHandler` (event ids and partition positions recorded in the same transaction).
Each rule is order-tolerant: registration fields are set whenever they arrive, the stage only moves
forward, an unassignment only clears the manager it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.events import Event, Payload
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.events.crm_customer import (
    STAGE_ORDER,
    AccountStatusChanged,
    CustomerOnboarded,
    FundsMoved,
    RegionsChanged,
    Stage,
    StageChanged,
    TradeRecorded,
)

from .tables import customers, phone_map

Row = dict[str, Any]
COLUMNS = [c.name for c in customers.columns]


def _registered(row: Row, p: Any) -> None:
    row.update(name=p.name, channel=p.channel, campaign=p.campaign, language=p.language,
               user_region=p.user_region, active_region=p.active_region, registered_at=p.registered_at)


def _regions(row: Row, p: Any) -> None:
    row.update(user_region=p.user_region, active_region=p.active_region)


def _stage(row: Row, p: Any) -> None:
    current = row.get("stage")
    if current is None or STAGE_ORDER[Stage(p.to_stage)] > STAGE_ORDER[Stage(current)]:
        row.update(stage=p.to_stage.value, stage_changed_at=p.changed_at)


def _account(row: Row, p: Any) -> None:
    at = row.get("account_status_at")
    if at is None or p.changed_at >= at:
        row.update(account_status=p.status.value, account_status_at=p.changed_at)


def _funds(row: Row, p: Any) -> None:
    row["first_deposit_at"] = min(filter(None, (row.get("first_deposit_at"), p.occurred_at)))


def _trade(row: Row, p: Any) -> None:
    if p.first_trade:
        row["first_trade_at"] = min(filter(None, (row.get("first_trade_at"), p.occurred_at)))


def _assigned(row: Row, p: Any) -> None:
    row.update(manager_id=p.manager_id, team_id=p.team_id, assigned_at=p.assigned_at)


def _unassigned(row: Row, p: Any) -> None:
    if row.get("manager_id") == p.manager_id:
        row.update(manager_id=None, team_id=p.team_id or row.get("team_id"), assigned_at=p.unassigned_at)


CARD_RULES: dict[type[Payload], Callable[[Row, Any], None]] = {  # by the contract's class
    CustomerOnboarded: _registered,
    RegionsChanged: _regions,
    StageChanged: _stage,
    AccountStatusChanged: _account,
    FundsMoved: _funds,
    TradeRecorded: _trade,
    CustomerAssigned: _assigned,
    CustomerUnassigned: _unassigned,
}


def apply_card_events(session: Session, events: list[Event]) -> None:
    relevant = [e for e in events if type(e.payload) in CARD_RULES]
    if not relevant:
        return
    ids = sorted({e.payload.customer_id for e in relevant})
    rows: dict[str, Row] = {
        r["customer_id"]: dict(r)
        for r in session.execute(select(customers).where(customers.c.customer_id.in_(ids))).mappings()
    }
    before = {cid: dict(row) for cid, row in rows.items()}
    for e in relevant:
        cid = e.payload.customer_id
        row = rows.setdefault(cid, dict.fromkeys(COLUMNS) | {"customer_id": cid})
        CARD_RULES[type(e.payload)](row, e.payload)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Only the columns this batch changed: the customer and assignment topics are consumed concurrently
    # and write disjoint columns of the same row. Rows changing the same columns go in one executemany.
    groups: dict[tuple[str, ...], list[Row]] = {}
    for cid in sorted(rows):
        old = before.get(cid) or dict.fromkeys(COLUMNS)
        changed = {k: v for k, v in rows[cid].items() if k != "customer_id" and old[k] != v}
        if changed or cid not in before:
            groups.setdefault(tuple(sorted(changed)), []).append({"customer_id": cid, **changed})
    for columns, values in groups.items():
        stmt = insert(customers)
        stmt = stmt.on_conflict_do_update(index_elements=["customer_id"],
                                          set_={c: getattr(stmt.excluded, c) for c in columns}) if columns \
            else stmt.on_conflict_do_nothing(index_elements=["customer_id"])
        session.execute(stmt, values)
    phones = sorted({(e.payload.phone_hash, e.payload.customer_id) for e in relevant
                     if isinstance(e.payload, CustomerOnboarded) and e.payload.phone_hash})
    if phones:  # the phone map the captured calls and SMS are matched through (services/tasks/captures.py)
        session.execute(insert(phone_map).on_conflict_do_nothing(index_elements=["phone_hash", "customer_id"]),
                        [{"phone_hash": h, "customer_id": c} for h, c in phones])
