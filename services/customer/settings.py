"""Settings of the customer service (env prefix `CUSTOMER_`, shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, SecretStr, field_validator

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
    asset_band_edges: list[Decimal] = Field(
        default_factory=lambda: [Decimal(10_000), Decimal(100_000), Decimal(1_000_000)],
        description="Edges of the asset bands (`asset_band`, `ada_band` filters), in `band_currency`, strictly "
                    "increasing (JSON list): 10000, 100000, 1000000 → <10k, 10k–100k, 100k–1M, ≥1M. Saved segments "
                    "name bands by their bounds: changing the edges leaves a segment naming a gone band unmatched.")
    band_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$",
                               description="The brokerage's currency: the bands' (a customer valued in another "
                                           "currency is in no band).")

    @field_validator("asset_band_edges")
    @classmethod
    def _edges(cls, value: list[Decimal]) -> list[Decimal]:
        from .domain.bands import bands

        bands(value)  # ValueError when not positive and strictly increasing
        return value

    def bands(self) -> list[Any]:
        from .domain.bands import bands

        return bands(self.asset_band_edges)

    segment_eval_s: float = Field(default=2.0, gt=0, description="How often the segment evaluator looks for "
                                                                 "changed customers and segments (segment_eval.py).")
    segment_chunk: int = Field(default=500, ge=1, le=10_000,
                               description="Customers evaluated and saved per transaction by the segment evaluator.")

    match_key: SecretStr | None = Field(
        default=None, description="Secret of the match index's keyed hashes (HMAC-SHA256 of ID numbers, customer "
                                  "numbers, verified phones, name + date of birth); 16+ characters. Without it "
                                  "(development, HS256 tokens only) it is derived from AUTH_JWT_SECRET. Changing "
                                  "it needs `ops rebuild customer`.", min_length=16)

    def match_secret(self) -> bytes:
        """The match index's key. Without CUSTOMER_MATCH_KEY and an HS256 secret to derive one from, a fixed
        development key (WARNING `match_key_development`): set CUSTOMER_MATCH_KEY in production (the
        manifests take it from the Secret `customer-match-key`)."""
        from shared.runtime.logging import get_logger

        from .domain.matching import DEV_MATCH_KEY, match_key

        fallback = self.auth.jwt_secret if self.auth.jwt_algorithm == "HS256" else None
        key = match_key(self.match_key.get_secret_value() if self.match_key else None,
                        fallback.get_secret_value() if fallback else None)
        if key is None:
            get_logger("customer.settings").warning("match_key_development", variable="CUSTOMER_MATCH_KEY")
            return DEV_MATCH_KEY
        return key
    wealth_reminder_days: int = Field(default=3, ge=0, le=90,
                                      description="A wealth calendar event's reminder (a task for the customer's "
                                                  "owner) is published this many days before its day.")
    wealth_reminder_interval_s: float = Field(default=300.0, gt=0,
                                              description="How often the worker's leader looks for due reminders.")
    import_dir: str = Field(default="var/customer/imports",
                            description="Where uploaded import files are kept (the API writes, the worker reads: "
                                        "one volume shared by both in a deployment).")
    import_max_bytes: int = Field(default=500 * 1024 * 1024, ge=1024, description="Largest import file (413).")
    import_chunk_rows: int = Field(default=2000, ge=1, le=20_000,
                                   description="Rows of an import saved per transaction (one checkpoint).")
    import_poll_s: float = Field(default=2.0, gt=0, description="How often the worker looks for new import jobs.")
    import_processes: int = Field(default=2, ge=1, le=16,
                                  description="On PostgreSQL, the processes that import a file, each its lanes of "
                                              "the rows (the worker and import_processes - 1 it starts): a job is "
                                              "cut into this many lanes when uploaded. On SQLite, one (its one "
                                              "writer at a time would make more wait on each other).")
    import_id_key: SecretStr = Field(
        default=SecretStr("whale-crm-import-identity"),
        description="Key of the hash that gives an imported row without a customer_id its customer id (from its ID "
                    "document, e-mail or phone). Set it once per deployment and never change it: another key gives "
                    "the same people new ids.")
