"""Request and response bodies. Requests mirror the contracts (`shared.events.crm_campaigns`) and are strict:
unknown fields and bad values are 422 naming the field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.crm_campaigns import AudienceFilter, CampaignPlan, CampaignStatus, ExecutionCounts
from shared.events.types import Currency, LongText, Money, ShortText


class AudienceBody(AudienceFilter):
    """An audience: customer attributes (every given one must match) or an explicit list of customer ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanBody(CampaignPlan):
    """A campaign's plan (the whole of it: an edit replaces it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    audience: AudienceBody


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    comment: LongText | None = Field(default=None, description="Required to reject.")


class Execution(BaseModel):
    counts: ExecutionCounts
    final: bool = Field(description="True once closed: the figures frozen with the close.")


class CampaignView(BaseModel):
    campaign_id: str
    status: CampaignStatus
    plan: CampaignPlan
    created_by: str
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None = None
    review_comment: str | None = None
    audience_size: int | None = Field(default=None, description="Frozen when the campaign started.")
    started_at: datetime | None = None
    closed_at: datetime | None = None
    version: int
    execution: Execution | None = Field(default=None, description="Started campaigns: targets per status.")


class CampaignItem(BaseModel):
    campaign_id: str
    name: str
    status: CampaignStatus
    distribution: str
    start_at: datetime
    end_at: datetime
    created_by: str
    reviewed_by: str | None
    audience_size: int | None
    updated_at: datetime


class CampaignPage(BaseModel):
    items: list[CampaignItem]
    next_cursor: str | None


class SampleCustomer(BaseModel):
    customer_id: str
    stage: str | None
    user_region: str | None
    channel: str | None
    manager_id: str | None
    team_id: str | None


class AudiencePreview(BaseModel):
    size: int = Field(description="Customers the audience holds now, within the caller's data scope.")
    sample: list[SampleCustomer]


class HistoryEntry(BaseModel):
    version: int
    event: str
    at: datetime
    by: str | None
    status: CampaignStatus | None = None
    comment: str | None = None
    audience_size: int | None = None


class History(BaseModel):
    campaign_id: str
    items: list[HistoryEntry]


TargetStatus = Literal["targeted", "contacted", "reached", "interested", "declined", "converted"]
DeliveryStatus = Literal["requested", "sent", "failed", "delivered", "opened"]


class ChannelResult(BaseModel):
    channel: Literal["sms", "email", "in_app"]
    request_id: str
    status: DeliveryStatus
    requested_at: datetime
    at: datetime | None = Field(description="When the furthest step happened (business time).")
    reason_code: str | None = None


class TargetItem(BaseModel):
    customer_id: str
    follow_up_id: str
    manager_id: str | None
    team_id: str | None
    status: TargetStatus = "targeted"
    contacted_at: datetime | None = None
    reached_at: datetime | None = None
    response: Literal["interested", "declined"] | None = None
    converted_at: datetime | None = None
    conversion: str | None = Field(default=None, description="account_opened, funded or first_trade.")
    channels: list[ChannelResult] = Field(default_factory=list)


class TargetPage(BaseModel):
    items: list[TargetItem]
    next_cursor: str | None


class CostBody(BaseModel):
    """The campaign's whole cost so far (the latest entry counts)."""

    model_config = ConfigDict(extra="forbid")
    amount: Money = Field(ge=0)
    currency: Currency
    note: ShortText | None = None


class Figures(BaseModel):
    targeted: int
    account_opened: int = Field(description="Targets whose account opened within the attribution window.")
    funded: int = Field(description="Targets who first funded within the window.")
    first_trade: int = Field(description="Targets who first traded within the window.")
    converted: int = Field(description="Targets who reached any of the three within the window.")
    net_deposits: Decimal = Field(description="Deposits minus withdrawals of the targets within the window, in the "
                                              "brokerage's reporting currency (BROKERAGE_CURRENCY); movements in "
                                              "other currencies are never converted nor added in.")
    incremental_assets: Decimal = Field(description="The targets' total assets at the window's end (or now) "
                                                    "minus at its start, in the reporting currency (accounts valued "
                                                    "in others: `other_currencies`).")


class OtherCurrency(BaseModel):
    net_deposits: Decimal
    incremental_assets: Decimal


OTHER_CURRENCIES = ("What moved in currencies other than the reporting one, per currency (only those that moved); "
                    "never converted, never added to the amounts above.")


class IndicatorGroup(Figures):
    dimension: Literal["manager", "team", "segment"]
    key: str
    other_currencies: dict[str, OtherCurrency] = Field(default_factory=dict, description=OTHER_CURRENCIES)


class Indicators(Figures):
    campaign_id: str
    name: str
    status: CampaignStatus
    computed_at: datetime
    currency: str | None = Field(description="The reporting currency of the amounts (null: computed before amounts "
                                             "were split by currency; the next refresh sets it).")
    other_currencies: dict[str, OtherCurrency] = Field(default_factory=dict, description=OTHER_CURRENCIES)
    figures: dict[str, Any] = Field(description="window_start, window_end, currency; control (`kind` holdout: the customers "
                                                "held out at the start by the plan's control_pct; else "
                                                "untargeted_audience: the untargeted customers matching the audience "
                                                "filter now, null for a list of ids); lift "
                                                "per customer; tracking (contacted, reached, …; null until "
                                                "tracked); cost; attributable_assets; input_output_ratio "
                                                "(null unless the cost is in the reporting currency); "
                                                "cost_per_conversion (in the cost's currency). The control's and "
                                                "the lift's amounts are in the reporting currency too (the "
                                                "control's others: its other_currencies).")
    groups: list[IndicatorGroup]


class ReportItem(Figures):
    key: str
    campaigns: int


class Report(BaseModel):
    dimension: str
    currency: str = Field(description="The reporting currency: the items' amounts are the campaigns' amounts in "
                                      "it (other currencies are not converted and not included).")
    items: list[ReportItem]


class LogEntry(BaseModel):
    at: datetime
    action: str = Field(description="A campaign step (created, approved, started, closed, …) or a fact about a "
                                    "target (outreach_requested, outreach_delivered, follow_up_recorded, converted, …).")
    by: str | None = Field(default=None, description="Campaign steps: the CRM user id (None: the scheduler).")
    customer_id: str | None = Field(default=None, description="Facts about a target: the customer id.")
    detail: str | None = Field(default=None, description="Channel, metric, outcome or comment status (ids only).")


class CampaignLog(BaseModel):
    campaign_id: str
    items: list[LogEntry]
    truncated: bool = Field(description="More entries than `limit`: the CSV export has them all.")
