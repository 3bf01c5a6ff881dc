"""What the User CRM service publishes (through its outbox).

- `crm.usercrm.requests` (command topic, keyed by customer id): `crm.usercrm.user_request`, a request to the
  brokerage platform on the user's behalf. The platform answers on `brokerage.request_results` with
  `request.accepted`, `request.completed` or `request.failed` carrying the same `request_id`.
- `crm.usercrm.events`: `crm.usercrm.request_state_changed`, every state change of a request (for timelines
  and audits elsewhere), and `crm.usercrm.owner_change_confirmed` when the platform completed a client/lead
  owner change (the assignment service follows it: the customer's account manager becomes the new owner).
  Neither carries free text beyond what the platform needs to act (the owner change's reason, which the
  assignment keeps as the "why").
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from . import topics
from .registry import Payload, registry
from .types import Currency, CustomerId, EntityId, LongText, PositiveMoney, ShortText
from .upstream import AccountType
from .upstream_user import (
    BankAccountInfo,
    FinancialExperience,
    FinancialStatus,
    GeneralInfo,
    PersonalInfo,
    SocialLinks,
)


class RequestAction(StrEnum):
    send_message = "send_message"
    block = "block"
    unblock = "unblock"
    reset_password = "reset_password"
    change_info = "change_info"
    add_account = "add_account"
    deposit = "deposit"
    withdraw = "withdraw"
    start_allocation = "start_allocation"
    stop_allocation = "stop_allocation"
    allocation_deposit = "allocation_deposit"
    change_owner = "change_owner"  # the client/lead owner: the admin-level user who manages the user
    change_access_level = "change_access_level"  # the user's admin access level on the platform


class RequestState(StrEnum):
    awaiting_approval = "awaiting_approval"  # maker-checker: a second person must approve before it is sent
    declined = "declined"  # the checker declined it; never sent
    submitted = "submitted"  # sent to the platform, no answer yet
    accepted = "accepted"  # the platform is carrying it out
    completed = "completed"
    failed = "failed"


class MessageChannel(StrEnum):
    in_app = "in_app"
    email = "email"
    sms = "sms"


class MessageRequest(Payload):
    channel: MessageChannel
    template_id: EntityId = Field(description="Template the text was rendered from.")
    subject: ShortText | None = None
    body: LongText = Field(description="Rendered text to deliver (never logged).")


class MoneyRequest(Payload):
    """deposit / withdraw (account), start_allocation / allocation_deposit (allocation)."""

    account_id: EntityId
    amount: PositiveMoney
    currency: Currency
    fund_id: EntityId | None = Field(default=None, description="start_allocation: the fund to copy.")
    allocation_id: EntityId | None = Field(default=None, description="allocation_deposit: the allocation.")


class StopAllocationRequest(Payload):
    account_id: EntityId
    allocation_id: EntityId


class NewAccountRequest(Payload):
    account_type: AccountType
    currency: Currency


class AccessLevel(StrEnum):
    """Admin access levels the platform grants a user (TradeSocio "Change Admin Access Level")."""

    none = "none"  # an investor without admin access
    read_only = "read_only"  # may view the admin pages
    support = "support"  # may act on users (tickets, messages)
    manager = "manager"  # may own clients and leads
    admin = "admin"  # full admin access


class OwnerChange(Payload):
    """change_owner: assign the client/lead to an admin-level user (a CRM account manager) for management."""

    owner_id: EntityId = Field(description="The new owner: a CRM account manager id.")
    team_id: EntityId | None = Field(default=None, description="The new owner's team, when known.")
    previous_owner_id: EntityId | None = Field(default=None, description="The owner when the request was made.")


class AccessLevelChange(Payload):
    """change_access_level: the admin access level the platform is to grant the user (applies at once)."""

    access_level: AccessLevel
    previous_level: AccessLevel | None = Field(default=None, description="The level when the request was made.")


class InfoChange(Payload):
    """A change to one section of the user's information; exactly one section is given."""

    general: GeneralInfo | None = None
    personal: PersonalInfo | None = None
    financial_status: FinancialStatus | None = None
    financial_experience: FinancialExperience | None = None
    social: SocialLinks | None = None
    bank_account: BankAccountInfo | None = None

    @model_validator(mode="after")
    def _one_section(self) -> InfoChange:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("exactly one section must be given")
        return self

    @property
    def section(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)


