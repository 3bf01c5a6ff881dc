"""Contract decoding: CPU per record for the demo platform's upstream traffic, beside `json.loads` of the
same bytes (the raw baseline), and the cost of refusing hostile records (deep nesting, oversized)."""

from __future__ import annotations

import json
import time

from devtools.demo import Platform
from shared.events import ContractError, encode, registry

from .context import BenchContext


def cpu_per_call(fn, items: list, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Best of `repeat` passes over `items`: CPU µs per item (process time, so other load does not count)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def refuse(raw: bytes) -> None:
    try:
        registry.decode(raw)
    except ContractError:
        return
    raise AssertionError("a hostile record was accepted")


async def main(ctx: BenchContext) -> list[dict]:
    platform, records = Platform(seed=11, manager_codes=["QR-HK-1"]), []
    want = 5_000 if ctx.quick else 50_000
    while len(records) < want:
        records += [encode(registry.envelope(p, producer="bench")) for p in platform.next_events(10**9)]
    repeat = 2 if ctx.quick else 5
    decode = cpu_per_call(registry.decode, records, repeat)
    raw = cpu_per_call(json.loads, records, repeat)
    deep = b'{"payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    large = b'{"payload": "' + b"x" * (registry.limits.max_bytes + 1) + b'"}'
    hostile = {"deep (100,000 levels)": deep, "over the size limit": large}
    note = f"{len(records):,} demo upstream records, {sum(map(len, records)) // len(records)} B on average"
    rows = [
        {"benchmark": "contracts", "metric": "registry.decode CPU per record", "value": decode, "unit": "µs",
         "note": note},
        {"benchmark": "contracts", "metric": "raw json.loads CPU per record (baseline)", "value": raw, "unit": "µs",
         "note": "same records"},
    ]
    for name, record in hostile.items():
        rows.append({"benchmark": "contracts", "metric": f"refuse a hostile record: {name}",
                     "value": cpu_per_call(refuse, [record] * 20, repeat), "unit": "µs",
                     "note": f"{len(record):,} B, dead-lettered"})
    return rows
