"""`crm.campaigns.events`: what the campaigns service publishes (through its outbox).

A campaign's life is planning (created, updated), review by a peer (submitted, approved, rejected), and
execution (started with its audience frozen, one follow-up requested per targeted customer, closed at its end
time). Campaign events are keyed by campaign id; a target's follow-up request by customer id, so it is
ordered with the customer's other facts.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import topics
from .crm_customer import Stage
from .crm_usercrm import MessageChannel
from .registry import Payload, registry
from .types import CountryCode, Currency, CustomerId, EntityId, LongText, Money, ShortText


class CampaignStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    running = "running"
    closed = "closed"


class DistributionMethod(StrEnum):
    """Who follows each targeted customer up."""

    assigned_manager = "assigned_manager"  # the customer's assigned manager (the team queue when unassigned)
    team_queue = "team_queue"  # the team's queue, for its lead to distribute
    round_robin = "round_robin"  # the team's active managers in turn
    least_loaded = "least_loaded"  # the team's active manager holding the fewest customers


class Channel(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"
    in_app = "in_app"


class Metric(StrEnum):
    account_opened = "account_opened"
    funded = "funded"
    first_trade = "first_trade"
    incremental_assets = "incremental_assets"
    net_deposits = "net_deposits"


class ChannelMessage(Payload):
    """What a messaging channel (SMS, e-mail, in-app) sends each target: the same text for all (no personal
    data in it; the platform addresses it to the customer)."""

    channel: MessageChannel
    template_id: EntityId = Field(description="The platform's template the text belongs to.")
    subject: ShortText | None = Field(default=None, description="e-mail / in-app: the subject line.")
    body: LongText = Field(min_length=1, description="The text to deliver (never logged).")


class ExecutionCounts(Payload):
    """Targets per execution status (each target counted once, under its furthest status)."""

    targeted: int = Field(ge=0, description="Not contacted yet.")
    contacted: int = Field(ge=0)
    reached: int = Field(ge=0)
    interested: int = Field(ge=0)
    declined: int = Field(ge=0)
    converted: int = Field(ge=0)


class AudienceFilter(Payload):
    """Who a campaign targets: customers matching every given attribute (an empty list matches all), or the
    listed customer ids, or the members of an uploaded audience list (then the attributes are ignored)."""

    stages: list[Stage] = Field(default_factory=list, max_length=10, description="Lifecycle stages.")
    user_regions: list[CountryCode] = Field(default_factory=list, max_length=300)
    active_regions: list[CountryCode] = Field(default_factory=list, max_length=300)
    channels: list[ShortText] = Field(default_factory=list, max_length=100, description="Registration channels.")
    languages: list[ShortText] = Field(default_factory=list, max_length=50)
    team_ids: list[EntityId] = Field(default_factory=list, max_length=100, description="Assigned teams.")
    manager_ids: list[EntityId] = Field(default_factory=list, max_length=1000, description="Assigned managers.")
    assigned: bool | None = Field(default=None, description="Only assigned (true) or unassigned (false) customers.")
    tags: list[ShortText] = Field(default_factory=list, max_length=50, description="Customers with any of these tags.")
    customer_ids: list[CustomerId] = Field(default_factory=list, max_length=10_000,
                                           description="An explicit list of customer ids (a short one).")
    list_id: EntityId | None = Field(default=None, description="An uploaded audience list (up to 1,000,000 ids: "
                                                               "POST /campaigns/audience-lists), once validated; "
                                                               "then the attributes are ignored.")
    segment_id: EntityId | None = Field(
        default=None, description="Customers in this saved segment of the customer service (its "
                                  "`crm.customer.segment_membership_changed` facts), with the other attributes.")


class CampaignPlan(Payload):
    """What a campaign is planned to be: its editable fields."""

    name: ShortText = Field(min_length=1)
    purpose: LongText | None = None
    start_at: AwareDatetime
    end_at: AwareDatetime = Field(description="After start_at; the campaign closes automatically then.")
    audience: AudienceFilter
    distribution: DistributionMethod
    team_id: EntityId | None = Field(default=None, description="The team of team_queue, round_robin, least_loaded "
                                                                "(and the queue of unassigned customers).")
    channels: list[Channel] = Field(min_length=1, max_length=4)
    metrics: list[Metric] = Field(min_length=1, max_length=5)
    attribution_window_days: int = Field(ge=1, le=365, description="Days after a contact a conversion counts.")
    control_pct: int = Field(default=0, ge=0, le=50,
                             description="Hold-out control group: this percentage of the audience (each customer by a "
                                         "hash of the campaign and customer ids, fixed at the start) is not targeted "
                                         "and is what the evaluation compares the targets with; 0: no hold-out.")
    messages: list[ChannelMessage] = Field(
        default_factory=list, max_length=3,
        description="The text of each messaging channel (sms, email, in_app) among `channels`; a channel without "
                    "one sends nothing (phone outreach is the manager's follow-up).")


@registry.contract("crm.campaigns.campaign_created", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignCreated(Payload):
    """A campaign was created as a draft."""

    campaign_id: EntityId
    plan: CampaignPlan
    created_by: ShortText
    created_at: AwareDatetime


@registry.contract("crm.campaigns.campaign_updated", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignUpdated(Payload):
    """A campaign's plan was edited (an approved campaign goes back to review)."""

    campaign_id: EntityId
    plan: CampaignPlan
    updated_by: ShortText
    updated_at: AwareDatetime
    status: CampaignStatus = Field(description="The campaign's status after the edit.")


