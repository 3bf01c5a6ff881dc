"""Contract registry: event types, schema versions, upcasters, strict decoding."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .envelope import Envelope, new_event_id, utcnow


class ContractError(ValueError):
    """An event that does not satisfy its contract. `field` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Payload(BaseModel):
    """Base of every payload: strict (unknown fields rejected), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    TOPIC: ClassVar[str]
    KEY: ClassVar[str]


P = TypeVar("P", bound=type[Payload])


@dataclass(frozen=True)
class Contract:
    event_type: str
    version: int
    topic: str
    key_field: str
    model: type[Payload]

    @property
    def description(self) -> str:
        return (self.model.__doc__ or "").strip()


@dataclass(frozen=True)
class Event:
    """A decoded event: its envelope (upcast to the latest version) and its typed payload."""

    envelope: Envelope
    payload: Any

    @property
    def event_id(self) -> uuid.UUID:
        return self.envelope.event_id

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _first_error(exc: ValidationError, prefix: str) -> ContractError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    field = f"{prefix}.{loc}" if loc else prefix
    return ContractError(field.strip("."), err.get("msg", "invalid"))


class Registry:
    def __init__(self) -> None:
        self._contracts: dict[str, dict[int, Contract]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    # ---- registration -------------------------------------------------------------------------
    def contract(self, event_type: str, *, version: int, topic: str, key: str = "customer_id") -> Callable[[P], P]:
        def decorate(model: P) -> P:
            if key not in model.model_fields:
                raise TypeError(f"{model.__name__}: key field {key!r} is not a field")
            model.EVENT_TYPE = event_type
            model.VERSION = version
            model.TOPIC = topic
            model.KEY = key
            versions = self._contracts.setdefault(event_type, {})
            if version in versions:
                raise TypeError(f"{event_type} v{version} registered twice")
            versions[version] = Contract(event_type, version, topic, key, model)
            return model

        return decorate

    def upcaster(self, event_type: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    # ---- lookup -------------------------------------------------------------------------------
    def contracts(self) -> list[Contract]:
        return [c for versions in self._contracts.values() for c in versions.values()]

    def latest(self, event_type: str) -> Contract:
        versions = self._contracts.get(event_type)
        if not versions:
            raise ContractError("event_type", f"unknown event type {event_type!r}")
        return versions[max(versions)]

    def topics(self) -> dict[str, list[Contract]]:
        out: dict[str, list[Contract]] = {}
        for c in self.contracts():
            out.setdefault(c.topic, []).append(c)
        return out

    def event_types_on(self, topic: str) -> set[str]:
        return {c.event_type for c in self.contracts() if c.topic == topic}

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, raw: bytes | str | dict[str, Any]) -> Event:
        """Validate an envelope and its payload, upcasting old versions to the latest."""
        if isinstance(raw, bytes | str):
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ContractError("$", f"not valid JSON ({exc.__class__.__name__})") from None
        else:
            data = raw
        if not isinstance(data, dict):
            raise ContractError("$", "an event must be a JSON object")
        try:
            envelope = Envelope.model_validate(data)
        except ValidationError as exc:
            raise _first_error(exc, "") from None
        versions = self._contracts.get(envelope.event_type)
        if not versions:
            raise ContractError("event_type", f"unknown event type {envelope.event_type!r}")
        contract = versions.get(envelope.schema_version)
        if contract is None:
            raise ContractError(
                "schema_version",
                f"{envelope.event_type} has no schema version {envelope.schema_version} "
                f"(known: {sorted(versions)})",
            )
        try:
            model = contract.model.model_validate(envelope.payload)
        except ValidationError as exc:
            raise _first_error(exc, "payload") from None
        payload, version = dict(envelope.payload), envelope.schema_version
        latest = max(versions)
        if version < latest:  # an old version: upcast, then validate against the latest contract
            while version < latest:
                step = self._upcasters.get((envelope.event_type, version))
                if step is None:
                    raise ContractError("schema_version", f"no upcaster from v{version} of {envelope.event_type}")
                payload, version = step(payload), version + 1
            try:
                model = versions[latest].model.model_validate(payload)
            except ValidationError as exc:
                raise _first_error(exc, "payload") from None
        envelope = envelope.model_copy(
            update={"schema_version": latest, "payload": model.model_dump(mode="json")}
        )
        return Event(envelope=envelope, payload=model)

    # ---- encoding -----------------------------------------------------------------------------
    def envelope(
        self,
        payload: Payload,
        *,
        producer: str,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        event_type, version = getattr(payload, "EVENT_TYPE", None), getattr(payload, "VERSION", None)
        contract = self._contracts.get(event_type or "", {}).get(version or 0)
        if contract is None or contract.model is not type(payload):
            raise ContractError("event_type", f"{type(payload).__name__} is not a registered contract")
        return Envelope(
            event_id=event_id or new_event_id(),
            event_type=payload.EVENT_TYPE,
            schema_version=payload.VERSION,
            occurred_at=occurred_at or utcnow(),
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            partition_key=str(getattr(payload, payload.KEY)),
            payload=payload.model_dump(mode="json"),
        )


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


registry = Registry()
