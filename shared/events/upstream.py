"""Upstream contracts: what the brokerage platforms publish. One topic per domain, keyed by customer id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from . import topics
from .registry import Payload, registry
from .types import CountryCode, Currency, CustomerId, EntityId, Money, PositiveMoney, ShortText


class Channel(StrEnum):
    organic = "organic"
    referral = "referral"
    manager_qr = "manager_qr"
    external_channel = "external_channel"
    manual_import = "manual_import"
    institution = "institution"
    campaign = "campaign"


class IdType(StrEnum):
    passport = "passport"
    national_id = "national_id"
    driving_licence = "driving_licence"
    residence_permit = "residence_permit"
    other = "other"


class DocumentKind(StrEnum):
    id_front = "id_front"
    id_back = "id_back"
    proof_of_address = "proof_of_address"
    selfie = "selfie"
    financial_questionnaire = "financial_questionnaire"
    bank_statement = "bank_statement"
    tax_form = "tax_form"
    other = "other"


class AccountType(StrEnum):
    cash = "cash"
    margin = "margin"


class Side(StrEnum):
    buy = "buy"
    sell = "sell"


# --------------------------------------------------------------------------------- registration
@registry.contract("registration.customer_registered", version=1, topic=topics.REGISTRATION)
class CustomerRegisteredV1(Payload):
    """A user completed registration on the brokerage platform (v1, superseded: no language field)."""

    customer_id: CustomerId
    registered_at: AwareDatetime
    channel: Channel
    referral_code: ShortText | None = None
    phone: ShortText | None = Field(default=None, description="E.164 phone number, e.g. +85291234567.")
    email: ShortText | None = None
    residence_country: CountryCode | None = None
    registration_ip_country: CountryCode | None = None


@registry.contract("registration.customer_registered", version=2, topic=topics.REGISTRATION)
class CustomerRegistered(Payload):
    """A user completed registration on the brokerage platform."""

    customer_id: CustomerId
    registered_at: AwareDatetime = Field(description="Registration time on the platform.")
    channel: Channel = Field(description="Source channel of the registration.")
    campaign: ShortText | None = Field(default=None, description="Campaign or external channel name.")
    referral_code: ShortText | None = Field(
        default=None, description="Referral code used: another customer's or an account manager's (QR code)."
    )
    name: ShortText | None = Field(default=None, description="Display name (personal data).")
    phone_dialing_code: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{0,3}$", description="Dialing code with +, e.g. +852."
    )
    phone_number: str | None = Field(
        default=None, pattern=r"^[0-9]{4,15}$", description="National phone number, digits only (personal data)."
    )
    email: ShortText | None = Field(default=None, description="Email address (personal data).")
    residence_country: CountryCode | None = Field(default=None, description="Declared country of residence.")
    registration_ip_country: CountryCode | None = Field(
        default=None, description="Country of the IP address the user registered from."
    )
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="Preferred language (BCP 47)."
    )
    customer_number: EntityId | None = Field(
        default=None, description="The brokerage's customer (account holder) number when the platform gives one: "
                                  "an exact key for matching an existing customer.")
    phone_verified: bool = Field(
        default=False, description="The platform verified the phone (one-time code): only a verified phone is an "
                                   "exact key for matching an existing customer.")

    @model_validator(mode="after")
    def _phone_pair(self) -> CustomerRegistered:
        if (self.phone_dialing_code is None) != (self.phone_number is None):
            raise ValueError("phone_dialing_code and phone_number must be given together")
        return self


@registry.upcaster("registration.customer_registered", from_version=1)
def _registered_v1_to_v2(p: dict[str, Any]) -> dict[str, Any]:
    """v1 carried one E.164 `phone`; v2 splits it. The dialing code is resolved with `phonenumbers`
    when it is installed (it is in every service), else the phone is dropped rather than guessed."""
    out = {k: v for k, v in p.items() if k != "phone"}
    phone = p.get("phone")
    if phone:
        try:
            import phonenumbers

            parsed = phonenumbers.parse(phone, None)
            out["phone_dialing_code"] = f"+{parsed.country_code}"
            out["phone_number"] = str(parsed.national_number)
        except Exception:  # noqa: BLE001 - an unparseable legacy phone is dropped, not invented
            pass
    return out


@registry.contract("registration.profile_updated", version=1, topic=topics.REGISTRATION)
class ProfileUpdated(Payload):
    """The customer changed profile data on the platform. Only the fields given are changed."""

    customer_id: CustomerId
    updated_at: AwareDatetime
    name: ShortText | None = None
    phone_dialing_code: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{0,3}$")
    phone_number: str | None = Field(default=None, pattern=r"^[0-9]{4,15}$")
    email: ShortText | None = None
    residence_country: CountryCode | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


# ------------------------------------------------------------------------------------------ kyc
@registry.contract("kyc.identity_verified", version=1, topic=topics.KYC)
class IdentityVerified(Payload):
    """The platform verified the customer's identity document."""

    customer_id: CustomerId
    verified_at: AwareDatetime
    id_type: IdType
    id_issuing_country: CountryCode = Field(description="Country that issued the ID document.")
    id_number: ShortText | None = Field(default=None, description="Document number (personal data).")
    legal_name: ShortText | None = Field(default=None, description="Name on the document (personal data).")
    date_of_birth: date | None = Field(default=None, description="Date of birth (personal data).")


