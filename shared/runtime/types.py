"""Field types shared by the services' API models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: both leave as aware UTC."""
    tz = value.tzinfo
    if tz is UTC:  # (PostgreSQL's readers hand back UTC already: most calls, e.g. 6 per customer list row)
        return value
    return value.replace(tzinfo=UTC) if tz is None else value.astimezone(UTC)


# A timestamp in a response: always with its offset, so it is an RFC 3339 `date-time` whatever the database.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