@registry.contract("crm.campaigns.campaign_submitted", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignSubmitted(Payload):
    """A campaign was submitted for review."""

    campaign_id: EntityId
    submitted_by: ShortText
    submitted_at: AwareDatetime


@registry.contract("crm.campaigns.campaign_approved", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignApproved(Payload):
    """A peer of the creator approved the campaign."""

    campaign_id: EntityId
    reviewed_by: ShortText
    reviewed_at: AwareDatetime
    comment: LongText | None = None


@registry.contract("crm.campaigns.campaign_rejected", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignRejected(Payload):
    """A peer of the creator rejected the campaign, with the reason."""

    campaign_id: EntityId
    reviewed_by: ShortText
    reviewed_at: AwareDatetime
    comment: LongText = Field(min_length=1)


@registry.contract("crm.campaigns.campaign_started", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignStarted(Payload):
    """A campaign started: its audience is frozen (`crm.campaigns.targets_frozen`)."""

    campaign_id: EntityId
    started_by: ShortText | None = Field(default=None, description="CRM user id; None when the scheduler started it.")
    started_at: AwareDatetime
    end_at: AwareDatetime
    audience_size: int = Field(ge=0)


@registry.contract("crm.campaigns.targets_frozen", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class TargetsFrozen(Payload):
    """The audience of a started campaign, frozen with its size: one follow-up per target follows."""

    campaign_id: EntityId
    audience_size: int = Field(ge=0)
    distribution: DistributionMethod
    frozen_at: AwareDatetime


@registry.contract("crm.campaigns.target_follow_up_requested", version=1, topic=topics.CRM_CAMPAIGNS)
class TargetFollowUpRequested(Payload):
    """A targeted customer is to be followed up for a campaign, by a manager or by a team's queue. One per
    customer per campaign: `follow_up_id` is derived from both, and the envelope's id from the stored event."""

    customer_id: CustomerId
    campaign_id: EntityId
    follow_up_id: EntityId
    manager_id: EntityId | None = Field(default=None, description="None: the team's queue.")
    team_id: EntityId | None = None
    channels: list[Channel] = Field(min_length=1, max_length=4)
    requested_at: AwareDatetime
    due_at: AwareDatetime = Field(description="The campaign's end time.")


@registry.contract("crm.campaigns.outreach_request", version=1, topic=topics.CRM_CAMPAIGNS_REQUESTS)
class OutreachRequest(Payload):
    """A campaign asks the platform to send one message to one target on one channel. `request_id` is derived
    from campaign, customer and channel: a re-publication or a replay never sends a second message. The platform
    answers on `brokerage.outreach_results` (`outreach.result`) with the same `request_id`."""

    request_id: EntityId
    campaign_id: EntityId
    customer_id: CustomerId
    channel: MessageChannel
    template_id: EntityId
    subject: ShortText | None = None
    body: LongText = Field(description="The text to deliver (never logged).")
    requested_at: AwareDatetime


@registry.contract("crm.campaigns.campaign_closed", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignClosed(Payload):
    """A campaign closed: at its end time (the scheduler) or by hand. No new outreach after it."""

    campaign_id: EntityId
    closed_by: ShortText | None = Field(default=None, description="CRM user id; None when closed at its end time.")
    closed_at: AwareDatetime
    reason: ShortText = Field(description="end_time or manual.")
    audience_size: int = Field(ge=0)
    final_counts: ExecutionCounts | None = Field(default=None, description="The execution figures frozen at the close.")


@registry.contract("crm.campaigns.cost_recorded", version=1, topic=topics.CRM_CAMPAIGNS, key="campaign_id")
class CampaignCostRecorded(Payload):
    """The campaign's cost as its owner entered it (the whole cost so far: the latest one counts), the input of
    its input-output ratio."""

    campaign_id: EntityId
    amount: Money = Field(ge=0)
    currency: Currency
    note: ShortText | None = None
    recorded_by: ShortText
    recorded_at: AwareDatetime
