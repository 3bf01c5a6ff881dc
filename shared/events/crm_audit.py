"""`crm.audit.records`: one audit record per staff action, published by every service's API (the kit's
`shared.runtime.audit`) and kept by the audit service in a hash chain. `crm.audit.anchors`: that chain's head,
published now and then by the audit service, so that a chain rewritten in its database no longer verifies.

A record says who (staff id and roles), what (a stable action name and the route template — never the raw
path, which may carry personal data), on which customer (its id only), when, from where (the client address
the gateway forwarded), under which correlation id and with which outcome. No personal data beyond ids.
The record id is the envelope's event id: the audit store keeps each record once however often it arrives.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import EntityId, ShortText


class AuditKind(StrEnum):
    """Why the request was audited."""

    write = "write"  # POST / PUT / PATCH / DELETE
    pii_read = "pii_read"  # a read of a route that returns unmasked personal data
    export = "export"  # an export (a file of many customers)
    refusal = "refusal"  # a 401 / 403 on any route
    sign_in = "sign_in"  # a sign-in (the development sign-in, the console's first call of a session)


class AuditOutcome(StrEnum):
    allowed = "allowed"  # 2xx / 3xx
    denied = "denied"  # 401 / 403
    failed = "failed"  # any other 4xx / 5xx


ActionName = ShortText


@registry.contract("crm.audit.record", version=1, topic=topics.CRM_AUDIT, key="service")
class AuditRecord(Payload):
    """One audited staff action, after its answer's status was known (or, `answered` false, a write whose
    process ended before it answered)."""

    record_id: uuid.UUID = Field(description="Unique id of the record (also the envelope's event id).")
    staff_id: EntityId | None = Field(default=None, description="Who: the caller's staff id (None when the "
                                                                   "caller could not be identified: a 401).")
    roles: list[EntityId] = Field(default_factory=list, max_length=50, description="The caller's roles.")
    action: EntityId = Field(description="Stable action name, e.g. `customer.remark.create`, "
                                         "`customer.pii.read`, `customer.export`, `auth.sign_in`.")
    kind: AuditKind
    service: EntityId = Field(description="The service that answered.")
    method: str = Field(pattern=r"^[A-Z]{3,7}$", description="HTTP method.")
    route: ShortText = Field(description="The route template (e.g. `/customers/{customer_id}/remarks`), "
                                         "never the raw path.")
    customer_id: EntityId | None = Field(default=None, description="Target customer id, if the route names one.")
    at: AwareDatetime = Field(description="When the request was answered (UTC).")
    client_ip: ShortText | None = Field(default=None, description="From where: the first address of the "
                                                                     "gateway's X-Forwarded-For, else the peer.")
    correlation_id: ShortText | None = Field(default=None, description="The request's correlation id.")
    status: int = Field(ge=100, le=599, description="HTTP status of the answer.")
    outcome: AuditOutcome
    answered: bool = Field(default=True, description="False: the record of a write, written ahead in the "
                                                     "write's own transaction and published because the process "
                                                     "ended before the answer was known. The write committed; "
                                                     "`status` and `outcome` are what it would have answered "
                                                     "(200, allowed), not an answer anyone received.")


@registry.contract("crm.audit.chain_anchored", version=1, topic=topics.CRM_AUDIT_ANCHORS, key="chain")
class ChainAnchored(Payload):
    """The audit chain's head as the audit store had it: record `seq` had hash `hash`. Published when the head
    moved since the last anchor (every `AUDIT_ANCHOR_INTERVAL_S`); a verification compares every anchor with
    the stored chain (a rewritten, truncated or replaced chain differs from an anchor published before)."""

    chain: EntityId = Field(default="audit", description="Which chain (one: `audit`).")
    seq: int = Field(ge=1, description="The head's sequence number.")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="The head's hash (hex SHA-256).")
    anchored_at: AwareDatetime = Field(description="When the head was read (UTC).")
