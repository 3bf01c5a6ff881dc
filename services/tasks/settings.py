"""Settings of the tasks service (`TASKS_*`, plus the shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from shared.runtime.settings import BrokerageSettings, OneDatabaseSettings, service_config


class TasksSettings(OneDatabaseSettings):
    model_config = service_config("TASKS_")

    service_name: str = "tasks"
    database_url: str = Field(default="sqlite:///var/tasks/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8103
    worker_health_port: int = 8113

    # faust-streaming: how long an agent waits to fill a batch before processing what it has (50 ms keeps
    # up with 1,000 events/s on the 2-core CI box where 20 ms fell behind: fewer, larger transactions).
    batch_window_ms: int = Field(default=50, ge=1, le=5_000)
    faust_rebalance_timeout_s: float = Field(default=10.0, gt=0)
    faust_commit_interval_s: float = Field(default=5.0, gt=0)
    faust_datadir: str = Field(default="var/tasks/faust", description="faust's data directory (the memory store "
                               "keeps nothing there but its version marker).")

    # Due times per task node (hours after the event that caused the task).
    due_hours: dict[str, float] = Field(
        default_factory=lambda: {
            "tmt_registration": 24,
            "pending_account_opening": 24,
            "pending_funding": 48,
            "funded": 72,
            "first_trade": 24,
            "large_withdrawal": 4,
            "account_rejected": 8,
            "kyc_more_info": 24,
        },
        description="Hours from the causing event to the task's due time, per node.",
    )
    # A withdrawal at or above the threshold of its currency is worth a call. Currencies without a
    # threshold never trigger the task (amounts are not compared across currencies).
    large_withdrawal_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "USD": Decimal("10000"),
            "HKD": Decimal("78000"),
            "SGD": Decimal("13500"),
            "EUR": Decimal("9000"),
            "GBP": Decimal("8000"),
            "CNY": Decimal("70000"),
        }
    )
    readmodel_async_commit: bool = Field(
        default=True, description="PostgreSQL: synchronous_commit=off for the SQLAlchemy engine's transactions (the "
                                  "customer cards: idempotent, positions with the rows); the event store's "
                                  "transactions, and the rows folded in them, stay synchronous."
    )
    list_max_limit: int = 200
    batch_remarks_max: int = 200
    brokerage: BrokerageSettings = Field(
        default_factory=BrokerageSettings,
        description="BROKERAGE_PHONE_HASH_KEY: matches captured calls and SMS to customers by the keyed hash of "
                    "the number; BROKERAGE_TIMEZONE: the day of the captures' reconciliation.")
