"""Machine-readable export of every contract: JSON Schema per event version and an AsyncAPI document.

    python -m shared.events.export          # (re)write shared/events/schemas/ and asyncapi.yaml
    python -m shared.events.export --check  # exit 1 when the committed files are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from . import registry as _registry_module  # noqa: F401
from .envelope import Envelope
from .registry import Contract, registry

HERE = Path(__file__).parent
SCHEMAS = HERE / "schemas"
ASYNCAPI = HERE / "asyncapi.yaml"


def _schema_name(c: Contract) -> str:
    return f"{c.event_type}.v{c.version}"


def event_schema(c: Contract) -> dict[str, Any]:
    """JSON Schema of the whole record (envelope + this payload version)."""
    env = Envelope.model_json_schema()
    payload = c.model.model_json_schema(ref_template="#/$defs/{model}")
    defs = dict(payload.pop("$defs", {}))
    env["properties"]["event_type"] = {"const": c.event_type, "description": env["properties"]["event_type"].get("description", "")}
    env["properties"]["schema_version"] = {"const": c.version}
    env["properties"]["payload"] = payload
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:whale-crm:event:{_schema_name(c)}",
        "title": f"{c.event_type} v{c.version}",
        "description": c.description,
        "x-topic": c.topic,
        "x-key": c.key_field,
        **{k: v for k, v in env.items() if k not in ("title", "description")},
        **({"$defs": defs} if defs else {}),
    }


COMPATIBILITY = {
    "fields": "Fields are only ever added. A payload (and an envelope) may carry fields its schema does not "
    "define (`additionalProperties: true`): consumers accept them and keep them with what they store "
    "(the customer service keeps them in its stored facts, so a later version can read them); producers "
    "publish only the fields their contract defines.",
    "versions": "A breaking change is a new `schema_version` of the event type. Consumers upcast older "
    "versions to the latest they know. A version newer than a consumer knows is dead-lettered with reason "
    "`unknown_schema_version` (an unknown event type: `unknown_event_type`); after the consumer is "
    "upgraded, `python -m ops dlq redrive SERVICE --reason unknown_schema_version` publishes those records "
    "again.",
    "limits": "A record is UTF-8 JSON, one object, at most EVENTS_MAX_RECORD_BYTES (default 1 MiB) and "
    "nested at most EVENTS_MAX_DEPTH (default 32) levels; NaN and Infinity are not JSON. Anything else is "
    "dead-lettered with its reason (too_large, too_deep, invalid_utf8, invalid_json, not_an_object, "
    "invalid_envelope, invalid_payload).",
}


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, contracts in sorted(registry.topics().items()):
        chan_msgs = {}
        for c in sorted(contracts, key=lambda c: (c.event_type, c.version)):
            name = _schema_name(c).replace(".", "_")
            messages[name] = {
                "name": c.event_type,
                "title": f"{c.event_type} v{c.version}",
                "summary": c.description.splitlines()[0] if c.description else "",
                "contentType": "application/json",
                "payload": {"$ref": f"./schemas/{_schema_name(c)}.json"},
                "bindings": {"kafka": {"key": {"type": "string", "description": f"payload.{c.key_field}"}}},
            }
            chan_msgs[name] = {"$ref": f"#/components/messages/{name}"}
        cid = topic.replace(".", "_")
        channels[cid] = {"address": topic, "messages": chan_msgs}
        operations[f"publish_{cid}"] = {"action": "send", "channel": {"$ref": f"#/channels/{cid}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Whale CRM event contracts",
            "version": "1.0.0",
            "description": "Upstream brokerage.* topics (published by the brokerage platforms) and the "
            "crm.<service>.* topics published by Whale CRM services. Every record is one JSON envelope; "
            "the record key is the partition key (the customer id for customer events).",
            "x-compatibility": COMPATIBILITY,
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for c in registry.contracts():
        files[SCHEMAS / f"{_schema_name(c)}.json"] = json.dumps(event_schema(c), indent=2, sort_keys=True) + "\n"
    files[ASYNCAPI] = yaml.safe_dump(asyncapi(), sort_keys=True, allow_unicode=True)
    return files


def stale() -> list[str]:
    want = rendered()
    problems = [str(p.relative_to(HERE)) for p, text in want.items() if not p.exists() or p.read_text() != text]
    extra = [str(p.relative_to(HERE)) for p in SCHEMAS.glob("*.json") if p not in want]
    return problems + [f"{e} (no such contract)" for e in extra]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        if bad:
            sys.stderr.write("contract exports out of date; run `make contracts`:\n  " + "\n  ".join(bad) + "\n")
            return 1
        return 0
    SCHEMAS.mkdir(exist_ok=True)
    for p in SCHEMAS.glob("*.json"):
        p.unlink()
    for path, text in rendered().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
