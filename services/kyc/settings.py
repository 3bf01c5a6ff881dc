"""KYC service settings (`KYC_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from shared.runtime.settings import OneDatabaseSettings, service_config

from .domain.rules import (
    DEFAULT_REASONS,
    DEFAULT_REQUIRED_DOCUMENTS,
    DEFAULT_REQUIRED_FIELDS,
    CompletionRules,
    KycRules,
    ReasonCatalog,
    RiskRules,
    SlaRules,
)


class KycSettings(OneDatabaseSettings):
    model_config = service_config("KYC_")

    service_name: str = "kyc"
    database_url: str = Field(default="sqlite:///var/kyc/readmodel.db",
                              description="The service's one database: event store, read models, positions "
                                          "(sqlite:///path or postgresql://…).")
    api_port: int = 8105
    worker_health_port: int = 8115

    # Reasons reviewers may give (JSON object code -> label in KYC_REASONS).
    reasons: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REASONS))
    # Four-eyes rules (KYC_HIGH_RISK_COUNTRIES='["IR","KP"]', KYC_NET_WORTH_THRESHOLDS='{"USD":"5000000"}').
    high_risk_countries: list[str] = Field(default_factory=lambda: ["IR", "KP", "MM"])
    pep_is_high_risk: bool = True
    net_worth_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "USD": Decimal("5000000"),
            "HKD": Decimal("39000000"),
            "SGD": Decimal("6700000"),
        }
    )
    default_currency: str = "USD"
    # What "complete" means.
    required_documents: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIRED_DOCUMENTS))
    required_fields: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIRED_FIELDS))
    # SLA (seconds).
    sla_queue_seconds: int = Field(default=24 * 3600, gt=0)
    sla_review_seconds: int = Field(default=8 * 3600, gt=0)
    sla_second_review_seconds: int = Field(default=24 * 3600, gt=0)
    queue_page_max: int = Field(default=200, gt=0, le=1000)
    # Rights from the access service instead of the token's claims (issue #20): the worker consumes
    # crm.access.events into access_dir_* tables, the API asks them on every request
    # (`shared.runtime.access_directory`); an exited member is refused within refresh + consumer lag.
    access_directory: Literal["off", "shadow", "enforce"] = Field(
        default="off", description="off: the token's claims decide; shadow: they still do, differences from the "
                                   "directory are logged; enforce (or true): the directory decides.")
    access_refresh_s: float = Field(default=1.0, gt=0, le=60,
                                    description="How long an answer of the access directory is kept (s).")
    # Encrypt stored events at rest (storage references, declarations, reviewer notes): a base64 AES key,
    # e.g. `python -c "from eventsourcing.cryptography import AESCipher; print(AESCipher.create_key(32))"`.
    # Must stay the same for the life of the event store (rotation = re-encrypting copy, not a setting).
    eventstore_cipher_key: SecretStr | None = None

    @field_validator("access_directory", mode="before")
    @classmethod
    def _switch(cls, value: object) -> object:
        """A plain switch is accepted too: true/1/yes = enforce, false/0/no = off."""
        if isinstance(value, bool):
            return "enforce" if value else "off"
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return "enforce" if value.lower() in ("true", "1", "yes") else "off"
        return value

    def eventstore_env(self) -> dict[str, str]:
        if self.eventstore_cipher_key is None:
            return {}
        return {
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": self.eventstore_cipher_key.get_secret_value(),
        }

    def rules(self) -> KycRules:
        return KycRules(
            reasons=ReasonCatalog(dict(self.reasons)),
            risk=RiskRules(
                high_risk_countries=frozenset(c.upper() for c in self.high_risk_countries),
                pep_is_high_risk=self.pep_is_high_risk,
                net_worth_thresholds={k.upper(): Decimal(v) for k, v in self.net_worth_thresholds.items()},
                default_currency=self.default_currency.upper(),
            ),
            completion=CompletionRules(tuple(self.required_documents), tuple(self.required_fields)),
            sla=SlaRules(self.sla_queue_seconds, self.sla_review_seconds, self.sla_second_review_seconds),
        )
