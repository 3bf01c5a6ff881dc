"""Decoding is total: whatever a record holds, `registry.decode` returns an Event or raises ContractError
(with a field and a reason code), never anything else — a consumer dead-letters it and keeps going."""

from __future__ import annotations

import copy
import json
import random
import uuid
from typing import Any

import pytest

from shared.events import ContractError, Event, registry
from shared.events.errors import REASONS
from shared.events.rawjson import Limits, nesting_depth
from shared.events.registry import Registry

DEPOSIT = {
    "event_id": "6f0c1f5e-1111-4000-8000-000000000000",
    "event_type": "funding.deposit_completed",
    "schema_version": 2,
    "occurred_at": "2026-11-01T00:00:00Z",
    "producer": "platform",
    "partition_key": "C1",
    "payload": {"customer_id": "C1", "account_id": "A1", "transaction_id": "T1", "amount": "10.00",
                "currency": "USD", "completed_at": "2026-11-01T00:00:00Z"},
}
APPLICATION = {
    **DEPOSIT,
    "event_type": "account.application_submitted",
    "schema_version": 1,
    "payload": {"customer_id": "C1", "application_id": "APP1", "submitted_at": "2026-11-01T00:00:00Z",
                "documents": [{"document_id": "D1", "kind": "id_front", "storage_ref": "s3://b/x",
                               "uploaded_at": "2026-11-01T00:00:00Z"}],
                "declarations": {"is_pep": False, "net_worth": "100.00", "net_worth_currency": "HKD"}},
}
DEPOSIT_V1 = {**DEPOSIT, "schema_version": 1,
              "payload": {"customer_id": "C1", "account_id": "A1", "transaction_id": "T1", "amount": 10.5,
                          "completed_at": "2026-11-01T00:00:00Z"}}
SAMPLES = [DEPOSIT, APPLICATION, DEPOSIT_V1]


def deep(levels: int, opener: str = "[", closer: str = "]") -> str:
    return opener * levels + closer * levels


def decode_is_total(raw: Any) -> Event | ContractError:
    """The property: an Event (storable as JSON), or a ContractError with a known reason and a short field;
    nothing else."""
    try:
        event = registry.decode(raw)
    except ContractError as exc:
        assert exc.reason in REASONS, exc.reason
        assert exc.field and len(exc.field) <= 200
        assert len(str(exc)) < 1000
        return exc
    # and what a service stores of an accepted event is plain, finite JSON in UTF-8
    json.dumps(event.data, allow_nan=False, ensure_ascii=False).encode("utf-8")
    json.dumps(event.envelope.model_dump(mode="json"), allow_nan=False, ensure_ascii=False).encode("utf-8")
    return event


# ------------------------------------------------------------------------------------ fixed cases
@pytest.mark.parametrize(("raw", "reason"), [
    (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (b"[" * 100_000, "too_deep"),  # unbalanced, too
    ('{"a":' * 100_000 + "1" + "}" * 100_000, "too_deep"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "x": json.loads(deep(500))}}), "too_deep"),
    (b"x" * 2_000_000, "too_large"),
    (json.dumps({**DEPOSIT, "producer": "p" * 2_000_000}), "too_large"),
    (b"\xff\xfe{\x00}\x00", "invalid_utf8"),
    ("{}".encode("utf-16"), "invalid_utf8"),
    (b'{"a": "\xc3\x28"}', "invalid_utf8"),
    (b"", "invalid_json"),
    (b"   ", "invalid_json"),
    (b"{", "invalid_json"),
    (b'{"a": 1} trailing', "invalid_json"),
    (b"null", "not_an_object"),
    (b'"a string"', "not_an_object"),
    (b"42", "not_an_object"),
    (b"[]", "not_an_object"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "x": float("nan")}}), "invalid_json"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "x": float("inf")}}), "invalid_json"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "x": float("-inf")}}), "invalid_json"),
    (json.dumps(DEPOSIT).replace('"10.00"', "1e999"), "invalid_payload"),  # money is never a JSON number
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "odd": "a\ud800b"}}), "invalid_json"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "odd": "\udfff"}}).replace("\\udfff", "\\uDFFF"),
     "invalid_json"),  # an unpaired surrogate, upper-case escape
    (json.dumps(DEPOSIT).replace('"10.00"', "1" * 5000), "invalid_json"),  # int over the digit limit
    (json.dumps({**DEPOSIT, "schema_version": 3}), "unknown_schema_version"),
    (json.dumps({**DEPOSIT, "schema_version": 10**30}), "unknown_schema_version"),
    (json.dumps({**DEPOSIT, "event_type": "funding.brand_new"}), "unknown_event_type"),
    (json.dumps({**DEPOSIT, "payload": []}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "payload": None}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "schema_version": "2x"}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "schema_version": True}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "event_type": ["a.b"]}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "occurred_at": "9999-99-99"}), "invalid_envelope"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "amount": {"$gt": 0}}}), "invalid_payload"),
    (json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "customer_id": "x" * 100_000}}), "invalid_payload"),
    (json.dumps({**DEPOSIT_V1, "payload": {**DEPOSIT_V1["payload"], "amount": 1e308}}), "invalid_payload"),
])
def test_hostile_records_are_contract_errors_with_a_reason(raw: Any, reason: str) -> None:
    with pytest.raises(ContractError) as err:
        registry.decode(raw)
    assert err.value.reason == reason, str(err.value)[:300]


