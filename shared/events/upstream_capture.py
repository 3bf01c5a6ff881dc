"""What the brokerage's telephony and SMS systems publish: the staff's calls and text messages with customers
(captured service actions). Keyed by the call / message id: a capture names the customer by id when the
system knows it, else by the phone number dialled or texted (personal data: consumers never log it; the
tasks service matches it through a keyed hash, `shared.runtime.phones`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from . import topics
from .registry import Payload, registry
from .types import CustomerId, EntityId, ShortText

Phone = Field(default=None, min_length=4, max_length=32, pattern=r"^\+?[0-9 ()\-.]+$",
              description="The customer's phone number as dialled (personal data), E.164 preferred "
                          "(`+85291234567`); used when customer_id is not given.")


class CallDirection(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class CallOutcome(StrEnum):
    answered = "answered"
    no_answer = "no_answer"
    busy = "busy"
    voicemail = "voicemail"
    failed = "failed"


class SmsStatus(StrEnum):
    sent = "sent"
    delivered = "delivered"
    failed = "failed"


class _Party(Payload):
    """The customer of a capture: their id when the system knows them, else their phone number (or both)."""

    customer_id: CustomerId | None = Field(default=None, description="The customer, when the system knows them.")
    customer_phone: str | None = Phone

    @model_validator(mode="after")
    def _someone(self):  # type: ignore[no-untyped-def]
        if not self.customer_id and not self.customer_phone:
            raise ValueError("customer_id or customer_phone is required")
        return self


@registry.contract("telephony.call_captured", version=1, topic=topics.TELEPHONY, key="call_id")
class CallCaptured(_Party):
    """A call between a staff member and a customer ended (answered or not)."""

    call_id: EntityId = Field(description="The telephony system's call id (one capture per call).")
    staff_id: EntityId = Field(description="The CRM staff member (account manager) on the call.")
    direction: CallDirection
    started_at: AwareDatetime
    duration_s: int = Field(ge=0, le=86_400, description="Talk time in seconds (0 when not answered).")
    outcome: CallOutcome
    recording_ref: ShortText | None = Field(default=None, description="Reference of the recording, if any.")


@registry.contract("sms.message_captured", version=1, topic=topics.SMS, key="message_id")
class SmsCaptured(_Party):
    """A text message a staff member sent to a customer, with its delivery state."""

    message_id: EntityId = Field(description="The SMS gateway's message id (one capture per message).")
    staff_id: EntityId = Field(description="The CRM staff member who sent it.")
    status: SmsStatus = Field(description="sent, or delivered / failed when the gateway reported it.")
    sent_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
