"""`apply(session, events)` for the consumer of the platform's and other services' topics.

A batch is written with a fixed number of statements per table (executemany of one compiled statement).
Every row is order-independent: facts and log rows are appended by id and folded when read; accounts,
allocations and funds keep each column group's latest value by its business time; owners are last-writer-
wins by (time, event id). Replays and out-of-order delivery give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.events import Event
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.runtime.logging import get_logger

from .rows import Rows, to_utc, write

log = get_logger("usercrm.info")


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


# ------------------------------------------------------------------------------------------ handlers
def _registered(r: Rows, e: Event) -> None:
    p: up.CustomerRegistered = e.payload
    r.customer(p.customer_id, p.registered_at)
    data = {"name": p.name, "email": p.email, "phone_dialing_code": p.phone_dialing_code,
            "phone_number": p.phone_number, "country": p.residence_country, "language": p.language}
    r.fact(e, "general", p.registered_at, {k: v for k, v in data.items() if v is not None})


def _profile_updated(r: Rows, e: Event) -> None:
    p: up.ProfileUpdated = e.payload
    data = {"name": p.name, "email": p.email, "phone_dialing_code": p.phone_dialing_code,
            "phone_number": p.phone_number, "country": p.residence_country, "language": p.language}
    r.fact(e, "general", p.updated_at, {k: v for k, v in data.items() if v is not None})


def _identity(r: Rows, e: Event) -> None:
    p: up.IdentityVerified = e.payload
    data: dict[str, Any] = {"date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None}
    if p.id_number:
        data["id_numbers"] = [{"kind": str(p.id_type), "number": p.id_number,
                               "issuing_country": p.id_issuing_country}]
    r.fact(e, "personal", p.verified_at, {k: v for k, v in data.items() if v is not None})


def _section(section: str, attr: str, at_attr: str = "updated_at") -> Callable[[Rows, Event], None]:
    def handle(r: Rows, e: Event) -> None:
        r.fact(e, section, getattr(e.payload, at_attr), _dump(getattr(e.payload, attr)))
    return handle


def _bank_saved(r: Rows, e: Event) -> None:
    p: uu.BankAccountSaved = e.payload
    r.fact(e, "banking", p.saved_at, {**_dump(p.bank_account), "removed": False}, p.bank_account.bank_account_id)


def _bank_removed(r: Rows, e: Event) -> None:
    p: uu.BankAccountRemoved = e.payload
    r.fact(e, "banking", p.removed_at, {"bank_account_id": p.bank_account_id, "removed": True}, p.bank_account_id)


def _kyc(r: Rows, e: Event) -> None:
    p = e.payload
    data: dict[str, Any] = {"case_id": p.case_id, "application_id": p.application_id}
    if isinstance(p, KycCaseStateChanged):
        data.update(state=str(p.to_state), completion_pct=p.completion_pct)
        at = p.changed_at
    else:
        data.update(state=p.decision, completion_pct=p.completion_pct, reasons=list(p.reasons),
                    documents=[_dump(d) for d in p.documents])
        at = p.decided_at
    r.fact(e, "kyc", at, {k: v for k, v in data.items() if v is not None}, p.case_id)


def _login(r: Rows, e: Event) -> None:
    p: uu.LoginRecorded = e.payload
    r.customer(p.customer_id)
    r.logins.append({"login_id": p.login_id, "customer_id": p.customer_id, "at": p.at, "ip": p.ip,
                     "country": p.country, "source": str(p.source), "success": p.success})


def _account_opened(r: Rows, e: Event) -> None:
    p: up.AccountOpened = e.payload
    r.account(p.customer_id, p.account_id)
    r.account_updates["opened"].append({"k": p.account_id, "account_type": str(p.account_type),
                                        "opened_at": p.opened_at})


def _account_closed(r: Rows, e: Event) -> None:
    p: up.AccountClosed = e.payload
    r.account(p.customer_id, p.account_id)
    r.account_updates["closed"].append({"k": p.account_id, "closed_at": p.closed_at})


def _snapshot(r: Rows, e: Event) -> None:
    p: up.AssetSnapshotTaken = e.payload
    r.account(p.customer_id, p.account_id)
    r.account_updates["balance"].append({"k": p.account_id, "balance": p.total_assets, "cash": p.cash,
                                         "currency": p.currency, "as_of": p.as_of})


def _deposit(r: Rows, e: Event) -> None:
    p: up.DepositCompleted = e.payload
    r.entry(p, "deposit", p.transaction_id, p.completed_at, p.amount, p.currency, description=p.method)
    r.account_updates["currency"].append({"k": p.account_id, "currency": p.currency})


def _withdrawal(r: Rows, e: Event) -> None:
    p: up.WithdrawalCompleted = e.payload
    r.entry(p, "withdrawal", p.transaction_id, p.completed_at, -p.amount, p.currency, description=p.method)
    r.account_updates["currency"].append({"k": p.account_id, "currency": p.currency})


def _trade(r: Rows, e: Event) -> None:
    p: up.TradeExecuted = e.payload
    gross = p.quantity * p.price
    r.entry(p, "trade", p.trade_id, p.executed_at, -gross if p.side == up.Side.buy else gross, p.currency,
            symbol=p.symbol, side=str(p.side), quantity=p.quantity, price=p.price, description=p.market)


def _charge(r: Rows, e: Event) -> None:
    p: uu.ChargeApplied = e.payload
    r.entry(p, "charge", p.charge_id, p.charged_at, -p.amount, p.currency, description=p.kind)


def _allocation_started(r: Rows, e: Event) -> None:
    p: uu.AllocationStarted = e.payload
    r.allocation(p.customer_id, p.allocation_id)
    r.allocation_updates["started"].append({
        "k": p.allocation_id, "account_id": p.account_id, "fund_id": p.fund_id, "fund_name": p.fund_name,
        "initial_amount": p.amount, "currency": p.currency, "started_at": p.started_at})
    r.entry(p, "allocation", p.allocation_id, p.started_at, -p.amount, p.currency,
            description=f"start copy {p.fund_name}"[:200])


def _allocation_deposited(r: Rows, e: Event) -> None:
    p: uu.AllocationDeposited = e.payload
    r.allocation(p.customer_id, p.allocation_id)
    r.allocation_deposits.append({"transaction_id": p.transaction_id, "allocation_id": p.allocation_id,
                                  "amount": p.amount, "at": p.deposited_at})
    r.entry(p, "allocation", p.transaction_id, p.deposited_at, -p.amount, p.currency,
            description="allocation deposit")


def _allocation_valued(r: Rows, e: Event) -> None:
    p: uu.AllocationValued = e.payload
    r.allocation(p.customer_id, p.allocation_id)
    r.allocation_updates["valued"].append({"k": p.allocation_id, "value": p.value,
                                           "performance_pct": p.performance_pct, "as_of": p.as_of})


def _allocation_stopped(r: Rows, e: Event) -> None:
    p: uu.AllocationStopped = e.payload
    r.allocation(p.customer_id, p.allocation_id)
    r.allocation_updates["stopped"].append({"k": p.allocation_id, "stopped_at": p.stopped_at})
    r.allocation_updates["valued"].append({"k": p.allocation_id, "value": p.final_value,
                                           "performance_pct": p.performance_pct, "as_of": p.stopped_at})
    r.entry(p, "allocation", f"{p.allocation_id}:stop", p.stopped_at, p.final_value, p.currency,
            description="allocation stopped")


def _fund(r: Rows, e: Event) -> None:
    p: uu.FundUpdated = e.payload
    r.funds.append({"fund_id": p.fund_id, "name": p.name, "strategy": p.strategy, "manager_name": p.manager_name,
                    "currency": p.currency, "performance_pct": p.performance_pct, "aum": p.aum, "as_of": p.as_of})


def _assigned(r: Rows, e: Event) -> None:
    p: CustomerAssigned = e.payload
    _owner(r, p.customer_id, p.manager_id, p.team_id, True, p.assigned_at, e)
    if p.previous_manager_id and p.previous_manager_id != p.manager_id:
        _owner(r, p.customer_id, p.previous_manager_id, None, False, p.assigned_at, e)


def _unassigned(r: Rows, e: Event) -> None:
    p: CustomerUnassigned = e.payload
    _owner(r, p.customer_id, p.manager_id, p.team_id, False, p.unassigned_at, e)


def _owner(r: Rows, customer_id: str, manager_id: str, team_id: str | None, active: bool, at: datetime,
           e: Event) -> None:
    row = {"customer_id": customer_id, "manager_id": manager_id, "team_id": team_id, "active": active,
           "changed_at": at, "event_id": str(e.event_id)}
    cur = r.owners.get((customer_id, manager_id))
    if cur is None or (at, row["event_id"]) > (cur["changed_at"], cur["event_id"]):
        r.owners[(customer_id, manager_id)] = row


def _manager(r: Rows, e: Event) -> None:
    p: ManagerChanged = e.payload
    row = {"manager_id": p.manager_id, "team_id": p.team_id, "status": str(p.status), "changed_at": p.changed_at,
           "event_id": str(e.event_id)}
    cur = r.managers.get(p.manager_id)
    if cur is None or (row["changed_at"], row["event_id"]) > (cur["changed_at"], cur["event_id"]):
        r.managers[p.manager_id] = row


HANDLERS: dict[type, Callable[[Rows, Event], None]] = {
    up.CustomerRegistered: _registered,
    up.ProfileUpdated: _profile_updated,
    up.IdentityVerified: _identity,
    uu.GeneralUpdated: _section("general", "general"),
    uu.PersonalUpdated: _section("personal", "personal"),
    uu.FinancialStatusUpdated: _section("financial_status", "financial_status"),
    uu.FinancialExperienceUpdated: _section("financial_experience", "experience"),
    uu.SocialLinksUpdated: _section("social", "social"),
    uu.BankAccountSaved: _bank_saved,
    uu.BankAccountRemoved: _bank_removed,
    KycCaseStateChanged: _kyc,
    KycCaseDecided: _kyc,
    uu.LoginRecorded: _login,
    up.AccountOpened: _account_opened,
    up.AccountClosed: _account_closed,
    up.AssetSnapshotTaken: _snapshot,
    up.DepositCompleted: _deposit,
    up.WithdrawalCompleted: _withdrawal,
    up.TradeExecuted: _trade,
    uu.ChargeApplied: _charge,
    uu.AllocationStarted: _allocation_started,
    uu.AllocationDeposited: _allocation_deposited,
    uu.AllocationValued: _allocation_valued,
    uu.AllocationStopped: _allocation_stopped,
    uu.FundUpdated: _fund,
    CustomerAssigned: _assigned,
    CustomerUnassigned: _unassigned,
    ManagerChanged: _manager,
}


def apply_info(session: Session, events: list[Event]) -> None:
    rows = Rows()
    for e in events:
        handler = HANDLERS.get(type(e.payload))
        if handler is not None:  # other event types on these topics carry nothing for the User CRM
            handler(rows, e)
    to_utc(rows)
    write(session, rows)
    log.debug("usercrm_info_applied", events=len(events))


