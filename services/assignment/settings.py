"""Assignment service settings (`ASSIGNMENT_*`, plus the shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.runtime.settings import OneDatabaseSettings, service_config


class AssignmentSettings(OneDatabaseSettings):
    model_config = service_config("ASSIGNMENT_")

    service_name: str = "assignment"
    database_url: str = Field(default="sqlite:///var/assignment/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    consumer_group_suffix: str = Field(
        default="", max_length=40, pattern=r"^[A-Za-z0-9_.\-]*$",
        description="Appended to the consumer group ids; a rebuild of the customer table by replaying "
                    "crm.customer.events uses a new suffix, so it starts from the beginning.")
    api_port: int = 8102
    worker_health_port: int = 8112
    default_protection_days: int = Field(default=7, ge=1, le=365,
                                         description="Protection period of managers without a team.")
    reclaim_interval_s: float = Field(default=60.0, gt=0, description="How often the reclaim scheduler runs.")
    reclaim_batch_size: int = Field(default=500, ge=1, le=10_000)
    reclaim_grace_s: float = Field(default=300.0, ge=0, le=86_400,
                                   description="A slot is reclaimed this long after its protection expired, so "
                                               "a follow-up still in flight on crm.tasks.events is not lost.")
    reclaim_policy: Literal["pool", "reroute"] = Field(
        default="pool", description="What a reclaim does with a customer of a team without its own reclaim_policy: "
                                    "pool (waits unassigned) or reroute (routed again by the rules, never back to "
                                    "the manager who lost it unless no one else is eligible).")
    pool_sla_minutes: int = Field(default=240, ge=1, le=525_600,
                                  description="A team pool's SLA (minutes a queued customer may wait for the "
                                              "lead to distribute it) for teams without their own.")
    bulk_max_customers: int = Field(default=20_000, ge=1, le=100_000,
                                    description="Largest bulk assignment accepted in one command.")
    max_body_bytes: int = Field(default=4 * 1_048_576, ge=1024,
                                description="Largest request body accepted (a bulk assignment of 20,000 ids).")
    bulk_chunk_size: int = Field(default=500, ge=1, le=5_000,
                                 description="Customers saved per event-store transaction in a bulk command.")
    handover_wait_s: float = Field(default=10.0, ge=0,
                                   description="How long a resign request waits for the read model to list "
                                               "every customer to hand over (the sweeper finishes the rest).")
