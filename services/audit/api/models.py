"""Response models of the audit API (the console's typed client is generated from them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.events.crm_audit import AuditKind, AuditOutcome


class AuditRecordView(BaseModel):
    seq: int = Field(description="Position in the hash chain.")
    record_id: str
    staff_id: str | None
    roles: list[str]
    action: str
    kind: AuditKind
    service: str
    method: str
    route: str
    customer_id: str | None
    at: datetime
    client_ip: str | None
    correlation_id: str | None
    status: int
    outcome: AuditOutcome
    answered: bool = Field(default=True, description="False: a write whose process ended before it answered "
                                                     "(its record was written ahead; the write committed).")
    hash: str = Field(description="sha256(previous hash || canonical JSON of the record), hex.")


class AuditRecordPage(BaseModel):
    items: list[AuditRecordView]
    next_cursor: str | None = None


class ChainVerdict(BaseModel):
    ok: bool = Field(description="Every record from the anchor chains to its predecessor.")
    checked: int = Field(description="Records checked.")
    anchor_seq: int = Field(description="Sequence number of the last pruned record (0: nothing pruned).")
    head_seq: int = Field(description="Last sequence number checked (or where the check stopped).")
    first_broken_seq: int | None = Field(default=None, description="The first sequence number that does not verify.")
    reason: str | None = None
    anchors_checked: int | None = Field(
        default=None, description="Anchors published to crm.audit.anchors that the chain was compared with (a "
                                  "stored hash differing from an anchor's, or a head below an anchored one, fails "
                                  "the check); null: the anchors could not be read (the broker did not answer), "
                                  "the chain alone was checked.")
