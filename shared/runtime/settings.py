"""Settings: one object per service (its own env prefix), with shared `KAFKA_*`, `AUTH_*` and `BROKERAGE_*` groups.

Nothing connects at import time; settings are built at start-up by each service's bootstrap.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="Comma-separated host:port list.")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA bundle for SSL / SASL_SSL listeners.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(default=None, description="Client key (mutual TLS).")
    client_id_prefix: str = "whale"
    topic_prefix: str = Field(default="", description="Prefix for every topic name (test isolation).")
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_records: int = 1_000
    fetch_max_wait_ms: int = 200
    consumer_linger_ms: int = Field(default=50, ge=0, description=(
        "A consumer poll that returns less than a full batch waits this long for more records before the "
        "batch is applied: fewer, larger batches (each costs a transaction, its statements and a publish)."))
    linger_ms: int = 5
    request_timeout_ms: int = 30_000

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL / SASL_SSL listeners (CA bundle, client certificate), for every client."""
        if self.security_protocol not in ("SSL", "SASL_SSL"):
            return None
        from aiokafka.helpers import create_ssl_context

        return create_ssl_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
            certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
            keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None,
        )

    def client_kwargs(self) -> dict[str, object]:
        kw: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        ssl_context = self.ssl_context()
        if ssl_context is not None:
            kw["ssl_context"] = ssl_context
        if self.sasl_mechanism:
            kw.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password.get_secret_value() if self.sasl_password else None,
            )
        return kw