# -------------------------------------------------------------------------------------- account
class SubmittedDocument(Payload):
    document_id: EntityId
    kind: DocumentKind
    storage_ref: str = Field(max_length=500, description="Opaque reference to the stored file; never logged.")
    uploaded_at: AwareDatetime


class Declarations(Payload):
    is_pep: bool = Field(default=False, description="Politically exposed person (self-declared).")
    net_worth: Money | None = Field(default=None, description="Declared net worth.")
    net_worth_currency: Currency | None = None
    annual_income: Money | None = None
    investment_experience_years: int | None = Field(default=None, ge=0, le=100)
    employment_status: ShortText | None = None


@registry.contract("account.application_submitted", version=1, topic=topics.ACCOUNT)
class AccountApplicationSubmitted(Payload):
    """The customer submitted (or resubmitted) an account-opening application with its KYC documents."""

    customer_id: CustomerId
    application_id: EntityId
    submitted_at: AwareDatetime
    account_type: AccountType = AccountType.cash
    documents: list[SubmittedDocument] = Field(min_length=1, max_length=50)
    declarations: Declarations = Field(default_factory=Declarations)
    id_issuing_country: CountryCode | None = None


@registry.contract("account.opened", version=1, topic=topics.ACCOUNT)
class AccountOpened(Payload):
    """The brokerage opened the customer's securities account."""

    customer_id: CustomerId
    application_id: EntityId | None = None
    account_id: EntityId
    account_type: AccountType = AccountType.cash
    opened_at: AwareDatetime


@registry.contract("account.rejected", version=1, topic=topics.ACCOUNT)
class AccountRejected(Payload):
    """The brokerage rejected an account-opening application."""

    customer_id: CustomerId
    application_id: EntityId
    rejected_at: AwareDatetime
    reason: ShortText


@registry.contract("account.closed", version=1, topic=topics.ACCOUNT)
class AccountClosed(Payload):
    """A securities account was closed."""

    customer_id: CustomerId
    account_id: EntityId
    closed_at: AwareDatetime
    reason: ShortText | None = None


# -------------------------------------------------------------------------------------- funding
@registry.contract("funding.deposit_completed", version=1, topic=topics.FUNDING)
class DepositCompletedV1(Payload):
    """A deposit was credited (v1, superseded: amount as a JSON number, currency implied USD)."""

    customer_id: CustomerId
    account_id: EntityId
    transaction_id: EntityId
    amount: float = Field(gt=0, lt=1e16, description="At most 16 integer digits, like v2 money.")
    completed_at: AwareDatetime


