"""What audiences are resolved from, fed by `crm.customer.events` and `crm.assignment.events` (never another
service's database): each customer's attributes, stage and tags, who follows them up now, and the managers.

Out-of-order and duplicated facts give the same rows: the stage only moves forward (by rank); the regions, the
tags, each manager, the latest assignment and the latest unassignment of a customer are last-writer-wins
registers ordered by (business time, event id) — `key`; the owner is the latest assignment's manager unless the
latest unassignment, of that manager, is later. The kit de-duplicates event ids. A batch is written with a
fixed number of statements (three reads, three upserts, and for tag changes one delete and one insert)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged
from shared.events.crm_customer import (
    STAGE_ORDER,
    CustomerOnboarded,
    RegionsChanged,
    SegmentMembershipChanged,
    StageChanged,
    TagsChanged,
)
from shared.runtime.sqlrows import insert_ignore, upsert

from .tables import customer, customer_tag, manager, owner, segment_member

Row = dict[str, Any]
CUSTOMER_FACTS = (CustomerOnboarded, RegionsChanged, StageChanged, TagsChanged)
OWNER_FACTS = (CustomerAssigned, CustomerUnassigned)


def key(at: datetime, event: Event) -> str:
    """A register's order: business time (UTC, fixed width), then the event id."""
    return stamp(at, str(event.event_id))


def stamp(at: datetime, ident: str) -> str:
    """Business time (UTC, fixed width), then an id: sorts as time, ties broken by the id."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{ident}"


def _newer(k: str, than: str | None) -> bool:
    return than is None or k > than


def _load(session: Session, table: Table, column: str, ids: Iterable[str]) -> dict[str, Row]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    col = table.c[column]
    return {r[column]: dict(r) for r in session.execute(select(table).where(col.in_(wanted))).mappings()}


def _customer_row(rows: dict[str, Row], customer_id: str) -> Row:
    return rows.setdefault(customer_id, {"customer_id": customer_id, "channel": None, "language": None,
                                         "user_region": None, "active_region": None, "regions_key": None,
                                         "stage": None, "stage_rank": -1, "tags_key": None})


def _regions(row: Row, user_region: str | None, active_region: str | None, k: str) -> None:
    if _newer(k, row["regions_key"]):
        row.update(user_region=user_region, active_region=active_region, regions_key=k)


def _customer_fact(row: Row, e: Event, tags: dict[str, list[str]]) -> None:
    p = e.payload
    if isinstance(p, TagsChanged):
        if _newer(k := key(p.changed_at, e), row["tags_key"]):
            row["tags_key"] = k
            tags[p.customer_id] = sorted(set(p.tags))
    elif isinstance(p, CustomerOnboarded):
        row.update(channel=p.channel, language=p.language)
        _regions(row, p.user_region, p.active_region, key(p.registered_at, e))
    elif isinstance(p, RegionsChanged):
        _regions(row, p.user_region, p.active_region, key(p.changed_at, e))
    elif STAGE_ORDER[p.to_stage] > row["stage_rank"]:
        row.update(stage=str(p.to_stage), stage_rank=STAGE_ORDER[p.to_stage])


def _owner_fact(rows: dict[str, Row], e: Event) -> None:
    p = e.payload
    row = rows.setdefault(p.customer_id, {"customer_id": p.customer_id, "manager_id": None, "team_id": None,
                                          "assigned_manager": None, "assigned_team": None, "assigned_key": None,
                                          "left_manager": None, "left_key": None})
    if isinstance(p, CustomerAssigned):
        if _newer(k := key(p.assigned_at, e), row["assigned_key"]):
            row.update(assigned_manager=p.manager_id, assigned_team=p.team_id, assigned_key=k)
    elif _newer(k := key(p.unassigned_at, e), row["left_key"]):
        row.update(left_manager=p.manager_id, left_key=k)
    gone = (row["assigned_key"] is None or row["left_key"] is not None and row["left_key"] > row["assigned_key"]
            and row["left_manager"] == row["assigned_manager"])
    row.update(manager_id=None if gone else row["assigned_manager"], team_id=None if gone else row["assigned_team"])


def apply_segment_membership(session: Session, events: list[Event]) -> None:
    """`cp_segment_member`: who is in which saved segment, last writer wins per (segment, customer) by
    (as_of, event id)."""
    mine = [e for e in events if isinstance(e.payload, SegmentMembershipChanged)]
    if not mine:
        return
    keys = sorted({(e.payload.segment_id, e.payload.customer_id) for e in mine})
    rows: dict[tuple[str, str], Row] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        rows.update(((r["segment_id"], r["customer_id"]), dict(r)) for r in session.execute(
            select(segment_member).where(tuple_(segment_member.c.segment_id, segment_member.c.customer_id)
                                         .in_(chunk))).mappings())
    touched: set[tuple[str, str]] = set()
    for e in mine:
        p = e.payload
        k, at = (p.segment_id, p.customer_id), key(p.as_of, e)
        if k not in rows or _newer(at, rows[k]["key"]):
            rows[k] = {"segment_id": p.segment_id, "customer_id": p.customer_id, "member": p.member, "key": at}
            touched.add(k)
    upsert(session, segment_member, [rows[k] for k in sorted(touched)], ["segment_id", "customer_id"])


def apply_audience_facts(session: Session, events: list[Event]) -> None:
    """`SqlBatchHandler` apply: the batch's new facts."""
    apply_segment_membership(session, events)
    mine = [e for e in events if isinstance(e.payload, (*CUSTOMER_FACTS, *OWNER_FACTS, ManagerChanged))]
    customers = _load(session, customer, "customer_id",
                      (e.payload.customer_id for e in mine if isinstance(e.payload, CUSTOMER_FACTS)))
    owners = _load(session, owner, "customer_id",
                   (e.payload.customer_id for e in mine if isinstance(e.payload, OWNER_FACTS)))
    managers = _load(session, manager, "manager_id",
                     (e.payload.manager_id for e in mine if isinstance(e.payload, ManagerChanged)))
    touched_c: set[str] = set()
    touched_o: set[str] = set()
    touched_m: set[str] = set()
    tags: dict[str, list[str]] = {}  # customers whose tag set is replaced
    for e in mine:
        p = e.payload
        if isinstance(p, CUSTOMER_FACTS):
            _customer_fact(_customer_row(customers, p.customer_id), e, tags)
            touched_c.add(p.customer_id)
        elif isinstance(p, OWNER_FACTS):
            _owner_fact(owners, e)
            touched_o.add(p.customer_id)
        else:
            k = key(p.changed_at, e)
            if p.manager_id not in managers or _newer(k, managers[p.manager_id]["key"]):
                managers[p.manager_id] = {"manager_id": p.manager_id, "team_id": p.team_id, "status": str(p.status),
                                          "key": k}
            touched_m.add(p.manager_id)
    upsert(session, customer, [customers[k] for k in sorted(touched_c)], ["customer_id"])
    upsert(session, owner, [owners[k] for k in sorted(touched_o)], ["customer_id"])
    upsert(session, manager, [managers[k] for k in sorted(touched_m)], ["manager_id"])
    if tags:
        session.execute(delete(customer_tag).where(customer_tag.c.customer_id.in_(sorted(tags))))
        insert_ignore(session, customer_tag, [{"customer_id": c, "tag": t} for c in sorted(tags) for t in tags[c]],
                      ["customer_id", "tag"])
