"""`crm.customer.events`: what the customer service publishes (through its outbox)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import CountryCode, Currency, CustomerId, EntityId, PositiveMoney, ShortText


class Stage(StrEnum):
    """Customer lifecycle stage, derived from facts (never set by hand)."""

    registered = "registered"  # TMT registration: registered, no application yet
    pending_account_opening = "pending_account_opening"  # application submitted, account not opened
    pending_funding = "pending_funding"  # account opened, no deposit yet
    funded = "funded"  # deposited, not traded yet
    traded = "traded"  # at least one trade


STAGE_ORDER = {s: i for i, s in enumerate(Stage)}


class AccountStatus(StrEnum):
    none = "none"
    applied = "applied"
    opened = "opened"
    rejected = "rejected"
    closed = "closed"


class VerificationStatus(StrEnum):
    unverified = "unverified"
    verified = "verified"
    pending_review = "pending_review"
    failed = "failed"


@registry.contract("crm.customer.customer_registered", version=1, topic=topics.CRM_CUSTOMER)
class CustomerOnboarded(Payload):
    """A new customer entered the CRM customer pool. Carries what other services need for routing and cards."""

    customer_id: CustomerId
    registered_at: AwareDatetime
    channel: ShortText
    campaign: ShortText | None = None
    referral_code: ShortText | None = Field(default=None, description="Referral code used at registration.")
    language: str | None = None
    user_region: CountryCode | None = None
    active_region: CountryCode | None = None
    name: ShortText | None = Field(default=None, description="Display name (personal data, for cards).")
    institution_id: EntityId | None = Field(
        default=None, description="The institution the customer came through (institutional association or a "
                                  "manual import's row), for routing rules by institution.")
    phone_hash: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="HMAC-SHA256 (hex) of the customer's phone number in E.164 with the brokerage's phone hash key "
                    "(`shared.runtime.phones`): matches captured calls and SMS to the customer without the number.")
    segment_ids: list[EntityId] = Field(
        default_factory=list, max_length=1000,
        description="The saved segments (`crm.customer.segment_changed`) the customer is in at registration, static "
                    "and dynamic, evaluated before this event is stored: a routing rule by segment matches the "
                    "registration without waiting for `segment_membership_changed` (published after it).")


@registry.contract("crm.customer.regions_changed", version=1, topic=topics.CRM_CUSTOMER)
class RegionsChanged(Payload):
    """User Region or Active Region of a customer changed (see the region rules)."""

    customer_id: CustomerId
    user_region: CountryCode | None = None
    active_region: CountryCode | None = None
    changed_at: AwareDatetime


@registry.contract("crm.customer.stage_changed", version=1, topic=topics.CRM_CUSTOMER)
class StageChanged(Payload):
    """The customer's lifecycle stage changed, with the fact that caused it."""

    customer_id: CustomerId
    from_stage: Stage | None = Field(description="None for the first stage of a new customer.")
    to_stage: Stage
    changed_at: AwareDatetime = Field(description="When the causing fact happened (not when it was processed).")
    cause_event_id: str = Field(max_length=64)
    cause_event_type: str = Field(max_length=120)


@registry.contract("crm.customer.account_status_changed", version=1, topic=topics.CRM_CUSTOMER)
class AccountStatusChanged(Payload):
    """Account-opening status changed: applied, opened, rejected or closed."""

    customer_id: CustomerId
    status: AccountStatus
    application_id: EntityId | None = None
    account_id: EntityId | None = None
    changed_at: AwareDatetime
    reason: ShortText | None = None


@registry.contract("crm.customer.funds_moved", version=1, topic=topics.CRM_CUSTOMER)
class FundsMoved(Payload):
    """A deposit or withdrawal was recorded for the customer."""

    customer_id: CustomerId
    transaction_id: EntityId
    direction: str = Field(pattern=r"^(deposit|withdrawal)$")
    amount: PositiveMoney
    currency: Currency
    occurred_at: AwareDatetime
    first_deposit: bool = False


@registry.contract("crm.customer.trade_recorded", version=1, topic=topics.CRM_CUSTOMER)
class TradeRecorded(Payload):
    """A trade was recorded for the customer."""

    customer_id: CustomerId
    trade_id: EntityId
    occurred_at: AwareDatetime
    first_trade: bool = False


@registry.contract("crm.customer.verification_status_changed", version=1, topic=topics.CRM_CUSTOMER)
class VerificationStatusChanged(Payload):
    """Customer verification status changed (platform verification or a CRM user with a reason)."""

    customer_id: CustomerId
    status: VerificationStatus
    changed_at: AwareDatetime
    changed_by: ShortText | None = Field(default=None, description="CRM user id; None when from the platform.")
    reason: ShortText | None = None


@registry.contract("crm.customer.tags_changed", version=1, topic=topics.CRM_CUSTOMER)
class TagsChanged(Payload):
    """The customer's tags (staff labels such as `vip`) changed: the whole set after the change."""

    customer_id: CustomerId
    tags: list[ShortText] = Field(max_length=1000, description="Every tag of the customer now, sorted.")
    changed_at: AwareDatetime
    changed_by: ShortText | None = Field(default=None, description="CRM user id.")


