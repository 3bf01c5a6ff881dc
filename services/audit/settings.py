"""Audit store settings (`AUDIT_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from pydantic import Field

from shared.runtime.settings import OneDatabaseSettings, service_config


class AuditSettings(OneDatabaseSettings):
    model_config = service_config("AUDIT_")

    service_name: str = "audit"
    database_url: str = Field(default="sqlite:///var/audit/readmodel.db",
                              description="The service's one database: records, chain, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8110
    worker_health_port: int = 8120
    retention_days: int = Field(default=2555, ge=0,
                                description="Records older than this are pruned (0 keeps every record); the "
                                            "chain stays verifiable from an anchor (the last pruned hash).")
    prune_interval_s: float = Field(default=3600.0, gt=0, description="How often the worker prunes.")
    anchor_interval_s: float = Field(default=3600.0, ge=0,
                                     description="How often the worker publishes the chain's head to "
                                                 "crm.audit.anchors when it moved (0: never; verification then "
                                                 "has no anchors to compare).")
    page_max: int = Field(default=500, gt=0, le=1000, description="Largest page of the records list.")
    export_max_rows: int = Field(default=100_000, gt=0, description="Most rows one CSV export streams.")
