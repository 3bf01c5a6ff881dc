"""What audiences are resolved from, fed by `crm.customer.events` and `crm.assignment.events` (never another
service's database): each customer's attributes and stage, who follows them up now, and the managers.

Out-of-order and duplicated facts give the same rows: the stage only moves forward (by rank), the regions,
the owner and each manager are last-writer-wins registers by business time; the kit de-duplicates event ids.
A batch is written with a fixed number of statements (three reads, three upserts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged
from shared.events.crm_customer import STAGE_ORDER, CustomerOnboarded, RegionsChanged, StageChanged
from shared.runtime.sqlrows import upsert

from .tables import customer, manager, owner

Row = dict[str, Any]
CUSTOMER_FACTS = (CustomerOnboarded, RegionsChanged, StageChanged)
OWNER_FACTS = (CustomerAssigned, CustomerUnassigned)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _newer(at: datetime, than: datetime | None) -> bool:
    return than is None or _utc(at) >= _utc(than)  # type: ignore[operator]


def _load(session: Session, table: Table, key: str, ids: Iterable[str]) -> dict[str, Row]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    col = table.c[key]
    return {r[key]: dict(r) for r in session.execute(select(table).where(col.in_(wanted))).mappings()}


def _customer_row(rows: dict[str, Row], customer_id: str) -> Row:
    return rows.setdefault(customer_id, {"customer_id": customer_id, "channel": None, "language": None,
                                         "user_region": None, "active_region": None, "regions_at": None,
                                         "stage": None, "stage_rank": -1})


def _regions(row: Row, user_region: str | None, active_region: str | None, at: datetime) -> None:
    if _newer(at, row["regions_at"]):
        row.update(user_region=user_region, active_region=active_region, regions_at=_utc(at))


def _customer_fact(row: Row, p: Any) -> None:
    if isinstance(p, CustomerOnboarded):
        row.update(channel=p.channel, language=p.language)
        _regions(row, p.user_region, p.active_region, p.registered_at)
    elif isinstance(p, RegionsChanged):
        _regions(row, p.user_region, p.active_region, p.changed_at)
    elif STAGE_ORDER[p.to_stage] > row["stage_rank"]:
        row.update(stage=str(p.to_stage), stage_rank=STAGE_ORDER[p.to_stage])


def _owner_fact(rows: dict[str, Row], p: Any) -> None:
    row = rows.get(p.customer_id)
    if isinstance(p, CustomerAssigned):
        if row is None or _newer(p.assigned_at, row["changed_at"]):
            rows[p.customer_id] = {"customer_id": p.customer_id, "manager_id": p.manager_id, "team_id": p.team_id,
                                   "changed_at": _utc(p.assigned_at)}
    elif row is None or (_newer(p.unassigned_at, row["changed_at"]) and row["manager_id"] == p.manager_id):
        rows[p.customer_id] = {"customer_id": p.customer_id, "manager_id": None, "team_id": None,
                               "changed_at": _utc(p.unassigned_at)}


def apply_audience_facts(session: Session, events: list[Event]) -> None:
    """`SqlBatchHandler` apply: the batch's new facts, in delivery order."""
    payloads = [e.payload for e in events]
    customers = _load(session, customer, "customer_id",
                      (p.customer_id for p in payloads if isinstance(p, CUSTOMER_FACTS)))
    owners = _load(session, owner, "customer_id", (p.customer_id for p in payloads if isinstance(p, OWNER_FACTS)))
    managers = _load(session, manager, "manager_id",
                     (p.manager_id for p in payloads if isinstance(p, ManagerChanged)))
    touched_c: set[str] = set()
    touched_o: set[str] = set()
    touched_m: set[str] = set()
    for p in payloads:
        if isinstance(p, CUSTOMER_FACTS):
            _customer_fact(_customer_row(customers, p.customer_id), p)
            touched_c.add(p.customer_id)
        elif isinstance(p, OWNER_FACTS):
            _owner_fact(owners, p)
            touched_o.add(p.customer_id)
        elif isinstance(p, ManagerChanged):
            old = managers.get(p.manager_id)
            if old is None or _newer(p.changed_at, old["changed_at"]):
                managers[p.manager_id] = {"manager_id": p.manager_id, "team_id": p.team_id, "status": str(p.status),
                                          "changed_at": _utc(p.changed_at)}
            touched_m.add(p.manager_id)
    upsert(session, customer, [customers[k] for k in sorted(touched_c)], ["customer_id"])
    upsert(session, owner, [owners[k] for k in sorted(touched_o) if k in owners], ["customer_id"])
    upsert(session, manager, [managers[k] for k in sorted(touched_m)], ["manager_id"])
