"""Contracts: round-trip, upcasting of old versions, strict validation naming the field, export in sync."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.events import ContractError, encode, registry, topics
from shared.events import export as contract_export
from shared.events.upstream import AccountApplicationSubmitted, CustomerRegistered, DepositCompleted


def raw(event_type: str, version: int, payload: dict, **env) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": version,
        "occurred_at": "2026-11-01T08:00:00+08:00",
        "producer": "platform",
        "partition_key": payload.get("customer_id", "k"),
        "payload": payload,
        **env,
    }


def test_round_trip_keeps_every_field_and_decimal_money() -> None:
    payload = DepositCompleted(customer_id="C1", account_id="A1", transaction_id="T1",
                               amount=Decimal("1234.56789"), currency="HKD",
                               completed_at=datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC))
    env = registry.envelope(payload, producer="test", correlation_id="corr-1")
    decoded = registry.decode(encode(env))
    assert decoded.payload == payload
    assert isinstance(decoded.payload.amount, Decimal) and decoded.payload.amount == Decimal("1234.56789")
    assert decoded.envelope.event_id == env.event_id
    assert decoded.envelope.partition_key == "C1"
    assert decoded.envelope.correlation_id == "corr-1"
    assert json.loads(encode(env))["payload"]["amount"] == "1234.56789"  # money travels as a string


def test_occurred_at_is_normalised_to_utc() -> None:
    decoded = registry.decode(raw("account.rejected", 1, {
        "customer_id": "C1", "application_id": "APP1", "rejected_at": "2026-11-01T08:00:00+08:00", "reason": "x"}))
    assert decoded.envelope.occurred_at.utcoffset() == timedelta(0)
    assert decoded.envelope.occurred_at.hour == 0


def test_upcast_deposit_v1_float_amount_to_v2_decimal_string() -> None:
    decoded = registry.decode(raw("funding.deposit_completed", 1, {
        "customer_id": "C1", "account_id": "A1", "transaction_id": "T1", "amount": 0.1,
        "completed_at": "2026-11-01T00:00:00Z"}))
    assert decoded.envelope.schema_version == 2
    assert decoded.payload.amount == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert decoded.payload.currency == "USD"


def test_upcast_registration_v1_splits_the_e164_phone() -> None:
    decoded = registry.decode(raw("registration.customer_registered", 1, {
        "customer_id": "C9", "registered_at": "2026-11-01T00:00:00Z", "channel": "organic",
        "phone": "+85291234567"}))
    assert isinstance(decoded.payload, CustomerRegistered)
    assert decoded.payload.phone_dialing_code == "+852"
    assert decoded.payload.phone_number == "91234567"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(event_type="funding.unknown_thing"), "event_type"),
        (lambda d: d.update(schema_version=9), "schema_version"),
        (lambda d: d.update(event_id="not-a-uuid"), "event_id"),
        (lambda d: d.update(occurred_at="2026-11-01T00:00:00"), "occurred_at"),  # naive time rejected
        (lambda d: d.pop("producer"), "producer"),
        (lambda d: d["payload"].update(amount="-1"), "payload.amount"),
        (lambda d: d["payload"].update(amount=12.5), "payload.amount"),  # v2 money must not be a float
        (lambda d: d["payload"].update(currency="usd"), "payload.currency"),
        (lambda d: d["payload"].pop("transaction_id"), "payload.transaction_id"),
    ],
)
def test_invalid_events_are_rejected_naming_the_field(mutate, field) -> None:
    data = raw("funding.deposit_completed", 2, {
        "customer_id": "C1", "account_id": "A1", "transaction_id": "T1", "amount": "10.00",
        "currency": "USD", "completed_at": "2026-11-01T00:00:00Z"})
    mutate(data)
    with pytest.raises(ContractError) as err:
        registry.decode(json.dumps(data))
    assert err.value.field == field, str(err.value)
    assert field in str(err.value)


def test_not_json_and_not_an_object_are_rejected() -> None:
    with pytest.raises(ContractError, match=r"^\$: not valid UTF-8") as err:
        registry.decode(b"\xff{")
    assert err.value.reason == "invalid_utf8"
    with pytest.raises(ContractError, match=r"^\$: not valid JSON") as err:
        registry.decode(b"{")
    assert err.value.reason == "invalid_json"
    with pytest.raises(ContractError, match="JSON object") as err:
        registry.decode(b"[1,2]")
    assert err.value.reason == "not_an_object"


def test_nested_payload_errors_name_the_nested_field() -> None:
    data = raw("account.application_submitted", 1, {
        "customer_id": "C1", "application_id": "APP1", "submitted_at": "2026-11-01T00:00:00Z",
        "documents": [{"document_id": "D1", "kind": "passport_photo", "storage_ref": "s3://x",
                       "uploaded_at": "2026-11-01T00:00:00Z"}]})
    with pytest.raises(ContractError) as err:
        registry.decode(data)
    assert err.value.field == "payload.documents.0.kind"


def test_phone_parts_must_come_together() -> None:
    with pytest.raises(ContractError) as err:
        registry.decode(raw("registration.customer_registered", 2, {
            "customer_id": "C1", "registered_at": "2026-11-01T00:00:00Z", "channel": "organic",
            "phone_dialing_code": "+852"}))
    assert err.value.field == "payload"


def test_every_contract_has_a_topic_a_key_and_documentation() -> None:
    known_topics = set(topics.ALL_TOPICS)
    for c in registry.contracts():
        assert c.topic in known_topics, c
        assert c.key_field in c.model.model_fields
        assert c.description, f"{c.event_type} v{c.version} has no docstring"
    assert registry.latest("registration.customer_registered").version == 2
    assert {c.topic for c in registry.contracts()} >= set(topics.UPSTREAM_TOPICS)


def test_envelope_refuses_unregistered_payload_types() -> None:
    from shared.events.registry import Payload

    class Rogue(Payload):
        customer_id: str

    with pytest.raises(ContractError):
        registry.envelope(Rogue(customer_id="C1"), producer="x")


def test_exported_schemas_and_asyncapi_are_in_sync() -> None:
    assert contract_export.stale() == [], "run `make contracts` and commit the result"


def test_exported_schema_validates_a_real_event() -> None:
    import jsonschema

    schema = contract_export.event_schema(registry.latest("account.application_submitted"))
    payload = AccountApplicationSubmitted.model_validate({
        "customer_id": "C1", "application_id": "APP1", "submitted_at": "2026-11-01T00:00:00Z",
        "documents": [{"document_id": "D1", "kind": "id_front", "storage_ref": "s3://bucket/x",
                       "uploaded_at": "2026-11-01T00:00:00Z"}],
        "declarations": {"is_pep": True, "net_worth": "2500000.00", "net_worth_currency": "HKD"}})
    env = json.loads(encode(registry.envelope(payload, producer="p",
                                              occurred_at=datetime.now(timezone(timedelta(hours=8))))))
    jsonschema.validate(env, schema)
    env["payload"]["documents"][0]["kind"] = "nope"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(env, schema)


# ------------------------------------------------------------------------- forward compatibility
def test_unknown_payload_fields_are_accepted_and_kept_at_every_level() -> None:
    data = raw("account.application_submitted", 1, {
        "customer_id": "C1", "application_id": "APP1", "submitted_at": "2026-11-01T00:00:00Z",
        "documents": [{"document_id": "D1", "kind": "id_front", "storage_ref": "s3://x",
                       "uploaded_at": "2026-11-01T00:00:00Z", "page_count": 2}],
        "declarations": {"is_pep": False, "source_of_funds": "salary"},
        "channel_detail": {"app": "ios", "build": 812}}, tenant="hk")
    decoded = registry.decode(json.dumps(data))
    assert decoded.payload.model_extra == {"channel_detail": {"app": "ios", "build": 812}}
    assert decoded.envelope.payload["channel_detail"] == {"app": "ios", "build": 812}
    assert decoded.envelope.payload["documents"][0]["page_count"] == 2
    assert decoded.envelope.payload["declarations"]["source_of_funds"] == "salary"
    assert decoded.envelope.model_extra == {"tenant": "hk"}  # a new envelope field travels on, too
    assert json.loads(encode(decoded.envelope))["tenant"] == "hk"


def test_unknown_fields_survive_upcasting() -> None:
    decoded = registry.decode(raw("funding.deposit_completed", 1, {
        "customer_id": "C1", "account_id": "A1", "transaction_id": "T1", "amount": 5,
        "completed_at": "2026-11-01T00:00:00Z", "fee": "0.10"}))
    assert decoded.envelope.schema_version == 2
    assert decoded.envelope.payload["fee"] == "0.10"


def test_crm_contracts_tolerate_unknown_fields_on_consume() -> None:
    from shared.events.crm_customer import StageChanged

    decoded = registry.decode(raw("crm.customer.stage_changed", 1, {
        "customer_id": "C1", "from_stage": None, "to_stage": "registered", "changed_at": "2026-11-01T00:00:00Z",
        "cause_event_id": "e1", "cause_event_type": "registration.customer_registered", "region_hint": "HK"}))
    assert isinstance(decoded.payload, StageChanged)
    assert decoded.payload.model_extra == {"region_hint": "HK"}


def test_producers_cannot_publish_fields_their_contract_does_not_define() -> None:
    from shared.events.crm_customer import TradeRecorded

    typo = TradeRecorded(customer_id="C1", trade_id="T1", occurred_at=datetime.now(UTC), frist_trade=True)
    with pytest.raises(ContractError) as err:
        registry.envelope(typo, producer="customer")
    assert (err.value.field, err.value.reason) == ("payload.frist_trade", "unknown_field")
    nested = AccountApplicationSubmitted.model_validate({
        "customer_id": "C1", "application_id": "APP1", "submitted_at": "2026-11-01T00:00:00Z",
        "documents": [{"document_id": "D1", "kind": "id_front", "storage_ref": "s3://x",
                       "uploaded_at": "2026-11-01T00:00:00Z", "pages": 1}]})
    with pytest.raises(ContractError) as err:
        registry.envelope(nested, producer="platform")
    assert err.value.field == "payload.documents.0.pages"


def test_a_newer_schema_version_is_an_unknown_schema_version() -> None:
    with pytest.raises(ContractError) as err:
        registry.decode(raw("account.rejected", 2, {
            "customer_id": "C1", "application_id": "APP1", "rejected_at": "2026-11-01T00:00:00Z", "reason": "x"}))
    assert (err.value.field, err.value.reason) == ("schema_version", "unknown_schema_version")
    assert "re-drive" in str(err.value)


def test_export_documents_the_compatibility_rules() -> None:
    doc = contract_export.asyncapi()
    assert set(doc["info"]["x-compatibility"]) == {"fields", "versions", "limits"}
    assert "unknown_schema_version" in doc["info"]["x-compatibility"]["versions"]
    for c in registry.contracts():
        schema = contract_export.event_schema(c)
        assert schema["additionalProperties"] is True, c  # the envelope
        assert schema["properties"]["payload"]["additionalProperties"] is True, c
        for name, sub in schema.get("$defs", {}).items():
            if sub.get("type") == "object":
                assert sub["additionalProperties"] is True, (c, name)


def test_unknown_fields_looks_into_every_field_that_may_hold_a_model_and_only_those() -> None:
    from typing import Annotated, Any, Literal

    from pydantic import BaseModel, ConfigDict

    from shared.events.crm_customer import TradeRecorded
    from shared.events.registry import _nesting_fields, unknown_fields

    class Leaf(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int = 0

    class Outer(BaseModel):
        model_config = ConfigDict(extra="allow")
        items: list[Leaf] = []
        pair: tuple[Leaf, ...] = ()
        maybe: Leaf | None = None
        noted: Annotated[Leaf | None, "a note"] = None
        anything: Any = None
        kind: Literal["x", "y"] = "x"
        counts: dict[str, int] = {}
        name: str = ""

    assert _nesting_fields(Outer) == ("items", "pair", "maybe", "noted", "anything")
    assert _nesting_fields(TradeRecorded) == ()  # a flat contract: only its own extra fields are looked at
    value = Outer(items=[Leaf(), Leaf(b=1)], pair=(Leaf(c=2),), maybe=Leaf(d=3), noted=Leaf(e=4),
                  anything=Leaf(f=5), kind="y", counts={"n": 1}, name="n", g=6)
    assert unknown_fields(value) == ["payload.g", "payload.items.1.b", "payload.pair.0.c", "payload.maybe.d",
                                     "payload.noted.e", "payload.anything.f"]
    assert unknown_fields(Outer(items=[Leaf()], maybe=Leaf())) == []
