"""Audit store settings (`AUDIT_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

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
    # Failed logins at the identity provider (services/audit/signins.py): collected when the URL and the secret
    # are set.
    keycloak_url: str | None = Field(default=None, description="Keycloak's base URL (e.g. https://sso.example); "
                                                               "with the secret, its failed logins are audited.")
    keycloak_realm: str = Field(default="whale", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    keycloak_client_id: str = Field(default="whale-crm-audit", description="A confidential client whose service "
                                    "account may view events and users (realm-management view-events, view-users).")
    keycloak_client_secret: SecretStr | None = None
    keycloak_staff_attribute: str = Field(default="staff_id", description="The user attribute holding the staff id.")
    keycloak_poll_s: float = Field(default=30.0, gt=0, description="How often the failed logins are collected.")
    keycloak_lookback_s: float = Field(default=86_400.0, ge=0, description="How far back the first poll after a "
                                       "start reads (what was collected already is stored once).")
    keycloak_startup_grace_s: float = Field(default=120.0, ge=0, description="Until Keycloak first answers, "
                                            "failures within this long after the start are warnings, not a stall.")
    export_max_rows: int = Field(default=100_000, gt=0, description="Most rows one CSV export streams.")
