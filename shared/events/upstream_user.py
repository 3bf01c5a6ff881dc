"""Upstream contracts for the User CRM: what the brokerage platform publishes about a user's profile sections,
logins, banking details, allocations and charges, and its answers to the CRM's requests.

The section models (`GeneralInfo`, `PersonalInfo`, …) are also what a CRM change request carries
(`crm.usercrm.user_request`): the platform applies the change and publishes the section it now holds.
Every section update is partial: only the fields given are changed.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import CountryCode, Currency, CustomerId, EntityId, Money, PositiveMoney, ShortText


# ------------------------------------------------------------------------------------------- sections
class GeneralInfo(Payload):
    """General tab: contact details, language and time zone (personal data: email, phone, address)."""

    email: ShortText | None = Field(default=None, description="Email address (personal data).")
    phone_dialing_code: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{0,3}$")
    phone_number: str | None = Field(default=None, pattern=r"^[0-9]{4,15}$", description="Personal data.")
    address_line: ShortText | None = Field(default=None, description="Street address (personal data).")
    city: ShortText | None = None
    postal_code: str | None = Field(default=None, max_length=20)
    country: CountryCode | None = Field(default=None, description="Country of residence.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="BCP 47.")
    time_zone: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$",
                                  description="IANA time zone, e.g. Asia/Hong_Kong.")


class IdNumber(Payload):
    kind: ShortText = Field(description="passport, national_id, tax_id, …")
    number: ShortText = Field(description="The number (personal data).")
    issuing_country: CountryCode | None = None


class PersonalInfo(Payload):
    """Personal details tab: date of birth, citizenship, personal ID numbers (all personal data)."""

    first_name: ShortText | None = None
    last_name: ShortText | None = None
    date_of_birth: date | None = None
    citizenship: CountryCode | None = None
    id_numbers: list[IdNumber] | None = Field(default=None, max_length=10,
                                              description="Replaces the list when given.")


class FinancialStatus(Payload):
    """Financial status tab: job information, income source and tax-payer details."""

    employment_status: ShortText | None = Field(default=None, description="employed, self_employed, retired, …")
    employer: ShortText | None = None
    occupation: ShortText | None = None
    industry: ShortText | None = None
    income_source: ShortText | None = Field(default=None, description="salary, business, investments, …")
    annual_income: Money | None = None
    net_worth: Money | None = None
    currency: Currency | None = None
    tax_residence: CountryCode | None = None
    tax_id: ShortText | None = Field(default=None, description="Tax-payer number (personal data).")
    us_tax_payer: bool | None = None


class QuestionAnswer(Payload):
    question_id: EntityId
    question: ShortText
    answer: ShortText


class FinancialExperience(Payload):
    """Financial experience tab: the markets-experience and qualifications questionnaire."""

    experience_years: int | None = Field(default=None, ge=0, le=100)
    qualifications: list[ShortText] | None = Field(default=None, max_length=20)
    answers: list[QuestionAnswer] | None = Field(default=None, max_length=100,
                                                 description="Replaces the answers when given.")


class SocialLinks(Payload):
    """The user's social media links (network -> URL); replaces the set when given."""

    links: dict[str, str] = Field(default_factory=dict, max_length=20,
                                  description="e.g. {\"linkedin\": \"https://www.linkedin.com/in/…\"}.")


class BankAccountKind(StrEnum):
    bank = "bank"
    payment_system = "payment_system"


class BankAccountInfo(Payload):
    """A bank account or payment-system wallet the user withdraws to (numbers are personal data)."""

    bank_account_id: EntityId
    kind: BankAccountKind = BankAccountKind.bank
    provider: ShortText = Field(description="Bank or payment-system name.")
    holder_name: ShortText | None = Field(default=None, description="Personal data.")
    account_number: ShortText | None = Field(default=None, description="Account number / IBAN / wallet id.")
    swift: str | None = Field(default=None, max_length=11)
    currency: Currency | None = None


