"""The one error a contract violation raises."""

from __future__ import annotations

REASONS = {
    "too_large": "the record is over the size limit",
    "too_deep": "JSON nested deeper than the limit",
    "invalid_utf8": "the record is not UTF-8",
    "invalid_json": "not JSON (NaN and Infinity included)",
    "not_an_object": "the record is JSON but not an object",
    "invalid_envelope": "an envelope field is missing or invalid",
    "unknown_event_type": "an event type this build does not know (re-drive after an upgrade)",
    "unknown_schema_version": "a schema version newer than this build knows (re-drive after an upgrade)",
    "unsupported_schema_version": "an old schema version with no upcaster",
    "invalid_payload": "a payload field is missing or invalid",
    "unknown_field": "a payload being published carries a field its contract does not define",
    "undecodable": "decoding failed for an unexpected reason",
}


class ContractError(ValueError):
    """An event that does not satisfy its contract. `field` names the offending field, `reason` is one of
    `REASONS` (a stable code that dead letters carry, so an operator can re-drive them by reason)."""

    def __init__(self, field: str, message: str, *, reason: str = "invalid_payload"):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.reason = reason