def test_a_surrogate_pair_is_a_character() -> None:
    record = json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "emoji": "\U0001f600"}})  # ensure_ascii
    assert "\\ud83d\\ude00" in record
    assert registry.decode(record.encode()).data["emoji"] == "\U0001f600"


def test_an_overflowing_number_in_an_unknown_field_is_kept_as_null() -> None:
    record = json.dumps({**DEPOSIT, "payload": {**DEPOSIT["payload"], "odd": 1}}).replace('"odd": 1', '"odd": 1e999')
    assert registry.decode(record).data["odd"] is None


def test_the_limits_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    record = json.dumps(DEPOSIT)
    small = Registry(Limits(max_bytes=100, max_depth=32))
    with pytest.raises(ContractError) as err:
        small.decode(record)
    assert err.value.reason == "too_large"
    monkeypatch.setenv("EVENTS_MAX_RECORD_BYTES", "5000000")
    monkeypatch.setenv("EVENTS_MAX_DEPTH", "3")
    assert Limits.from_env() == Limits(max_bytes=5_000_000, max_depth=3)
    shallow = Limits(max_depth=3)
    assert nesting_depth(json.dumps(APPLICATION), 99) == 4  # envelope, payload, documents, a document
    assert nesting_depth('{"a": "[[[[[[[[[[[["}', 99) == 1  # brackets inside strings do not count
    assert nesting_depth(r'{"a": "\"[[[[[[[[[[[["}', 99) == 1
    from shared.events.rawjson import parse

    with pytest.raises(ContractError, match="deeper than 3"):
        parse(json.dumps({"a": [[[[[[1]]]]]], "b": "[[[[[[[[["}), shallow)


def test_an_upcaster_bug_is_a_contract_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(p: dict[str, Any]) -> dict[str, Any]:
        raise RecursionError("upcaster bug")

    monkeypatch.setitem(registry._upcasters, ("funding.deposit_completed", 1), broken)  # noqa: SLF001
    with pytest.raises(ContractError) as err:
        registry.decode(json.dumps(DEPOSIT_V1))
    assert err.value.reason == "undecodable" and "RecursionError" in str(err.value)


# ------------------------------------------------------------------------------------ fuzzing
HOSTILE_VALUES: list[Any] = [
    None, True, 0, -1, 2**63, 10**100, 1.5, -0.0, "", "x" * 300, "x" * 50_000, "\u0000", "\ud800",
    "\U0001f600" * 100, [], {}, [None], {"": None}, {"__class__": 1}, {"model_config": {}},
    {"EVENT_TYPE": "x"}, {"$ref": "#"}, "2026-13-45T99:99:99Z", "NaN", "Infinity", "-1", "0.000000001",
]


def _hostile(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return json.loads(deep(rng.choice([2, 10, 31, 40, 200])))
    if kind == 1:
        return {"k" * rng.randrange(1, 400): rng.choice(HOSTILE_VALUES)}
    if kind == 2:
        return [rng.choice(HOSTILE_VALUES) for _ in range(rng.randrange(5))]
    return copy.deepcopy(rng.choice(HOSTILE_VALUES))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(rng: random.Random, record: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(record)
    for _ in range(rng.randrange(1, 4)):
        path = rng.choice(_paths(data)[1:])
        parent = data
        for p in path[:-1]:
            parent = parent[p]
        action = rng.randrange(3)
        if action == 0 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == 1 and isinstance(parent, dict):
            parent[f"new_{rng.randrange(1000)}"] = _hostile(rng)  # an unknown field: accepted and kept
        else:
            parent[path[-1]] = _hostile(rng)
    return data


def _encode(rng: random.Random, data: dict[str, Any]) -> bytes:
    text = json.dumps(data, allow_nan=True, ensure_ascii=rng.random() < 0.5)
    raw = text.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.2:  # byte-level damage: flip, cut, or splice
        pos = rng.randrange(len(raw))
        choice = rng.randrange(3)
        if choice == 0:
            raw = raw[:pos] + bytes([rng.randrange(256)]) + raw[pos + 1:]
        elif choice == 1:
            raw = raw[:pos]
        else:
            raw = raw[:pos] + rng.choice([b"NaN", b"\xff", b"[" * 50, b"\x00", b"}"]) + raw[pos:]
    return raw


def test_decode_is_total_over_mutated_records() -> None:
    rng = random.Random(20261202)
    outcomes: dict[str, int] = {}
    for _ in range(3000):
        data = _mutate(rng, rng.choice(SAMPLES))
        data["event_id"] = str(uuid.UUID(int=rng.getrandbits(128))) if rng.random() < 0.9 else data.get("event_id")
        raw = _encode(rng, data) if rng.random() < 0.8 else data
        result = decode_is_total(raw)
        key = "event" if isinstance(result, Event) else result.reason
        outcomes[key] = outcomes.get(key, 0) + 1
    # the generator reaches the interesting outcomes, valid events with unknown fields included
    assert outcomes.get("event", 0) > 100, outcomes
    assert {"invalid_payload", "invalid_envelope", "invalid_json", "too_deep"} <= set(outcomes), outcomes


def test_decode_is_total_over_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        assert isinstance(decode_is_total(raw), ContractError)
    for text in ("{" * 33, "[" * 31 + "]" * 31, '{"event_id": ' + "[" * 40, '{"a":"\\', "\x00{}"):
        assert isinstance(decode_is_total(text.encode()), ContractError)