@registry.contract("crm.customer.merged", version=1, topic=topics.CRM_CUSTOMER, key="survivor_id")
class CustomerMerged(Payload):
    """Two records were found to be the same person: `merged_id` now lives on as `survivor_id` (one customer in
    every view: its owner, tasks and counts are the survivor's). Both records keep their history; an
    `unmerged` event restores them."""

    survivor_id: CustomerId = Field(description="The customer that remains (the existing one).")
    merged_id: CustomerId = Field(description="The customer merged into the survivor (hidden from lists).")
    reason: str = Field(max_length=64, pattern=r"^(exact|review):[a-z_]+$",
                        description="exact:<key> (id_number, customer_number, verified_phone: linked automatically) "
                                    "or review:<key> (a person merged a suspected match).")
    merged_at: AwareDatetime
    merged_by: ShortText | None = Field(default=None, description="CRM user id; None when automatic.")


@registry.contract("crm.customer.unmerged", version=1, topic=topics.CRM_CUSTOMER, key="survivor_id")
class CustomerUnmerged(Payload):
    """A merge was undone: both customers are separate again, as before the merge."""

    survivor_id: CustomerId
    merged_id: CustomerId
    unmerged_at: AwareDatetime
    unmerged_by: ShortText | None = Field(default=None, description="CRM user id.")


@registry.contract("crm.customer.match_suspected", version=1, topic=topics.CRM_CUSTOMER)
class MatchSuspected(Payload):
    """A probable duplicate (same normalised name and date of birth, no exact key): queued for a person to
    merge or reject. Nothing is merged."""

    customer_id: CustomerId = Field(description="The newer customer.")
    candidate_id: CustomerId = Field(description="The existing customer it probably is.")
    reason: str = Field(max_length=64, pattern=r"^probable:[a-z_]+$")
    suspected_at: AwareDatetime


class SegmentKind(StrEnum):
    static = "static"
    dynamic = "dynamic"


@registry.contract("crm.customer.segment_changed", version=1, topic=topics.CRM_CUSTOMER, key="segment_id")
class SegmentChanged(Payload):
    """A saved customer segment was created, edited or deleted: the whole definition after the change. A static
    segment is its list of customer ids; a dynamic one is a filter over the customer list (the query parameters
    of `GET /customers`: stage, user_region, risk_rating, ada30_min, age_min, tag, …), evaluated by whoever
    uses it against the customer facts it has. Campaigns and assignment rules may target a segment by id."""

    segment_id: EntityId
    name: ShortText = Field(min_length=1, description="Display name.")
    kind: SegmentKind
    change: str = Field(pattern=r"^(created|updated|deleted)$", description="What happened to the segment.")
    filter: dict[str, Any] | None = Field(default=None, description="dynamic: the customer list's filters.")
    customer_ids: list[CustomerId] = Field(default_factory=list, max_length=10_000,
                                           description="static: the customers (empty once deleted).")
    changed_at: AwareDatetime
    changed_by: ShortText | None = Field(default=None, description="CRM user id.")


@registry.contract("crm.customer.segment_membership_changed", version=1, topic=topics.CRM_CUSTOMER)
class SegmentMembershipChanged(Payload):
    """A customer entered or left a saved segment (static: listed or unlisted; dynamic: its facts, the segment's
    filter or the date (ages) changed; deleted segment: every member leaves). Keyed by customer id, in order with
    the customer's other events; the latest `as_of` per (segment, customer) is the membership."""

    segment_id: EntityId
    customer_id: CustomerId
    member: bool = Field(description="true: entered the segment; false: left it.")
    as_of: AwareDatetime = Field(description="When the membership was evaluated.")


@registry.contract("crm.customer.institution_changed", version=1, topic=topics.CRM_CUSTOMER, key="institution_id")
class InstitutionChanged(Payload):
    """An institution customers come through (institutional association, a manual import's rows) was created
    or edited: the whole record after the change. Routing rules can match its id."""

    institution_id: EntityId
    name: ShortText = Field(min_length=1, description="Display name of the institution.")
    manager_id: EntityId | None = Field(default=None, description="The account manager who looks after it.")
    team_id: EntityId | None = Field(default=None, description="The team that looks after it.")
    created: bool = Field(description="True for the first version of the institution.")
    changed_at: AwareDatetime
    changed_by: ShortText | None = Field(default=None, description="CRM user id.")


class WealthEventKind(StrEnum):
    """What a wealth calendar event is about."""

    ipo_opens = "ipo_opens"  # an IPO's subscription window opens
    ipo_closes = "ipo_closes"  # an IPO's subscription window closes (the last day to subscribe)
    ipo_listing = "ipo_listing"  # a subscribed IPO starts trading
    corporate_action = "corporate_action"  # a dividend / split / rights issue on a security the customer holds
    maturity = "maturity"  # a product the customer holds matures


@registry.contract("crm.customer.wealth_event_due", version=1, topic=topics.CRM_CUSTOMER)
class WealthEventDue(Payload):
    """An event of the customer's wealth calendar is `days_before` days away (CUSTOMER_WEALTH_REMINDER_DAYS):
    the tasks service opens a "wealth event" task for the customer's owner. Published once per (customer,
    calendar event): `event_key` names the event, stable across republications."""

    customer_id: CustomerId
    event_key: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-.:]+$",
                           description="The calendar event, e.g. `corporate_action:CA-1:ex` (kind:source id:date).")
    kind: WealthEventKind
    event_date: date = Field(description="The day of the event.")
    security: str | None = Field(default=None, max_length=32, description="The security, when there is one.")
    title: ShortText = Field(description="What happens, for the task (no personal data).")
    days_before: int = Field(ge=0, le=365, description="The reminder lead the event was published with.")
    due_at: AwareDatetime = Field(description="When the reminder became due.")