@registry.contract("funding.deposit_completed", version=2, topic=topics.FUNDING)
class DepositCompleted(Payload):
    """A deposit was credited to the customer's account."""

    customer_id: CustomerId
    account_id: EntityId
    transaction_id: EntityId = Field(description="Unique id of the money movement.")
    amount: PositiveMoney
    currency: Currency
    completed_at: AwareDatetime
    method: ShortText | None = Field(default=None, description="e.g. bank_transfer, fps, card.")


@registry.upcaster("funding.deposit_completed", from_version=1)
def _deposit_v1_to_v2(p: dict[str, Any]) -> dict[str, Any]:
    out = dict(p)
    # repr of the float, not its binary expansion: 0.1 -> "0.1", never 0.1000000000000000055...
    out["amount"] = str(Decimal(repr(float(p["amount"]))).quantize(Decimal("0.00000001")).normalize())
    out["currency"] = "USD"
    return out


@registry.contract("funding.withdrawal_completed", version=1, topic=topics.FUNDING)
class WithdrawalCompleted(Payload):
    """A withdrawal was paid out of the customer's account."""

    customer_id: CustomerId
    account_id: EntityId
    transaction_id: EntityId
    amount: PositiveMoney
    currency: Currency
    completed_at: AwareDatetime
    method: ShortText | None = None


# -------------------------------------------------------------------------------------- trading
@registry.contract("trading.trade_executed", version=1, topic=topics.TRADING)
class TradeExecuted(Payload):
    """An order of the customer was (partly) filled."""

    customer_id: CustomerId
    account_id: EntityId
    trade_id: EntityId
    symbol: str = Field(min_length=1, max_length=32)
    market: str = Field(min_length=1, max_length=16, description="e.g. HK, US, SG.")
    side: Side
    quantity: PositiveMoney
    price: PositiveMoney
    currency: Currency
    executed_at: AwareDatetime


class Position(Payload):
    symbol: str = Field(min_length=1, max_length=32)
    market: str = Field(min_length=1, max_length=16)
    quantity: Money
    market_value: Money
    currency: Currency


@registry.contract("trading.asset_snapshot_taken", version=1, topic=topics.TRADING)
class AssetSnapshotTaken(Payload):
    """End-of-day (or intraday) valuation of the customer's account: total assets, cash and positions."""

    customer_id: CustomerId
    account_id: EntityId
    as_of: AwareDatetime
    currency: Currency = Field(description="Valuation currency of the totals.")
    total_assets: Money
    cash: Money
    positions: list[Position] = Field(default_factory=list, max_length=2000)


# ------------------------------------------------------------------------------------- referral
@registry.contract("referral.referral_linked", version=1, topic=topics.REFERRAL)
class ReferralLinked(Payload):
    """A customer (the referee, `customer_id`) was linked to the customer who referred them."""

    customer_id: CustomerId = Field(description="The referee.")
    referrer_customer_id: CustomerId
    referral_code: ShortText | None = None
    linked_at: AwareDatetime


# ------------------------------------------------------------------------------------- suitability
class RiskRating(StrEnum):
    """The customer's risk profile from the suitability assessment (lowest to highest tolerance)."""

    conservative = "conservative"
    moderately_conservative = "moderately_conservative"
    balanced = "balanced"
    moderately_aggressive = "moderately_aggressive"
    aggressive = "aggressive"


@registry.contract("suitability.risk_assessed", version=1, topic=topics.SUITABILITY)
class RiskAssessed(Payload):
    """The result of a customer's suitability / risk assessment (questionnaire): the latest by `assessed_at`
    is the customer's risk rating."""

    customer_id: CustomerId
    assessment_id: EntityId = Field(description="The platform's assessment id (one result per assessment).")
    risk_rating: RiskRating
    score: int | None = Field(default=None, ge=0, le=100, description="The questionnaire's score, when scored.")
    assessed_at: AwareDatetime
    valid_until: AwareDatetime | None = Field(default=None, description="When the assessment must be renewed.")