# -------------------------------------------------------------------------------------- profile topic
@registry.contract("profile.general_updated", version=1, topic=topics.PROFILE)
class GeneralUpdated(Payload):
    """The user's general information changed (by the user, or by the platform applying a CRM request)."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    general: GeneralInfo
    request_id: EntityId | None = Field(default=None, description="The CRM request applied, if any.")


@registry.contract("profile.personal_updated", version=1, topic=topics.PROFILE)
class PersonalUpdated(Payload):
    """The user's personal details changed."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    personal: PersonalInfo
    request_id: EntityId | None = None


@registry.contract("profile.financial_status_updated", version=1, topic=topics.PROFILE)
class FinancialStatusUpdated(Payload):
    """The user's financial status changed."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    financial_status: FinancialStatus
    request_id: EntityId | None = None


@registry.contract("profile.financial_experience_updated", version=1, topic=topics.PROFILE)
class FinancialExperienceUpdated(Payload):
    """The user answered (or changed) the financial experience questionnaire."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    experience: FinancialExperience
    request_id: EntityId | None = None


@registry.contract("profile.social_links_updated", version=1, topic=topics.PROFILE)
class SocialLinksUpdated(Payload):
    """The user's social media links changed."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    social: SocialLinks
    request_id: EntityId | None = None


# ------------------------------------------------------------------------------------- security topic
class LoginSource(StrEnum):
    web = "web"
    app = "app"
    api = "api"


@registry.contract("security.login_recorded", version=1, topic=topics.SECURITY)
class LoginRecorded(Payload):
    """The user logged in (or tried to): time, IP address, its country and the source."""

    customer_id: CustomerId
    login_id: EntityId = Field(description="Unique id of the login attempt.")
    at: AwareDatetime
    ip: str = Field(max_length=45, description="IPv4 or IPv6 address (personal data).")
    country: CountryCode | None = Field(default=None, description="Country of the IP address.")
    source: LoginSource
    success: bool = True


# -------------------------------------------------------------------------------------- banking topic
@registry.contract("banking.bank_account_saved", version=1, topic=topics.BANKING)
class BankAccountSaved(Payload):
    """A bank account or payment system of the user was added or changed."""

    customer_id: CustomerId
    saved_at: AwareDatetime
    bank_account: BankAccountInfo
    request_id: EntityId | None = None


@registry.contract("banking.bank_account_removed", version=1, topic=topics.BANKING)
class BankAccountRemoved(Payload):
    """A bank account or payment system of the user was removed."""

    customer_id: CustomerId
    bank_account_id: EntityId
    removed_at: AwareDatetime


# ----------------------------------------------------------------------------------- allocation topic
@registry.contract("allocation.started", version=1, topic=topics.ALLOCATION)
class AllocationStarted(Payload):
    """A copy allocation (an investment in a fund) started from one of the user's accounts."""

    customer_id: CustomerId
    allocation_id: EntityId
    account_id: EntityId
    fund_id: EntityId
    fund_name: ShortText
    amount: PositiveMoney
    currency: Currency
    started_at: AwareDatetime
    request_id: EntityId | None = None


@registry.contract("allocation.deposited", version=1, topic=topics.ALLOCATION)
class AllocationDeposited(Payload):
    """An additional deposit was added to an active allocation."""

    customer_id: CustomerId
    allocation_id: EntityId
    account_id: EntityId
    transaction_id: EntityId
    amount: PositiveMoney
    currency: Currency
    deposited_at: AwareDatetime
    request_id: EntityId | None = None


@registry.contract("allocation.valued", version=1, topic=topics.ALLOCATION)
class AllocationValued(Payload):
    """Current value and performance of an allocation."""

    customer_id: CustomerId
    allocation_id: EntityId
    value: Money
    currency: Currency
    performance_pct: Money = Field(description="Return since start, in percent (e.g. \"12.5\").")
    as_of: AwareDatetime


