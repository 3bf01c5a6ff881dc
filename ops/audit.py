"""`python -m ops audit verify [--database-url URL]`: recompute the audit store's hash chain from its anchor
and compare it with the anchors published to `crm.audit.anchors` (the broker of `KAFKA_*`; if it does not
answer, the chain alone is checked and stderr says so).

Prints one JSON line (the verdict); exits 0 when every record chains to its predecessor and every anchor
matches, 1 naming the first broken sequence number otherwise. The URL defaults to `AUDIT_DATABASE_URL` (as the
service reads it).
"""

from __future__ import annotations

import asyncio
import json
import sys

from shared.runtime.db import make_engine, session_factory

from .rebuild import database_url


def verify(url: str | None) -> int:
    from services.audit.anchors import read_anchors
    from services.audit.projections.store import verify_store
    from services.audit.settings import AuditSettings

    try:
        anchors = asyncio.run(read_anchors(AuditSettings().kafka, timeout_s=20.0))
    except Exception as exc:  # noqa: BLE001 - the chain alone is still worth checking
        sys.stderr.write(f"anchors not read ({type(exc).__name__}): the chain alone is checked\n")
        anchors = None
    engine = make_engine(url or database_url("audit"))
    try:
        with session_factory(engine)() as s:
            verdict = verify_store(s, anchors)
    finally:
        engine.dispose()
    sys.stdout.write(json.dumps(verdict.as_dict()) + "\n")
    if verdict.ok:
        sys.stderr.write(f"audit chain verified: {verdict.checked} records from anchor {verdict.anchor_seq} "
                         f"to {verdict.head_seq}; published anchors matched: {verdict.anchors_checked}\n")
        return 0
    sys.stderr.write(f"audit chain broken at sequence {verdict.first_broken_seq}: {verdict.reason}\n")
    return 1
