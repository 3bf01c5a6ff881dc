"""Settings of the customer service (env prefix `CUSTOMER_`, shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from pydantic import Field

from shared.runtime.settings import BrokerageSettings, OneDatabaseSettings, service_config


class CustomerSettings(OneDatabaseSettings):
    model_config = service_config("CUSTOMER_")

    service_name: str = "customer"
    database_url: str = Field(default="sqlite:///var/customer/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8101
    worker_health_port: int = 8111
    snapshot_interval: int = Field(default=100, ge=10, description="Customer snapshot every N events.")
    aggregate_cache_size: int = Field(default=20_000, ge=0,
                                      description="Aggregates kept in memory by the ingest consumer.")
    consumer_group_suffix: str = Field(
        default="", max_length=40, pattern=r"^[A-Za-z0-9_.\-]*$",
        description="Appended to the consumer group ids; a rebuild by replaying the topics into a new event store "
                    "uses a new suffix, so it starts from the beginning instead of the group's committed offsets.")
    projection_batch_size: int = 1000
    list_max_limit: int = 200
    export_max_rows: int = Field(default=500_000, description="Upper bound of one CSV export.")
    export_page_size: int = 2000
    brokerage: BrokerageSettings = Field(
        default_factory=BrokerageSettings,
        description="BROKERAGE_TIMEZONE: the local day of the daily asset series (end of day); changing it needs "
                    "`ops rebuild customer`.")
    asset_series_max_days: int = Field(default=731, ge=1, description="Longest span of one daily asset series call.")
