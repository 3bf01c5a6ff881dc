"""User information: the profile panel (completion, access, social links) and the tabs, each behind its own
read permission; personal data masked without CustomerPiiRead."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shared.events.upstream_user import LoginSource
from shared.runtime import audit
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..domain.completion import completion
from ..domain.masking import mask
from ..projections import tables as t
from ..projections.profile import bank_accounts, items, latest_kyc, profile_sections
from . import paging
from .deps import CustomerIdPath, check_customer, plain, reading, unmasked
from .management import current_access_level, current_owner

router = APIRouter(prefix="/usercrm/customers/{customer_id}", tags=["user information"])
TAB_PERMS = {"general": Perm.UserTabGeneral, "personal": Perm.UserTabPersonal,
             "financial_status": Perm.UserTabFinancialStatus, "financial_experience": Perm.UserTabExperience}
ACCESS_ACTIONS = ("block", "unblock")


def _access(session: Session, customer_id: str) -> dict[str, Any]:
    """Blocked or not: the latest block / unblock the platform completed."""
    r = t.request
    row = session.execute(select(r.c.action, r.c.done_at, r.c.reason).where(
        r.c.customer_id == customer_id, r.c.action.in_(ACCESS_ACTIONS), r.c.state == "completed")
        .order_by(r.c.done_at.desc(), r.c.request_id.desc()).limit(1)).first()
    if row is None:
        return {"blocked": False, "since": None}
    return {"blocked": row.action == "block", "since": row.done_at}


def _profile(session: Session, customer_id: str) -> dict[str, Any]:
    sections = profile_sections(session, customer_id)
    kyc = latest_kyc(session, customer_id)
    done = completion(sections, len(bank_accounts(session, customer_id)), kyc.get("completion_pct") if kyc else None)
    return {"customer_id": customer_id, "completion_pct": done.pct, "missing": list(done.missing),
            "access": {**_access(session, customer_id), "level": current_access_level(session, customer_id)},
            "owner": current_owner(session, customer_id),
            "social_links": sections.get("social", {}).get("links", {})}


@router.get("/profile", summary="User management panel: profile completion (%), access status and level, owner, social links")
async def profile(request: Request, customer_id: CustomerIdPath,
                  principal: Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]) -> dict[str, Any]:
    """Visible to every caller who may see the customer (own and team scope included)."""
    await check_customer(request, principal, customer_id)
    return await reading(request, lambda s: _profile(s, customer_id))


def _tab_route(tab: str, perm: Perm) -> None:
    async def read_tab(request: Request, customer_id: CustomerIdPath,
                       principal: Principal = Depends(require(perm))) -> dict[str, Any]:
        await check_customer(request, principal, customer_id)
        data = (await reading(request, lambda s: profile_sections(s, customer_id, (tab,)))).get(tab, {})
        return {"customer_id": customer_id, "tab": tab, "data": mask(tab, data, unmasked(principal))}

    router.add_api_route(f"/info/{tab}", read_tab, methods=["GET"], name=f"info_{tab}",
                         dependencies=[Depends(audit.audited(f"usercrm.info.{tab}.read"))],
                         summary=f"The {tab.replace('_', ' ')} tab (requires {perm})")


for _tab, _perm in TAB_PERMS.items():
    _tab_route(_tab, _perm)


@router.get("/info/banking", summary="Banking information: bank accounts and payment systems, masked",
            dependencies=[Depends(audit.audited("usercrm.info.banking.read"))])
async def banking(request: Request, customer_id: CustomerIdPath,
                  principal: Annotated[Principal, Depends(require(Perm.UserTabBanking))]) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    rows = await reading(request, lambda s: bank_accounts(s, customer_id))
    clear = unmasked(principal)
    return {"customer_id": customer_id, "tab": "banking",
            "items": [mask("banking", {k: v for k, v in b.items() if k != "removed"}, clear) for b in rows]}


@router.get("/info/compliance", summary="Compliance: KYC cases and their documents (from the KYC service)",
            dependencies=[Depends(audit.audited("usercrm.info.compliance.read"))])
async def compliance(request: Request, customer_id: CustomerIdPath,
                     principal: Annotated[Principal, Depends(require(Perm.UserTabCompliance))]) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    cases = await reading(request, lambda s: items(s, customer_id, "kyc"))
    ordered = sorted(cases.values(), key=lambda c: c["updated_at"], reverse=True)
    return {"customer_id": customer_id, "tab": "compliance", "cases": ordered}


@router.get("/info/logs", summary="Login log: time, IP, country and source (web, app, API), newest first",
            dependencies=[Depends(audit.audited("usercrm.info.logs.read"))])
async def logins(request: Request, customer_id: CustomerIdPath,
                 principal: Annotated[Principal, Depends(require(Perm.UserTabLogs))],
                 source: LoginSource | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 cursor: CursorQuery = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    clear = unmasked(principal)
    return await reading(request, lambda s: login_page(s, customer_id, source, since, until, cursor, limit, clear))


def login_select(customer_id: str, source: LoginSource | None, since: datetime | None, until: datetime | None,
                 cursor: str | None, limit: int) -> Any:
    """One page of the login log, newest first (limit + 1 rows: the extra one says there is a next page)."""
    lg = t.login
    stmt = select(lg.c.login_id, lg.c.at, lg.c.ip, lg.c.country, lg.c.source, lg.c.success).where(
        lg.c.customer_id == customer_id)
    if source:
        stmt = stmt.where(lg.c.source == str(source))
    if since:
        stmt = stmt.where(lg.c.at >= since)
    if until:
        stmt = stmt.where(lg.c.at < until)
    if cursor:
        at, lid = paging.decode(cursor, (datetime, str))
        stmt = stmt.where(tuple_(lg.c.at, lg.c.login_id) < tuple_(at, lid))  # an index range
    return stmt.order_by(lg.c.at.desc(), lg.c.login_id.desc()).limit(limit + 1)


def login_page(session: Session, customer_id: str, source: LoginSource | None, since: datetime | None,
               until: datetime | None, cursor: str | None, limit: int, clear: bool) -> dict[str, Any]:
    rows = list(session.execute(login_select(customer_id, source, since, until, cursor, limit)).mappings())
    more, rows = len(rows) > limit, rows[:limit]
    return {"customer_id": customer_id, "tab": "logs",
            "items": [mask("logs", plain(r), clear) for r in rows],
            "next_cursor": paging.encode(rows[-1]["at"], rows[-1]["login_id"]) if more else None}