@registry.contract("allocation.stopped", version=1, topic=topics.ALLOCATION)
class AllocationStopped(Payload):
    """An allocation was stopped: its open trades were closed at the market price and the value returned."""

    customer_id: CustomerId
    allocation_id: EntityId
    account_id: EntityId
    final_value: Money
    currency: Currency
    performance_pct: Money
    stopped_at: AwareDatetime
    request_id: EntityId | None = None


@registry.contract("allocation.fund_updated", version=1, topic=topics.ALLOCATION, key="fund_id")
class FundUpdated(Payload):
    """A fund's page data: name, strategy, manager and performance."""

    fund_id: EntityId
    name: ShortText
    strategy: ShortText | None = None
    manager_name: ShortText | None = None
    currency: Currency
    performance_pct: Money = Field(description="Return since inception, in percent.")
    aum: Money | None = Field(default=None, description="Assets under management.")
    as_of: AwareDatetime


# -------------------------------------------------------------------------------------- charges topic
@registry.contract("charges.charge_applied", version=1, topic=topics.CHARGES)
class ChargeApplied(Payload):
    """A charge (fee, commission, interest, performance fee) was debited from the user's account."""

    customer_id: CustomerId
    account_id: EntityId
    charge_id: EntityId
    kind: ShortText = Field(description="commission, custody_fee, interest, performance_fee, …")
    amount: PositiveMoney
    currency: Currency
    charged_at: AwareDatetime
    description: ShortText | None = None


# ----------------------------------------------------------------------------- platform answers to requests
class RequestResult(Payload):
    """What the platform produced when it completed a request (fields depend on the action)."""

    account_id: EntityId | None = Field(default=None, description="add_account: the new account.")
    allocation_id: EntityId | None = Field(default=None, description="start_allocation: the new allocation.")
    transaction_id: EntityId | None = Field(default=None, description="Money requests: the money movement.")
    delivery: str | None = Field(default=None, pattern=r"^(delivered|read)$",
                                 description="send_message: the delivery result.")


@registry.contract("request.accepted", version=1, topic=topics.REQUEST_RESULTS)
class RequestAccepted(Payload):
    """The platform accepted a CRM request and is carrying it out."""

    request_id: EntityId
    customer_id: CustomerId
    accepted_at: AwareDatetime


@registry.contract("request.completed", version=1, topic=topics.REQUEST_RESULTS)
class RequestCompleted(Payload):
    """The platform carried out a CRM request."""

    request_id: EntityId
    customer_id: CustomerId
    completed_at: AwareDatetime
    result: RequestResult = Field(default_factory=RequestResult)


@registry.contract("request.failed", version=1, topic=topics.REQUEST_RESULTS)
class RequestFailed(Payload):
    """The platform refused or could not carry out a CRM request (message bounced, insufficient funds, …)."""

    request_id: EntityId
    customer_id: CustomerId
    failed_at: AwareDatetime
    reason_code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$", description="e.g. insufficient_funds, bounced.")
    reason: ShortText | None = Field(default=None, description="Human-readable explanation (no personal data).")


# ------------------------------------------------------------------------------------------- campaign outreach
class OutreachStatus(StrEnum):
    sent = "sent"  # handed to the carrier / mail server / app
    delivered = "delivered"
    opened = "opened"  # read, when the channel tells (e-mail pixel, in-app read receipt)
    failed = "failed"


@registry.contract("outreach.result", version=1, topic=topics.OUTREACH_RESULTS)
class OutreachResult(Payload):
    """The platform's delivery result of a campaign outreach message (`crm.campaigns.outreach_request`): one per
    step it observes (sent, delivered, opened) or a failure."""

    request_id: EntityId
    customer_id: CustomerId
    campaign_id: EntityId
    channel: str = Field(pattern=r"^(sms|email|in_app)$")
    status: OutreachStatus
    at: AwareDatetime = Field(description="When the step happened (business time).")
    reason_code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$",
                                    description="failed: e.g. bounced, unreachable, opted_out.")
