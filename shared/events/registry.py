"""Contract registry: event types, schema versions, upcasters, total decoding.

Compatibility rules (also in the AsyncAPI export, `x-compatibility`):
- a payload may carry fields its contract does not define: they are accepted on consume and kept in
  `Event.envelope.payload` (and so in whatever a service stores from it); producers never send them
  (`Registry.envelope` refuses a payload with unknown fields, which catches misspelt optional fields);
- a schema version newer than this build knows is a `ContractError` with reason `unknown_schema_version`
  (dead-lettered; re-drive it after the upgrade); older versions are upcast to the latest;
- decoding is total: any input gives an `Event` or a `ContractError`, never another exception.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Annotated, Any, ClassVar, ForwardRef, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from .envelope import Envelope, new_event_id, utcnow
from .errors import ContractError
from .rawjson import Limits, check_size, parse, plain


class Payload(BaseModel):
    """Base of every payload: immutable; unknown fields are accepted and kept (forward compatibility),
    see the module docstring."""

    model_config = ConfigDict(extra="allow", frozen=True)

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
    """A decoded event: its envelope (upcast to the latest version) and its typed payload.

    `envelope.payload` is the payload as received (as upcast, for an older version); `data` is the
    validated payload in JSON types with defaults filled in and unknown fields kept (what a service stores),
    computed on first use: most consumers only read the typed `payload`."""

    envelope: Envelope
    payload: Any

    @cached_property
    def data(self) -> dict[str, Any]:
        return self.payload.model_dump(mode="json")  # type: ignore[no-any-return]

    @property
    def event_id(self) -> uuid.UUID:
        return self.envelope.event_id

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _first_error(exc: ValidationError, prefix: str, reason: str) -> ContractError:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    field = f"{prefix}.{loc}" if loc else prefix
    return ContractError(field.strip(".")[:200], str(err.get("msg", "invalid"))[:500], reason=reason)


def unknown_fields(model: BaseModel, prefix: str = "payload") -> list[str]:
    """Paths of the fields `model` (and the models nested in it) carry beyond their contract."""
    out = [f"{prefix}.{k}" for k in (model.model_extra or {})]
    for name in _nesting_fields(type(model)):
        value = getattr(model, name)
        items = value if isinstance(value, list | tuple) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                sub = f"{prefix}.{name}.{i}" if item is not value else f"{prefix}.{name}"
                out.extend(unknown_fields(item, sub))
    return out


@cache
def _nesting_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model whose declared type may hold a model (most contracts have none: only their own
    extra fields are looked at)."""
    return tuple(name for name, field in cls.model_fields.items() if _may_hold_model(field.annotation))


def _may_hold_model(tp: Any) -> bool:
    if tp is Any:
        return True
    origin = get_origin(tp)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _may_hold_model(get_args(tp)[0])
    args = get_args(tp)
    if args:  # list[X], tuple[X, ...], X | None, dict[K, V]
        return any(_may_hold_model(a) for a in args if a is not Ellipsis)
    if isinstance(tp, type):
        return issubclass(tp, BaseModel) or tp is object
    return isinstance(tp, str | ForwardRef | TypeVar)  # unresolved or open: it may


class Registry:
    def __init__(self, limits: Limits | None = None) -> None:
        self._contracts: dict[str, dict[int, Contract]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self.limits = limits or Limits.from_env()

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
    def decode(self, raw: bytes | bytearray | memoryview | str | dict[str, Any]) -> Event:
        """Validate an envelope and its payload, upcasting old versions to the latest.

        Total: returns an `Event` or raises `ContractError` (with `field` and `reason`), whatever `raw`
        holds; an unexpected failure anywhere (an upcaster's bug, a RecursionError…) is reason
        `undecodable`. Records over `limits.max_bytes` or nested deeper than `limits.max_depth` are refused
        before they are parsed."""
        try:
            return self._decode(raw)
        except ContractError:
            raise
        except Exception as exc:  # noqa: BLE001 - decoding never raises anything but ContractError
            raise ContractError("$", f"undecodable record ({type(exc).__name__})", reason="undecodable") from None

    def _envelope(self, raw: bytes | bytearray | memoryview | str | dict[str, Any]) -> Envelope:
        if isinstance(raw, dict):  # from code, not a topic: the same checks as a record's
            raw = json.dumps(raw, default=str)
        check_size(raw, self.limits)
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        if plain(data, self.limits):  # the common case: parsed and validated in one pass
            try:
                return Envelope.model_validate_json(data)
            except ValidationError:
                pass  # the careful path below names the reason
        parsed = parse(data, self.limits)
        try:
            return Envelope.model_validate(parsed)
        except ValidationError as exc:
            raise _first_error(exc, "", "invalid_envelope") from None

    def _decode(self, raw: bytes | bytearray | memoryview | str | dict[str, Any]) -> Event:
        envelope = self._envelope(raw)
        versions = self._contracts.get(envelope.event_type)
        if not versions:
            raise ContractError("event_type", f"unknown event type {envelope.event_type!r}",
                                reason="unknown_event_type")
        latest = max(versions)
        contract = versions.get(envelope.schema_version)
        if contract is None:
            newer = envelope.schema_version > latest
            raise ContractError(
                "schema_version",
                f"{envelope.event_type} v{envelope.schema_version} is "
                + (f"newer than this build knows (latest v{latest}): re-drive it after the upgrade" if newer
                   else f"not supported (known: {sorted(versions)})"),
                reason="unknown_schema_version" if newer else "unsupported_schema_version",
            )
        try:
            model = contract.model.model_validate(envelope.payload)
        except ValidationError as exc:
            raise _first_error(exc, "payload", "invalid_payload") from None
        if contract.version < latest:  # an old version: upcast, then validate against the latest contract
            model = self._upcast(envelope, latest)
            envelope = envelope.model_copy(update={"schema_version": latest, "payload": model.model_dump(mode="json")})
        return Event(envelope=envelope, payload=model)

    def _upcast(self, envelope: Envelope, latest: int) -> Payload:
        payload, version = dict(envelope.payload), envelope.schema_version
        while version < latest:
            step = self._upcasters.get((envelope.event_type, version))
            if step is None:
                raise ContractError("schema_version", f"no upcaster from v{version} of {envelope.event_type}",
                                    reason="unsupported_schema_version")
            payload, version = step(payload), version + 1
        try:
            return self._contracts[envelope.event_type][latest].model.model_validate(payload)
        except ValidationError as exc:
            raise _first_error(exc, "payload", "invalid_payload") from None

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
            raise ContractError("event_type", f"{type(payload).__name__} is not a registered contract",
                                reason="unknown_event_type")
        unknown = unknown_fields(payload)
        if unknown:
            raise ContractError(unknown[0], "not a field of this contract (producers send only defined fields)",
                                reason="unknown_field")
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
