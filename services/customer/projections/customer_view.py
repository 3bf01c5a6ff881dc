"""The read-model fold: new Customer events → the customer list rows, funding, tags, remarks, notes, counts.

Run by the event store in the transaction that stores the events (`app.read_model`, `shared.runtime.sametx`),
given the new domain events in memory; `rebuild` runs it over the whole store. Each fact event (`FACT_EVENTS`)
carries the derived row after it, so a batch keeps the last row per customer and bulk-upserts them (in
customer id order: concurrent writers lock rows in one order); remarks and notes are inserted with "do
nothing" on conflict, so re-running a batch (or a rebuild) writes the same rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.runtime.logging import get_logger

from ..domain.customer import FACT_EVENTS
from ..domain.matching import DEV_MATCH_KEY, MatchKeyer
from ..domain.state import parse_time
from ..domain.wealth import WealthReminder
from .asset_series import SNAPSHOT, account_day_of, apply_snapshots
from .imports import apply_import_events
from .segments import SEGMENTS_FACT, apply_membership, apply_segment_events
from .tables import Tables, copy_insert, id_in, insert_for, upsert

log = get_logger("customer.projection")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _t(value: Any) -> datetime | None:
    return parse_time(value) if value is not None else None


def customer_row(v: dict[str, Any]) -> dict[str, Any]:
    """Stored row (JSON-native: ISO times, decimal strings) → `customer` table row."""
    phone_search = None
    if v["phone_dialing_code"] and v["phone_number"]:
        phone_search = v["phone_dialing_code"].lstrip("+") + v["phone_number"]
    registered_at = _t(v["registered_at"])
    first_seen = _t(v["first_seen_at"]) or registered_at or EPOCH
    total = Decimal(v["total_assets"]) if v["total_assets"] is not None else None
    return {
        "customer_id": v["customer_id"],
        "registered": v["registered"],
        "registered_at": registered_at,
        "sort_registered_at": registered_at or first_seen,
        "channel": v["channel"], "campaign": v["campaign"], "referral_code": v["referral_code"],
        "institution_id": v.get("institution_id"),
        "referrer_customer_id": v["referrer_customer_id"], "language": v["language"],
        "name": v["name"], "phone_dialing_code": v["phone_dialing_code"], "phone_number": v["phone_number"],
        "email": v["email"],
        "search_name": v["name"].lower() if v["name"] else None,
        "search_email": v["email"].lower() if v["email"] else None,
        "search_phone": phone_search,
        "residence_country": v["residence_country"], "registration_ip_country": v["registration_ip_country"],
        "id_issuing_country": v["id_issuing_country"], "user_region": v["user_region"],
        "active_region": v["active_region"],
        "stage": v["stage"] or "registered", "stage_rank": max(v["stage_rank"], 0),
        "stage_changed_at": _t(v["stage_changed_at"]),
        "stage_entered_at": dict(v["stage_entered_at"]),
        "account_status": v["account_status"], "verification_status": v["verification_status"],
        "deposits": dict(v["deposits"]), "withdrawals": dict(v["withdrawals"]),
        "first_deposit_at": _t(v["first_deposit_at"]), "first_trade_at": _t(v["first_trade_at"]),
        "trades_count": v["trades_count"],
        "total_assets": total, "assets_sort": total or Decimal(0),
        "assets_currency": v["assets_currency"], "assets_as_of": _t(v["assets_as_of"]),
        "tags": list(v["tags"]),
        "last_activity_at": _t(v["last_activity_at"]) or first_seen,
        # rows stored before the view carried it have no key: their customers show no age until their next fact
        "date_of_birth": date.fromisoformat(v["date_of_birth"]) if v.get("date_of_birth") else None,
        "merged_into": v.get("merged_into"),
        "risk_rating": v.get("risk_rating"),
    }


def match_key_rows(v: dict[str, Any], keyer: MatchKeyer) -> list[dict[str, Any]]:
    """The index rows of a customer: none once it is merged (a merged record is never a match candidate)."""
    if v.get("merged_into"):
        return []
    return [{"customer_id": v["customer_id"], "kind": k, "digest": d}
            for k, d in keyer.hashes(v.get("match") or {}).items()]


def review_rows(v: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"customer_id": v["customer_id"], "candidate_id": x["candidate_id"], "reason": x["reason"],
             "status": x["status"], "suggested_at": _t(x["suggested_at"]), "decided_at": _t(x["decided_at"]),
             "decided_by": x["by"], "comment": x["comment"]} for x in v.get("suspects") or []]


def funding_rows(v: dict[str, Any]) -> list[dict[str, Any]]:
    currencies = sorted(set(v["deposits"]) | set(v["withdrawals"]))
    return [{"customer_id": v["customer_id"], "currency": c, "deposits": Decimal(v["deposits"].get(c, "0")),
             "withdrawals": Decimal(v["withdrawals"].get(c, "0"))} for c in currencies]


def apply_reminder_events(session: Session, t: Tables, events: list[Any]) -> None:
    """The wealth reminders sent (`domain/wealth.py`): one row per (customer, event key), inserted once."""
    rows = [{"customer_id": e.customer_id, "event_key": e.event_key, "event_date": date.fromisoformat(e.event_date),
             "due_at": e.due_at} for e in events if isinstance(e, WealthReminder.Due)]
    if rows:
        session.execute(insert_for(session, t.wealth.reminder).on_conflict_do_nothing(), rows)


def make_apply(t: Tables, tz: ZoneInfo | None = None, keyer: MatchKeyer | None = None):  # type: ignore[no-untyped-def]
    """`tz`: the brokerage's time zone, the local day of the daily asset series (UTC when not given);
    `keyer`: the match index's keyed hash (`CUSTOMER_MATCH_KEY`)."""
    zone = tz or ZoneInfo("UTC")
    keys = keyer or MatchKeyer(DEV_MATCH_KEY)

    def apply(session: Session, events: list[Any]) -> None:
        views: dict[str, dict[str, Any]] = {}
        remarks, notes, snapshots = [], [], []
        for e in events:
            if not isinstance(e, FACT_EVENTS):
                continue
            views[e.row["customer_id"]] = e.row
            fact = e.fact
            if fact["type"] == "crm.remark_added":
                d = fact["data"]
                remarks.append({"remark_id": fact["id"], "customer_id": e.row["customer_id"], "author": d["by"],
                                "text": d["text"], "batch_id": d.get("batch_id"), "created_at": fact["at"]})
            elif fact["type"] == SNAPSHOT:
                snapshots.append(account_day_of(e.row["customer_id"], fact, zone))
            elif fact["type"] == "crm.note_added":
                d = fact["data"]
                notes.append({"note_id": fact["id"], "customer_id": e.row["customer_id"],
                              "author": d["by"], "text": d["text"], "created_at": fact["at"]})
        apply_segment_events(session, t, events)
        apply_membership(session, t, [e for e in events if isinstance(e, FACT_EVENTS)
                                      and e.fact["type"] == SEGMENTS_FACT])
        apply_reminder_events(session, t, events)
        if views:
            _apply_views(session, t, keys, views, remarks, notes, snapshots)
        # Last: the rows every writer's transaction adds to (the stage counts, an import job's totals, which the
        # import lanes of other processes update too) stay locked from here to the commit only, taken in one
        # order (stage counts, then jobs).
        apply_import_events(session, t, events)

    return apply


