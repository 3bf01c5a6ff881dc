"""Campaigns service settings (`CAMPAIGNS_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.runtime.settings import BrokerageSettings, OneDatabaseSettings, service_config

from .domain.review import DEFAULT_ROLE_LEVELS, ReviewPolicy


class CampaignsSettings(OneDatabaseSettings):
    model_config = service_config("CAMPAIGNS_")

    service_name: str = "campaigns"
    database_url: str = Field(default="sqlite:///var/campaigns/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8107
    worker_health_port: int = 8117
    # Same-level review: `peer` (the creator's level) or `above` (a higher level); levels per role.
    review_mode: Literal["peer", "above"] = "peer"
    role_levels: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_ROLE_LEVELS))
    # The scheduler: starts approved campaigns at their start time and closes them at their end time.
    scheduler_interval_s: float = Field(default=30.0, gt=0)
    # Indicators: recomputed by the scheduler's leader when older than this, while a window is open.
    indicators_interval_s: float = Field(default=86_400.0, gt=0)
    # Outreach (SMS, e-mail, in-app): at most this many targets' messages per campaign per scheduler tick.
    outreach_per_tick: int = Field(default=1000, ge=1, le=10_000)
    # Audience lists (CSV of customer ids): where an upload is spooled, its largest size, rows per transaction.
    list_dir: str = Field(default="var/campaigns/uploads", description="Temporary files of uploads in progress.")
    list_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest audience list (413).")
    list_chunk_rows: int = Field(default=5000, ge=1, le=50_000)
    preview_sample_size: int = Field(default=20, ge=0, le=200)
    page_max: int = Field(default=200, gt=0, le=1000)
    brokerage: BrokerageSettings = Field(
        default_factory=BrokerageSettings,
        description="BROKERAGE_CURRENCY: the currency of the indicators' amounts (others listed apart, never "
                    "converted); changing it takes effect at each campaign's next refresh.")

    def review_policy(self) -> ReviewPolicy:
        return ReviewPolicy(self.review_mode)
