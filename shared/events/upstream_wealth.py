"""What the brokerage platform publishes for the wealth calendar (`brokerage.wealth`): IPO subscription windows
and who subscribed, corporate actions (dividends, splits, rights issues), the positions each account holds (a
snapshot per account) and maturities. Keyed by customer id where there is one (subscriptions, positions,
maturities); by IPO id / security for the brokerage-wide facts (windows, corporate actions)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from . import topics
from .registry import Payload, registry
from .types import Currency, CustomerId, EntityId, Money, PositiveMoney, ShortText

Security = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-.:]+$",
                 description="The security's code as the platform names it, e.g. `0700.HK`, `AAPL.US`.")


class SubscriptionStatus(StrEnum):
    subscribed = "subscribed"
    allotted = "allotted"
    not_allotted = "not_allotted"
    cancelled = "cancelled"


class CorporateActionKind(StrEnum):
    dividend = "dividend"
    split = "split"
    rights = "rights"
    bonus = "bonus"
    other = "other"


def _ordered(*pairs: tuple[str, date | None, date | None]) -> None:
    for name, first, then in pairs:
        if first is not None and then is not None and then < first:
            raise ValueError(f"{name} must not be before the date it follows")


@registry.contract("wealth.ipo_window_announced", version=1, topic=topics.WEALTH, key="ipo_id")
class IpoWindowAnnounced(Payload):
    """An IPO's subscription window (announced or changed: the latest by `announced_at` counts)."""

    ipo_id: EntityId = Field(description="The platform's IPO id.")
    security: str = Security
    name: ShortText = Field(description="The issuer's / offering's display name.")
    open_date: date = Field(description="First day subscriptions are taken.")
    close_date: date = Field(description="Last day subscriptions are taken.")
    listing_date: date | None = Field(default=None, description="Expected first trading day.")
    announced_at: AwareDatetime

    @model_validator(mode="after")
    def _dates(self) -> IpoWindowAnnounced:
        _ordered(("close_date", self.open_date, self.close_date), ("listing_date", self.close_date, self.listing_date))
        return self


@registry.contract("wealth.ipo_subscribed", version=1, topic=topics.WEALTH)
class IpoSubscribed(Payload):
    """A customer's IPO subscription and its status (the latest by `updated_at` counts)."""

    customer_id: CustomerId
    ipo_id: EntityId
    account_id: EntityId | None = None
    quantity: PositiveMoney = Field(description="Shares applied for.")
    status: SubscriptionStatus = SubscriptionStatus.subscribed
    updated_at: AwareDatetime


@registry.contract("wealth.corporate_action_announced", version=1, topic=topics.WEALTH,
                   key="security")
class CorporateActionAnnounced(Payload):
    """A corporate action on a security (announced or changed: the latest by `announced_at` counts)."""

    action_id: EntityId = Field(description="The platform's corporate action id.")
    security: str = Security
    kind: CorporateActionKind
    ex_date: date | None = Field(default=None, description="Ex-entitlement date.")
    record_date: date | None = None
    pay_date: date | None = Field(default=None, description="Payment / distribution date.")
    amount_per_share: Money | None = Field(default=None, description="Cash per share (dividends).")
    currency: Currency | None = None
    ratio: ShortText | None = Field(default=None, description="e.g. `2:1` for a split, `1:5` for rights.")
    announced_at: AwareDatetime

    @model_validator(mode="after")
    def _dates(self) -> CorporateActionAnnounced:
        if self.ex_date is None and self.record_date is None and self.pay_date is None:
            raise ValueError("one of ex_date, record_date, pay_date is required")
        _ordered(("pay_date", self.record_date, self.pay_date))
        return self


class Holding(Payload):
    security: str = Security
    quantity: Money = Field(description="Shares / units held (0 or negative: not held).")


@registry.contract("wealth.positions_reported", version=1, topic=topics.WEALTH)
class PositionsReported(Payload):
    """Everything one account holds as of a time: the snapshot replaces the account's earlier ones."""

    customer_id: CustomerId
    account_id: EntityId
    as_of: AwareDatetime
    positions: list[Holding] = Field(default_factory=list, max_length=2000)


@registry.contract("wealth.maturity_scheduled", version=1, topic=topics.WEALTH)
class MaturityScheduled(Payload):
    """A product the customer holds matures (bond, structured note, fixed-term deposit...)."""

    customer_id: CustomerId
    maturity_id: EntityId = Field(description="The platform's id of this holding's maturity.")
    account_id: EntityId
    product: ShortText = Field(description="Product or security code.")
    maturity_date: date
    amount: Money | None = Field(default=None, description="Amount repaid at maturity, when known.")
    currency: Currency | None = None
    scheduled_at: AwareDatetime
