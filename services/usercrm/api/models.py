"""Request and response bodies of the User CRM API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events.crm_usercrm import AccessLevel, MessageChannel
from shared.events.types import Currency, EntityId, PositiveMoney
from shared.events.upstream import AccountType

Url = Annotated[str, StringConstraints(pattern=r"^https://[^\s]{3,300}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200),
                   Field(description="Why (mandatory; audited).")]
Network = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,30}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(Body):
    channel: MessageChannel = Field(description="in_app, email or sms.")
    template_id: EntityId = Field(description="One of GET /usercrm/message-templates.")
    variables: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")],
                    Annotated[str, StringConstraints(max_length=1000)]] = Field(
        default_factory=dict, max_length=20, description="Template placeholders; {name} and {brand} are filled in.")


class ReasonIn(Body):
    reason: Reason


class OwnerIn(Body):
    owner_id: EntityId = Field(description="The new owner: an active account manager in your data scope.")
    reason: Reason


class AccessLevelIn(Body):
    access_level: AccessLevel = Field(description="The admin access level to grant.")
    reason: Reason


class AccountIn(Body):
    account_type: AccountType
    currency: Currency


class MoneyIn(Body):
    amount: PositiveMoney
    currency: Currency


class AllocationIn(Body):
    account_id: EntityId
    fund_id: EntityId
    amount: PositiveMoney
    currency: Currency


class SocialLinksIn(Body):
    links: dict[Network, Url] = Field(max_length=20, description="network -> https URL; replaces the set.")


class DecisionIn(Body):
    note: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Checker's note (declines).")


class RequestView(BaseModel):
    request_id: str
    customer_id: str
    action: str
    state: str
    needs_approval: bool
    requested_by: str
    requested_role: str | None = None
    requested_at: datetime
    reason: str | None = None
    approved_by: str | None = None
    decided_at: datetime | None = None
    amount: Decimal | None = None
    currency: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict, description="What was asked, without personal data.")
    result: dict[str, Any] = Field(default_factory=dict)
    failure_code: str | None = None
    failure_reason: str | None = None
    done_at: datetime | None = None


class RequestPage(BaseModel):
    items: list[RequestView]
    next_cursor: str | None = None


class AuditRow(BaseModel):
    request_id: str
    seq: int
    at: datetime
    step: str
    actor_id: str | None
    actor_role: str | None
    action: str
    customer_id: str
    correlation_id: str | None
    outcome: str


class AuditPage(BaseModel):
    items: list[AuditRow]
    next_cursor: str | None = None
