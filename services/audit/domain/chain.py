"""The hash chain, pure: `hash(n) = sha256(hash(n-1) || canonical_json(record n))` over the records in the
order the store appended them (sequence numbers 1, 2, …). The first record chains to `GENESIS`; after
pruning, the first kept record chains to the anchor (the hash of the last pruned record).

`canonical_json` is the record's fields (every contract field, and any field a newer producer added) as JSON
with sorted keys, no whitespace, UTF-8, times as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the stored columns give
back exactly the bytes that were hashed, so a changed column, a removed or inserted row, or a changed hash
breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def utc_text(at: datetime) -> str:
    """A time as the chain writes it (a naive time is UTC: SQLite keeps no offset)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(record: Mapping[str, Any]) -> str:
    def plain(value: Any) -> Any:
        return utc_text(value) if isinstance(value, datetime) else value

    return json.dumps({k: plain(v) for k, v in record.items()}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)


def link(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of a record chained after `prev_hash` (hex)."""
    return hashlib.sha256((prev_hash + canonical_json(record)).encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What a verification found: `ok`, how many records it checked from the anchor, and the first broken
    sequence number (with why) if any."""

    ok: bool
    checked: int
    anchor_seq: int
    head_seq: int
    first_broken_seq: int | None = None
    reason: str | None = None
    anchors_checked: int | None = None  # published anchors compared with the chain (None: not read)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "anchor_seq": self.anchor_seq, "head_seq": self.head_seq,
                "first_broken_seq": self.first_broken_seq, "reason": self.reason,
                "anchors_checked": self.anchors_checked}


def verify(rows: Iterable[tuple[int, Mapping[str, Any], str]], *, anchor_seq: int = 0,
           anchor_hash: str = GENESIS) -> Verdict:
    """Check `(seq, record, stored_hash)` rows in sequence order, from the anchor: each seq follows the one
    before and each stored hash is `link(previous hash, record)`."""
    prev_seq, prev_hash, checked = anchor_seq, anchor_hash, 0
    for seq, record, stored in rows:
        if seq != prev_seq + 1:
            return Verdict(False, checked, anchor_seq, prev_seq, prev_seq + 1, f"sequence {prev_seq + 1} is missing")
        if link(prev_hash, record) != stored:
            return Verdict(False, checked, anchor_seq, seq, seq, "hash does not match the record and its predecessor")
        prev_seq, prev_hash, checked = seq, stored, checked + 1
    return Verdict(True, checked, anchor_seq, prev_seq)


def check_anchors(anchors: Iterable[tuple[int, str, str]], stored: Mapping[int, str], *, anchor_seq: int,
                  anchor_hash: str, head_seq: int) -> tuple[int, tuple[int, str] | None]:
    """Compare published anchors `(seq, hash, when)` with the stored chain (`stored`: hash by seq for the
    anchors' seqs; the prune anchor and the head as the store has them): (anchors compared, the first failure
    as (sequence number, why) or None). An anchor below the prune anchor can no longer be compared."""
    checked, last_ok = 0, anchor_seq
    for seq, hash_, when in sorted(anchors):
        if seq < anchor_seq:
            continue
        if seq > head_seq:
            return checked, (head_seq + 1, f"an anchor published at {when} names sequence {seq}, beyond the head "
                                           f"{head_seq}: records were removed from the end of the chain")
        have = anchor_hash if seq == anchor_seq else stored.get(seq)
        if have != hash_:
            return checked, (seq, f"the hash of sequence {seq} differs from the anchor published at {when}: the "
                                  f"chain was rewritten after sequence {last_ok} (the last anchor that matches)")
        checked, last_ok = checked + 1, seq
    return checked, None
