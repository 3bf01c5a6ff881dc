"""`GET /customers/{id}/360`: everything the console's customer drawer shows, in one call — the detail (profile
masked per permission, assets with ADA, trades, referrals, managers) and the service history this service
folds from the other services' events (`projections/activity.py`): follow-up records, tickets, KYC status
and completion, messages and other requests on the user's behalf, campaign touches, and one merged set of
remarks and tags (written on the customer here or on follow-ups in the tasks service)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select

from shared.runtime.auth import Perm, Principal, require

from ..projections.activity import current
from .calendar import upcoming_360, upcoming_params, upcoming_statements
from .deps import CustomerIdPath, blocking, built_once, container, not_found
from .detail import jsonable
from .routes_read import MERGED_RESPONSE, detail_with

router = APIRouter(prefix="/customers", tags=["customers"])
RECENT = 50  # follow-ups, tickets, requests and touches shown (the counts are of all)


class Section(BaseModel):
    count: int = Field(description="How many there are in all.")
    items: list[dict[str, Any]] = Field(description=f"The {RECENT} most recent, newest first.")


class Kyc(BaseModel):
    status: str | None = Field(description="State of the latest case (its last change), None without a case.")
    completion_pct: int | None = Field(description="KYC completion of the latest case (latest known value).")
    high_risk: bool = False
    case_id: str | None = None
    updated_at: str | None = None
    cases: list[dict[str, Any]] = Field(description="Every case, newest first.")


class Remark(BaseModel):
    text: str
    author: str
    at: str = Field(description="When it was first written.")
    sources: list[str] = Field(description="customer (a remark on the customer) and/or follow_up (on a follow-up).")


class TagEntry(BaseModel):
    tag: str
    sources: list[str] = Field(description="customer (the customer's current tags) and/or follow_up.")


class Wealth(BaseModel):
    holdings: list[dict[str, Any]] = Field(description="What each account holds (latest positions snapshot).")
    upcoming: list[dict[str, Any]] = Field(description="Upcoming wealth calendar events, by day.")


class Customer360(BaseModel):
    customer_id: str
    profile: dict[str, Any] = Field(description="The current detail, as `GET /customers/{id}` answers it.")
    follow_ups: Section
    tickets: Section
    kyc: Kyc
    messages: Section = Field(description="send_message requests with their current state.")
    requests: Section = Field(description="Other requests on the user's behalf with their current state.")
    campaign_touches: Section
    remarks: list[Remark] = Field(description="One set, newest first: the same text by the same author once.")
    tags: list[TagEntry]
    wealth: Wealth = Field(description="Holdings and the wealth calendar's next 30 days (`/customers/{id}/calendar`).")


def _newest(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A `Section`."""
    items = sorted(items, key=lambda r: (r[key], r.get("event_id") or r.get("id") or ""), reverse=True)
    return {"count": len(items), "items": jsonable([{k: v for k, v in r.items() if k != "event_id"}
                                                    for r in items[:RECENT]])}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def merged_remarks(customer: list[dict[str, Any]], follow_ups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (author, text with spaces and case normalised), the earliest time, every source."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    written = [(r["author"], r["text"], r["created_at"], "customer") for r in customer]
    written += [(f["manager_id"], f["remarks"], f["recorded_at"], "follow_up") for f in follow_ups if f["remarks"]]
    for author, text, at, source in sorted(written, key=lambda w: (jsonable(w[2]), w[3])):
        cur = out.setdefault((author, _norm(text)), {"text": text, "author": author, "at": jsonable(at),
                                                     "sources": []})
        if source not in cur["sources"]:
            cur["sources"].append(source)
    return sorted(out.values(), key=lambda r: r["at"], reverse=True)


def merged_tags(customer: list[str], follow_ups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tag, source in [(t, "customer") for t in customer] + [(t, "follow_up") for f in follow_ups for t in f["tags"]]:
        cur = out.setdefault(_norm(tag), {"tag": tag, "sources": []})
        if source not in cur["sources"]:
            cur["sources"].append(source)
    return [out[k] for k in sorted(out)]


def history_statements(t: Any) -> dict[str, Any]:
    """The service history's rows (bound to `:customer_id`), each campaign touch with its campaign's name."""
    a, rm, cid = t.activity, t.remark, bindparam("customer_id")
    touch, name = a.campaign_touch, a.campaign_name

    def rows(table: Any) -> Any:
        return select(table).where(table.c.customer_id == cid)

    return {"follow_ups": rows(a.follow_up), "tickets": rows(a.ticket_event), "kyc": rows(a.kyc_event),
            "requests": rows(a.request_event), "remarks": rows(rm),
            "touches": select(touch, name.c.name.label("campaign_name"))
            .select_from(touch.outerjoin(name, name.c.campaign_id == touch.c.campaign_id))
            .where(touch.c.customer_id == cid)}


def _kyc(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """A `Kyc`."""
    cases = sorted(current(changes, "case_id").values(), key=lambda r: (jsonable(r["last_at"]), r["case_id"]),
                   reverse=True)
    latest = cases[0] if cases else {}
    return {"status": latest.get("state"), "completion_pct": latest.get("completion_pct"),
            "high_risk": bool(latest.get("high_risk")), "case_id": latest.get("case_id"),
            "updated_at": jsonable(latest.get("last_at")), "cases": jsonable(cases)}


def load_360(c: Any, principal: Principal, customer_id: str) -> dict[str, Any] | None:
    """A `Customer360`, built as plain JSON values (the route returns it without a second validation pass)."""
    stmts = {**built_once(c.tables, "360", history_statements), **built_once(c.tables, "360 wealth",
                                                                              upcoming_statements)}
    profile, h = detail_with(c, principal, customer_id, None, "360", stmts,  # scope, masking, ADA; one round trip
                             upcoming_params(c))
    if profile is None:
        return None
    requests = list(current(h["requests"], "request_id").values())
    follow_ups = [{**f, "id": f["follow_up_id"]} for f in h["follow_ups"]]
    return {
        "customer_id": customer_id, "profile": profile,
        "follow_ups": _newest(follow_ups, "recorded_at"),
        "tickets": _newest(list(current(h["tickets"], "ticket_id").values()), "last_at"),
        "kyc": _kyc(h["kyc"]),
        "messages": _newest([r for r in requests if r["action"] == "send_message"], "last_at"),
        "requests": _newest([r for r in requests if r["action"] != "send_message"], "last_at"),
        "campaign_touches": _newest(h["touches"], "requested_at"),
        "remarks": merged_remarks(h["remarks"], h["follow_ups"]),
        "tags": merged_tags(profile["basic"]["tags"], h["follow_ups"]),
        "wealth": upcoming_360(h),
    }


@router.get("/{customer_id}/360", summary="Everything the customer drawer shows, in one call",
            response_model=Customer360, responses=MERGED_RESPONSE)
async def customer_360(
    customer_id: CustomerIdPath,
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> Any:
    out = await blocking(load_360, c, principal, customer_id)
    if out is None:
        raise not_found(customer_id)
    return JSONResponse(out)  # already JSON values: `response_model` documents it, no second validation
