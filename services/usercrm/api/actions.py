"""Actions on the user: each route stores a request that is sent to the platform (after approval when the
maker-checker rule applies) and answers 202 with the request and its state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from shared.events.crm_usercrm import (
    InfoChange,
    MessageRequest,
    MoneyRequest,
    NewAccountRequest,
    RequestAction,
    StopAllocationRequest,
    UserRequest,
)
from shared.events.registry import unknown_fields
from shared.events.upstream_user import SocialLinks
from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.logging import get_logger

from ..domain.errors import UnknownRequest
from ..domain.templates import TemplateError, render
from ..projections import tables as t
from ..projections.profile import profile_sections
from .deps import (
    PROBLEM_BASE,
    CustomerIdPath,
    EntityIdPath,
    blocking,
    check_customer,
    container,
    correlation_id,
    invalid,
    not_found,
    reading,
)
from .models import AccountIn, AllocationIn, MessageIn, MoneyIn, ReasonIn, RequestView, SocialLinksIn
from .views import request_view

log = get_logger("usercrm.api")
router = APIRouter(prefix="/usercrm/customers/{customer_id}", tags=["actions"])
IDEMPOTENCY = uuid.UUID("8d0b8f5c-3a57-4f57-9a0e-5f8e0b6c2d11")
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                                description="Retrying with the same key returns the same request.")]
Messenger = Annotated[Principal, Depends(require(Perm.UserMessageSend))]
AccessManager = Annotated[Principal, Depends(require(Perm.UserAccessManage))]
Editor = Annotated[Principal, Depends(require(Perm.UserInfoEdit))]
MoneyMaker = Annotated[Principal, Depends(require(Perm.UserMoneyRequest))]
ACCEPTED = {"status_code": 202, "response_model": RequestView}


async def submit(request: Request, principal: Principal, customer_id: str, action: RequestAction,
                 key: str | None, **params: Any) -> dict[str, Any]:
    for value in params.values():  # contracts keep unknown fields, but a request carrying one cannot be sent
        unknown = unknown_fields(value, "body") if isinstance(value, BaseModel) else []
        if unknown:
            raise invalid(unknown[0], "not a field of this request")
    await check_customer(request, principal, customer_id)
    c = container(request)
    request_id = uuid.uuid5(IDEMPOTENCY, f"{principal.user_id}:{key}") if key else uuid.uuid4()
    try:
        contract = UserRequest(request_id=str(request_id), customer_id=customer_id, action=action,
                               requested_by=principal.user_id, requested_role=",".join(principal.roles) or None,
                               requested_at=datetime.now(UTC), **params)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise invalid(".".join(str(p) for p in err["loc"]) or "body", err["msg"]) from None
    if key:
        try:
            existing = await blocking(c.app.get_request, str(request_id))
        except UnknownRequest:
            existing = None
        if existing is not None:
            if existing.customer_id != customer_id or existing.action != action:
                raise Problem(422, "Unprocessable Entity", "idempotency-key: already used with a different request",
                              type_=f"{PROBLEM_BASE}idempotency_key_reused")
            return request_view(existing)
    agg = await blocking(c.app.request, contract, correlation_id=correlation_id(request))
    log.info("usercrm_request_created", request_id=agg.request_id, customer_id=customer_id, action=str(action),
             state=str(agg.state), needs_approval=agg.needs_approval)
    return request_view(agg)


@router.post("/messages", **ACCEPTED, summary="Send a message (in-app, e-mail, SMS) from a template")
async def send_message(request: Request, customer_id: CustomerIdPath, body: MessageIn, principal: Messenger,
                       idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    c = container(request)
    sections = await reading(request, lambda s: profile_sections(s, customer_id, ("general",)))
    variables = {**body.variables, "brand": c.settings.brand,
                 "name": sections.get("general", {}).get("name") or body.variables.get("name") or ""}
    try:
        subject, text = render(c.settings.message_templates, body.template_id, variables)
    except TemplateError as exc:
        raise invalid(f"body.{exc.field}", exc.message) from None
    message = MessageRequest(channel=body.channel, template_id=body.template_id, subject=subject, body=text)
    return await submit(request, principal, customer_id, RequestAction.send_message, idempotency_key, message=message)


@router.post("/block", **ACCEPTED, summary="Block the user's platform access (reason mandatory)")
async def block(request: Request, customer_id: CustomerIdPath, body: ReasonIn, principal: AccessManager,
                idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await submit(request, principal, customer_id, RequestAction.block, idempotency_key, reason=body.reason)


@router.post("/unblock", **ACCEPTED, summary="Unblock the user's platform access (reason mandatory)")
async def unblock(request: Request, customer_id: CustomerIdPath, body: ReasonIn, principal: AccessManager,
                  idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await submit(request, principal, customer_id, RequestAction.unblock, idempotency_key, reason=body.reason)


@router.post("/password-reset", **ACCEPTED, summary="Have the platform e-mail a password-reset link")
async def reset_password(request: Request, customer_id: CustomerIdPath, principal: AccessManager,
                         idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await submit(request, principal, customer_id, RequestAction.reset_password, idempotency_key)


@router.post("/change-requests", **ACCEPTED, summary="Change one section of the user's information on their behalf")
async def change_info(request: Request, customer_id: CustomerIdPath, body: InfoChange, principal: Editor,
                      idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await submit(request, principal, customer_id, RequestAction.change_info, idempotency_key, change=body)


@router.put("/social-links", **ACCEPTED, summary="Edit the user's social media links (a change request)")
async def edit_social_links(request: Request, customer_id: CustomerIdPath, body: SocialLinksIn, principal: Editor,
                            idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    change = InfoChange(social=SocialLinks(links=dict(body.links)))
    return await submit(request, principal, customer_id, RequestAction.change_info, idempotency_key, change=change)


@router.post("/accounts", **ACCEPTED, summary="Open an account on the user's behalf")
async def add_account(request: Request, customer_id: CustomerIdPath, body: AccountIn, principal: MoneyMaker,
                      idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    new = NewAccountRequest(account_type=body.account_type, currency=body.currency)
    return await submit(request, principal, customer_id, RequestAction.add_account, idempotency_key, new_account=new)


async def _account(request: Request, customer_id: str, account_id: str) -> dict[str, Any]:
    a = t.account
    row = await reading(request, lambda s: s.execute(select(a).where(
        a.c.account_id == account_id, a.c.customer_id == customer_id)).mappings().first())
    if row is None:
        raise not_found("account", account_id)
    if row["closed_at"] is not None:
        raise Problem(409, "Conflict", f"account {account_id!r} is closed", type_=f"{PROBLEM_BASE}account_closed")
    return dict(row)


async def _allocation(request: Request, customer_id: str, allocation_id: str) -> dict[str, Any]:
    a = t.allocation
    row = await reading(request, lambda s: s.execute(select(a).where(
        a.c.allocation_id == allocation_id, a.c.customer_id == customer_id)).mappings().first())
    if row is None or row["account_id"] is None:
        raise not_found("allocation", allocation_id)
    if row["stopped_at"] is not None:
        raise Problem(409, "Conflict", f"allocation {allocation_id!r} is not active",
                      type_=f"{PROBLEM_BASE}allocation_inactive")
    return dict(row)


async def _money(request: Request, principal: Principal, customer_id: str, account_id: str, body: MoneyIn,
                 action: RequestAction, key: str | None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    await _account(request, customer_id, account_id)
    money = MoneyRequest(account_id=account_id, amount=body.amount, currency=body.currency)
    return await submit(request, principal, customer_id, action, key, money=money)


@router.post("/accounts/{account_id}/deposits", **ACCEPTED,
             summary="Deposit to an account (above the threshold: needs a second person's approval)")
async def deposit(request: Request, customer_id: CustomerIdPath, account_id: EntityIdPath, body: MoneyIn,
                  principal: MoneyMaker, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await _money(request, principal, customer_id, account_id, body, RequestAction.deposit, idempotency_key)


@router.post("/accounts/{account_id}/withdrawals", **ACCEPTED,
             summary="Withdraw from an account (above the threshold: needs a second person's approval)")
async def withdraw(request: Request, customer_id: CustomerIdPath, account_id: EntityIdPath, body: MoneyIn,
                   principal: MoneyMaker, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return await _money(request, principal, customer_id, account_id, body, RequestAction.withdraw, idempotency_key)


@router.post("/allocations", **ACCEPTED, summary="Start a copy allocation on the user's behalf")
async def start_allocation(request: Request, customer_id: CustomerIdPath, body: AllocationIn, principal: MoneyMaker,
                           idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    await _account(request, customer_id, body.account_id)
    money = MoneyRequest(account_id=body.account_id, amount=body.amount, currency=body.currency, fund_id=body.fund_id)
    return await submit(request, principal, customer_id, RequestAction.start_allocation, idempotency_key, money=money)


@router.post("/allocations/{allocation_id}/stop", **ACCEPTED,
             summary="Stop an allocation (the platform closes its open trades at the market price)")
async def stop_allocation(request: Request, customer_id: CustomerIdPath, allocation_id: EntityIdPath,
                          principal: MoneyMaker, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    row = await _allocation(request, customer_id, allocation_id)
    stop = StopAllocationRequest(account_id=row["account_id"], allocation_id=allocation_id)
    return await submit(request, principal, customer_id, RequestAction.stop_allocation, idempotency_key,
                        stop_allocation=stop)


@router.post("/allocations/{allocation_id}/deposits", **ACCEPTED, summary="Add a deposit to an active allocation")
async def allocation_deposit(request: Request, customer_id: CustomerIdPath, allocation_id: EntityIdPath,
                             body: MoneyIn, principal: MoneyMaker,
                             idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    row = await _allocation(request, customer_id, allocation_id)
    money = MoneyRequest(account_id=row["account_id"], amount=body.amount, currency=body.currency,
                         allocation_id=allocation_id)
    return await submit(request, principal, customer_id, RequestAction.allocation_deposit, idempotency_key,
                        money=money)
