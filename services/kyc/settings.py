"""KYC service settings (`KYC_*` environment variables; shared `KAFKA_*` and `AUTH_*`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr

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
    # Encrypt stored events at rest (storage references, declarations, reviewer notes): a base64 AES key,
    # e.g. `python -c "from eventsourcing.cryptography import AESCipher; print(AESCipher.create_key(32))"`.
    # Must stay the same for the life of the event store (rotation = re-encrypting copy, not a setting).
    eventstore_cipher_key: SecretStr | None = None

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
