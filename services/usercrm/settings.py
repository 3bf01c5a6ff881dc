"""User CRM settings (`USERCRM_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from shared.runtime.settings import OneDatabaseSettings, service_config

from .domain.approval import ApprovalRules

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "welcome": {"subject": "Welcome to {brand}", "body": "Hello {name}, welcome to {brand}. Your manager is here to help."},
    "kyc_reminder": {"subject": "Complete your profile",
                     "body": "Hello {name}, your account opening is waiting for a few documents."},
    "funding_reminder": {"subject": "Fund your account", "body": "Hello {name}, your account is open: fund it to start trading."},
    "free_text": {"subject": "{subject}", "body": "{text}"},
}


class UsercrmSettings(OneDatabaseSettings):
    model_config = service_config("USERCRM_")

    service_name: str = "usercrm"
    database_url: str = Field(default="sqlite:///var/usercrm/readmodel.db",
                              description="The service's one database: event store, read models, intake journal, "
                                          "positions (sqlite:///path or postgresql://…).")
    api_port: int = 8106
    worker_health_port: int = 8116

    # Maker-checker (USERCRM_APPROVAL_THRESHOLDS='{"USD":"10000","HKD":"78000"}'): money-moving requests above
    # the amount of their currency need a second person's approval; other currencies use the default.
    approval_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {"USD": Decimal("10000"), "HKD": Decimal("78000"), "SGD": Decimal("13500")})
    approval_default_threshold: Decimal = Field(default=Decimal("10000"), gt=0)
    # Message templates (USERCRM_MESSAGE_TEMPLATES='{"id": {"subject": "...", "body": "Hello {name}"}}').
    message_templates: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    brand: str = "Whale Securities"
    page_max: int = Field(default=500, gt=0, le=5000)

    def approval_rules(self) -> ApprovalRules:
        return ApprovalRules(thresholds={k.upper(): Decimal(v) for k, v in self.approval_thresholds.items()},
                             default_threshold=self.approval_default_threshold)