# which parameter block each action carries
ACTION_PARAMS: dict[RequestAction, str | None] = {
    RequestAction.send_message: "message",
    RequestAction.block: None,
    RequestAction.unblock: None,
    RequestAction.reset_password: None,
    RequestAction.change_info: "change",
    RequestAction.add_account: "new_account",
    RequestAction.deposit: "money",
    RequestAction.withdraw: "money",
    RequestAction.start_allocation: "money",
    RequestAction.stop_allocation: "stop_allocation",
    RequestAction.allocation_deposit: "money",
    RequestAction.change_owner: "owner",
    RequestAction.change_access_level: "access",
}
PARAM_BLOCKS = ("message", "money", "stop_allocation", "new_account", "change", "owner", "access")


# actions that are refused without a reason (they are audited with it)
REASON_REQUIRED = frozenset({RequestAction.block, RequestAction.unblock, RequestAction.change_owner,
                             RequestAction.change_access_level})


@registry.contract("crm.usercrm.user_request", version=1, topic=topics.CRM_USERCRM_REQUESTS)
class UserRequest(Payload):
    """A CRM user asks the platform to act on a user's behalf. Carries the parameter block of its action only."""

    request_id: EntityId = Field(description="Id the platform answers with (request.* events).")
    customer_id: CustomerId
    action: RequestAction
    requested_by: ShortText = Field(description="CRM user id of the requester (maker).")
    requested_role: ShortText | None = None
    requested_at: AwareDatetime
    approved_by: ShortText | None = Field(default=None, description="CRM user id of the checker, when required.")
    reason: ShortText | None = Field(
        default=None, description="block/unblock, change_owner, change_access_level: the mandatory reason.")
    message: MessageRequest | None = None
    money: MoneyRequest | None = None
    stop_allocation: StopAllocationRequest | None = None
    new_account: NewAccountRequest | None = None
    change: InfoChange | None = None
    owner: OwnerChange | None = None
    access: AccessLevelChange | None = None

    @model_validator(mode="after")
    def _params_of_action(self) -> UserRequest:
        want = ACTION_PARAMS[self.action]
        for block in PARAM_BLOCKS:
            given = getattr(self, block) is not None
            if given != (block == want):
                raise ValueError(f"{self.action} requires {want or 'no parameter block'}, not {block}")
        if self.action in REASON_REQUIRED and not (self.reason or "").strip():
            raise ValueError(f"{self.action} requires a reason")
        if self.action == RequestAction.start_allocation and (self.money is None or not self.money.fund_id):
            raise ValueError("start_allocation requires money.fund_id")
        if self.action == RequestAction.allocation_deposit and (self.money is None or not self.money.allocation_id):
            raise ValueError("allocation_deposit requires money.allocation_id")
        return self


@registry.contract("crm.usercrm.request_state_changed", version=1, topic=topics.CRM_USERCRM)
class RequestStateChanged(Payload):
    """A request on a user's behalf changed state (requested, approved, declined, accepted, completed, failed)."""

    request_id: EntityId
    customer_id: CustomerId
    action: RequestAction
    from_state: RequestState | None = None
    to_state: RequestState
    changed_at: AwareDatetime
    actor_id: ShortText | None = Field(default=None, description="CRM user id; None when the platform answered.")
    reason_code: ShortText | None = Field(default=None, description="failed: the platform's reason code.")
    amount: PositiveMoney | None = None
    currency: Currency | None = None


@registry.contract("crm.usercrm.owner_change_confirmed", version=1, topic=topics.CRM_USERCRM)
class OwnerChangeConfirmed(Payload):
    """The platform completed a client/lead owner change (`change_owner`): the CRM's assignment follows it.

    Published once per completed request (at-least-once: consumers de-duplicate on `request_id`)."""

    request_id: EntityId = Field(description="The completed change_owner request (one confirmation per request).")
    customer_id: CustomerId
    owner_id: EntityId = Field(description="The new owner: a CRM account manager id.")
    team_id: EntityId | None = Field(default=None, description="The new owner's team when the request was made.")
    previous_owner_id: EntityId | None = Field(default=None, description="The owner when the request was made.")
    requested_by: ShortText = Field(description="CRM user id of the requester.")
    requested_at: AwareDatetime
    reason: ShortText | None = Field(default=None, description="The requester's reason (mandatory on the request).")
    confirmed_at: AwareDatetime = Field(description="When the platform completed the change (its business time).")