class AuthSettings(BaseSettings):
    """JWT bearer tokens issued by the frontend gateway."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 shared secret (development only)."
    )
    jwt_public_key_file: Path | None = Field(default=None, description="RS256 public key (PEM).")
    jwks_file: Path | None = Field(default=None, description="RS256 JWKS document (key rotation).")
    jwks_url: str | None = Field(
        default=None, description="RS256 keys from an OpenID Connect provider's JWKS endpoint (e.g. Dex's "
                                  "http://127.0.0.1:5556/dex/keys): cached, fetched again when a token names a key "
                                  "it does not have (the provider rotated its keys).")
    jwks_refresh_cooldown_s: float = Field(
        default=10.0, ge=0, description="Least time between two fetches of the JWKS caused by an unknown key id "
                                        "(tokens naming made-up keys cannot make the services hammer the provider).")
    max_token_lifetime_s: int = Field(
        default=12 * 3600, gt=0, description="A token valid longer than this (`exp` - `iat`) is refused (401).")
    user_claim: str = Field(
        default="sub", description="Claim naming the caller (their staff id in the access service): `sub`, or "
                                   "e.g. `name` for a provider whose `sub` is opaque.")
    dev_jwt_secret: SecretStr | None = Field(
        default=None, description="Development only (`make run` beside its OpenID Connect provider): with RS256, "
                                  "HS256 tokens signed with this secret and issued by `dev_jwt_issuer` are accepted "
                                  "too (the development sign-in, seeding, ready-made tokens). Never set in production.")
    dev_jwt_issuer: str = "whale-gateway"
    jwt_issuer: str = "whale-gateway"
    jwt_audience: str = "whale-crm"
    leeway_seconds: int = 30


class BrokerageSettings(BaseSettings):
    """Facts about the brokerage every service shares (env prefix `BROKERAGE_`)."""

    model_config = SettingsConfigDict(env_prefix="BROKERAGE_", extra="ignore")

    timezone: str = Field(default="UTC", description="The brokerage's time zone (IANA name): what a day is — "
                                                     "today's summary, end-of-day asset values.")

    phone_hash_key: SecretStr = Field(
        default=SecretStr("whale-dev-phone-hash-key"),
        description="Key of the phone numbers' match hash (shared.runtime.phones), the same in every service; "
                    "set a secret of its own in production (changing it needs `ops rebuild` of what keeps hashes).")

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$",
                          description="The brokerage's reporting currency (ISO 4217). Amounts summed across "
                                      "customers (a campaign's net deposits and incremental assets) are those in it; "
                                      "amounts in other currencies are never converted nor added to them, but "
                                      "reported per currency beside them.")

    _known_zone = field_validator("timezone")(lambda cls, value: known_zone(value))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def known_zone(value: str) -> str:
    """An IANA time zone name, or ValueError (a settings validator)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class AuditEmitSettings(BaseSettings):
    """How a service's API delivers its audit records (env prefix `AUDIT_EMIT_`, shared by every service)."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_EMIT_", extra="ignore")

    enabled: bool = Field(default=True, description="Publish audit records (off only in unit/in-process tests).")
    queue_size: int = Field(default=10_000, ge=1, description="Records held in memory before spooling.")
    batch_size: int = Field(default=500, ge=1, description="Records per publish.")
    publish_timeout_s: float = Field(default=15.0, gt=0, description="A publish slower than this spools its batch.")
    spool_retry_s: float = Field(default=5.0, gt=0, description="How often the spool is re-published.")
    spool_alert: int = Field(default=10_000, ge=1, description="Spooled records above which ERROR is logged.")
    write_ahead_hold_s: float = Field(default=120.0, gt=0, description="How long a write's provisional record "
                                      "(written ahead in its transaction) waits for the final one before it is "
                                      "published itself (its process ended first).")


# Services whose event store and read models share `<NAME>_DATABASE_URL` (one transaction per batch, docs/pipeline.md):
# all of them (`OneDatabaseSettings` refuses a `<NAME>_EVENTSTORE_URL` that differs).
ONE_DATABASE_SERVICES = frozenset({"customer", "assignment", "kyc", "usercrm", "summary", "tasks", "campaigns", "access",
                                   "audit"})


class ServiceSettings(BaseSettings):
    """Base of each service's settings. Subclasses set `model_config = service_config("CUSTOMER_")`."""

    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore")

    service_name: str = "service"
    database_url: str = Field(
        default="sqlite:///var/service/readmodel.db", description="SQLAlchemy URL of the read-model database."
    )
    eventstore_url: str = Field(
        default="sqlite:///var/service/eventstore.db",
        description="Event store: sqlite:///path or postgresql://user:pass@host/db.",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_health_port: int = 8001
    log_level: str = "INFO"
    consumer_batch_size: int = 500
    consumer_retries: int = 3
    relay_interval_ms: int = 100
    relay_batch_size: int = 500
    cursor_secret: SecretStr | None = Field(
        default=None, min_length=16,
        description="Key that signs list cursors, the same for every replica (required with RS256 tokens; "
                    "with HS256 the default is derived from AUTH_JWT_SECRET).")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted (413).")
    gc_gen0_threshold: int = Field(default=10_000, ge=100, description=(
        "Allocations between two young garbage collections (CPython's default 700; see shared.runtime.gc_tuning)."))
    gc_freeze: bool = Field(default=True, description=(
        "Freeze what start-up built, so that no full garbage collection walks it again (gc.freeze)."))
    idempotency_retention_hours: int = Field(default=24, ge=1, description="How long Idempotency-Keys are kept.")
    # Rights from the access service instead of the token's claims (issue #20): the worker consumes
    # crm.access.events into access_dir_* tables, the API asks them on every request
    # (`shared.runtime.access_directory`); an exited member is refused within refresh + consumer lag.
    # `make run` and the end-to-end stack run every service with `enforce`; off stays the default of a service
    # started bare (tests, a deployment without the access service).
    access_directory: Literal["off", "shadow", "enforce"] = Field(
        default="off", description="off: the token's claims decide; shadow: they still do, differences from the "
                                   "directory are logged; enforce (or true): the directory decides.")
    access_refresh_s: float = Field(default=1.0, gt=0, le=60,
                                    description="How long an answer of the access directory is kept (s).")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    audit_emit: AuditEmitSettings = Field(default_factory=AuditEmitSettings)

    @field_validator("access_directory", mode="before")
    @classmethod
    def _directory_switch(cls, value: object) -> object:
        """A plain switch is accepted too: true/1/yes = enforce, false/0/no = off."""
        if isinstance(value, bool):
            return "enforce" if value else "off"
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return "enforce" if value.lower() in ("true", "1", "yes") else "off"
        return value


class OneDatabaseSettings(ServiceSettings):
    """Settings of a service in `ONE_DATABASE_SERVICES`: `database_url` holds its event store, read models and
    positions; an `eventstore_url` is accepted only when it is the same URL (the k8s manifests set both from
    the service's one database secret) and refused otherwise, so that no deployment keeps writing a store
    the service no longer reads."""

    eventstore_url: str | None = Field(  # type: ignore[assignment]
        default=None, description="Gone: the event store lives in `database_url`. Accepted only when equal to it "
                                  "(migrating to one database: the service's README).")

    @model_validator(mode="after")
    def _one_database(self) -> OneDatabaseSettings:
        if self.eventstore_url not in (None, "", self.database_url):
            name = self.service_name.upper()
            raise ValueError(f"{name}_EVENTSTORE_URL is no longer used: the event store and the read models share "
                             f"{name}_DATABASE_URL (see services/{self.service_name}/README.md, 'migrating to one "
                             "database')")
        return self


def service_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore")
