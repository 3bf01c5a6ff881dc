"""The one envelope every event on every topic travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class Envelope(BaseModel):
    """Metadata common to every event, with the event's payload.

    Serialised as one JSON object per Kafka record. The record key is `partition_key`
    (the customer id for customer events) so that one customer's events stay in order. Fields are only
    ever added: a consumer keeps envelope fields it does not know (they travel on with the envelope).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers de-duplicate on it.")
    event_type: str = Field(
        min_length=3,
        max_length=120,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
        description="Dotted event type, e.g. `registration.customer_registered`.",
    )
    schema_version: int = Field(ge=1, strict=True, description="Version of the payload schema for this event type.")
    occurred_at: AwareDatetime = Field(description="When the fact happened, UTC (ISO 8601 with offset).")
    producer: str = Field(min_length=1, max_length=120, description="System or service that produced it.")
    correlation_id: str | None = Field(
        default=None, max_length=200, description="Id shared by every event and request of one business flow."
    )
    causation_id: str | None = Field(
        default=None, max_length=200, description="Event id (or request id) that directly caused this event."
    )
    partition_key: str = Field(
        min_length=1, max_length=200, description="Kafka record key; the customer id for customer events."
    )
    payload: dict[str, Any] = Field(description="The event's payload, as defined by its type and version.")

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


def utcnow() -> datetime:
    return datetime.now(UTC)