def _apply_views(session: Session, t: Tables, keys: MatchKeyer, views: dict[str, dict[str, Any]],
                 remarks: list[dict[str, Any]], notes: list[dict[str, Any]], snapshots: list[Any]) -> None:
    ids = sorted(views)
    rows = [customer_row(views[cid]) for cid in ids]
    counts = _stage_changes(session, t, ids, {r["customer_id"]: None if r["merged_into"] else r["stage"]
                                              for r in rows})
    upsert(session, t.customer, rows, ["customer_id"])
    _replace(session, t.funding, ids, [f for cid in ids for f in funding_rows(views[cid])])
    _replace(session, t.tag, ids, [{"customer_id": cid, "tag": g} for cid in ids for g in views[cid]["tags"]])
    _replace(session, t.match_key, ids, [k for cid in ids for k in match_key_rows(views[cid], keys)])
    _replace(session, t.match_review, ids, [r for cid in ids for r in review_rows(views[cid])])
    if remarks:
        session.execute(insert_for(session, t.remark).on_conflict_do_nothing(), remarks)
    if notes:
        session.execute(insert_for(session, t.note).on_conflict_do_nothing(), notes)
    apply_snapshots(session, t, snapshots)  # after the rows: it sets their ADA columns
    _add_counts(session, t, counts)


def _replace(session: Session, table: Any, ids: list[str], rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(ids), 5000):
        session.execute(delete(table).where(id_in(session, table.c.customer_id, ids[i:i + 5000])))
    copy_insert(session, table, rows)


def _stage_changes(session: Session, t: Tables, ids: list[str], new: dict[str, str | None]) -> list[dict[str, Any]]:
    """How the counts per stage of the customers not merged change (a merged customer counts once: as its
    survivor), from the rows before the batch's upsert."""
    old: dict[str, str | None] = {}
    c = t.customer.c
    for i in range(0, len(ids), 5000):
        chunk = ids[i:i + 5000]
        old.update((cid, None if merged else stage) for cid, stage, merged in session.execute(
            select(c.customer_id, c.stage, c.merged_into).where(id_in(session, c.customer_id, chunk))).tuples())
    delta: dict[str, int] = {}
    for cid, stage in new.items():
        prev = old.get(cid)
        if prev == stage:
            continue
        if stage is not None:
            delta[stage] = delta.get(stage, 0) + 1
        if prev is not None:
            delta[prev] = delta.get(prev, 0) - 1
    return [{"stage": s, "n": n} for s, n in sorted(delta.items()) if n]


def _add_counts(session: Session, t: Tables, changes: list[dict[str, Any]]) -> None:
    if changes:
        stmt = insert_for(session, t.stage_count)
        stmt = stmt.on_conflict_do_update(index_elements=["stage"], set_={"n": t.stage_count.c.n + stmt.excluded.n})
        session.execute(stmt, changes)
        # A stage emptied to zero leaves no row, so a replay in other batch sizes gives the same table.
        session.execute(delete(t.stage_count).where(t.stage_count.c.n == 0))
