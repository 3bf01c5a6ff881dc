"""Access service settings (`ACCESS_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from pydantic import Field

from shared.runtime.settings import OneDatabaseSettings, service_config


class AccessSettings(OneDatabaseSettings):
    model_config = service_config("ACCESS_")

    service_name: str = "access"
    database_url: str = Field(default="sqlite:///var/access/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8108
    worker_health_port: int = 8118
    page_max: int = Field(default=500, gt=0, le=1000, description="Largest page of a list.")
