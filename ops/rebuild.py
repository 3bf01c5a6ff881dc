"""Rebuild a service's read models by replay, and prove the result equals the live read model.

`--verify` takes a digest of every read-model table (rows sorted, bookkeeping tables left out) before
the rebuild, runs `python -m services.<name> rebuild`, takes the digest again and compares them table by
table. The service's own database URL comes from `<SERVICE>_DATABASE_URL` (as the service reads it);
the event store's tables in it are left out (they are what the rebuild reads). The service logs the replay
rate (`read_model_replayed`, events/s).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import MetaData, create_engine, select

from shared.runtime.db import normalise_url

BOOKKEEPING = {"consumer_position", "processed_event", "projection_position", "alembic_version"}
# eventsourcing's tables (the event store shares the service's database): the source of a rebuild, not its result
EVENT_STORE_SUFFIXES = ("_events", "_snapshots", "_tracking")


def database_url(service: str) -> str:
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///var/{service}/readmodel.db"


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value) if value is not None else None


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of the sorted canonical rows)} for every read-model table."""
    engine = create_engine(normalise_url(url))
    md = MetaData()
    md.reflect(engine)
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for name, table in sorted(md.tables.items()):
            if name in BOOKKEEPING or name.endswith(EVENT_STORE_SUFFIXES) or name.startswith("sqlite_"):
                continue
            rows = sorted(json.dumps([_canonical(v) for v in row], default=str)
                          for row in conn.execute(select(table)))
            h = hashlib.sha256()
            for r in rows:
                h.update(r.encode())
            out[name] = (len(rows), h.hexdigest())
    engine.dispose()
    return out


def rebuild(service: str, *, verify: bool) -> int:
    url = database_url(service)
    before = table_digests(url) if verify else {}
    code = subprocess.call([sys.executable, "-m", f"services.{service}", "rebuild"])
    if code != 0 or not verify:
        return code
    after = table_digests(url)
    differ = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
    for t in sorted(set(before) | set(after)):
        sys.stdout.write(json.dumps({"table": t, "rows_before": before.get(t, (0, ""))[0],
                                     "rows_after": after.get(t, (0, ""))[0], "equal": t not in differ}) + "\n")
    if differ:
        sys.stderr.write(f"rebuild differs from the live read model in: {', '.join(differ)}\n")
        return 1
    sys.stderr.write(f"rebuilt read model of {service} is identical to the live one ({len(after)} tables)\n")
    return 0
