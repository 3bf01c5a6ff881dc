"""Summary service settings (env prefix `SUMMARY_`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from shared.runtime.settings import BrokerageSettings, OneDatabaseSettings, known_zone, service_config


class SummarySettings(OneDatabaseSettings):
    model_config = service_config("SUMMARY_")

    service_name: str = "summary"
    database_url: str = Field(
        default="sqlite:///var/summary/readmodel.db",
        description="The service's one database: read models, positions and the event store of daily reports "
                    "and changelog (sqlite:///path or postgresql://…).")
    api_port: int = 8104
    worker_health_port: int = 8204
    timezone: str = Field(default_factory=lambda: BrokerageSettings().timezone,
                          description="The brokerage's time zone: what 'today' means (IANA name); defaults to the "
                                      "shared BROKERAGE_TIMEZONE (the customer service's days follow it too).")
    ensure_topics: bool = Field(default=True, description="Create the consumed topics if missing (dev, tests).")
    max_interval_days: int = Field(default=400, ge=1, description="Longest interval an analytics query may span.")

    _known_zone = field_validator("timezone")(lambda cls, value: known_zone(value))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
