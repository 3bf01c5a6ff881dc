"""The customer list filtered by ADA band and by age (`python -m bench --only customer_filters`), issue #18's
target: p99 through the API within 2 ms of the same SQL's p99 run raw, at 1,000,000 customers.

Set-up: the customer benchmark's read model (`load_customers`: COPY, indexes built after the load, one
`index_and_analyze`), 1,000,000 customers (20,000 with --quick; `WHALE_BENCH_FILTERS_N` overrides), with their
30-day ADA and dates of birth. Each case: first pages (50 rows, newest first) through the API in-process (auth,
filter parsing with the configured bands, keyset query, masking, JSON) beside the very statement the API runs,
built by the service's own filter code and run with psycopg, in the same run.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from services.customer.api.query import FilterParams, band_config, to_list_filters
from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.auth import Perm, Principal, Scope, mint_token

from .bench_customer import AUTH, _compiled, _pct, _rows, _time_api, _time_raw, load_customers

# query parameters of each case (the API's); the raw statement comes from the same parameters
CASES: list[tuple[str, dict[str, Any]]] = [
    ("ADA band 10,000–100,000", {"ada_band": ["10000-100000"]}),
    ("ADA band ≥ 1,000,000 (rare)", {"ada_band": ["1000000-"]}),
    ("ADA bands 100,000– (two bands)", {"ada_band": ["100000-1000000", "1000000-"]}),
    ("age 30–50", {"age_min": 30, "age_max": 50}),
    ("age ≥ 80 (rare)", {"age_min": 80}),
    ("ADA band 10,000–100,000 and age 30–50", {"ada_band": ["10000-100000"], "age_min": 30, "age_max": 50}),
    ("ADA 30 days 10,000–20,000 and age 30–50 (min/max)",
     {"ada30_min": "10000", "ada30_max": "20000", "age_min": 30, "age_max": 50}),
]


async def main(ctx: Any) -> list[dict]:
    n = int(os.environ.get("WHALE_BENCH_FILTERS_N") or (20_000 if ctx.quick else 1_000_000))
    reps = 60 if ctx.quick else 300
    url = ctx.pg_database("cust_filters")
    svc = bootstrap(CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH))
    t_load = time.perf_counter()
    await asyncio.to_thread(load_customers, url, svc, n)
    load_s = time.perf_counter() - t_load
    admin = Principal("bench-admin", scope=Scope.all, permissions=frozenset({Perm.CustomerPiiRead.value}))
    headers = {"Authorization": f"Bearer {mint_token(AUTH, user_id='bench-admin', role='admin')}"}
    today = datetime.now(svc.settings.brokerage.tz).date()
    bands = band_config(svc.settings)
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    rows: list[dict] = []
    started = datetime.now(UTC)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://b") as http:
        for label, params in CASES:
            api = await _time_api(http, "/customers", {"limit": 50, **params}, headers, reps)
            f = to_list_filters(FilterParams(**params), today, bands)
            sql, args = _compiled(svc, f, admin, None)
            raw = await asyncio.to_thread(_time_raw, pg, sql, args, reps)
            rows += _rows(f"filter {label}", api, raw, n)
            rows.append({"benchmark": "customer_filters", "metric": f"list p99 API − raw SQL p99: {label}",
                         "value": _pct(api, 0.99) - _pct(raw, 0.99), "unit": "ms",
                         "note": "target ≤ 2 ms (issue #18)"})
    await svc.stop()
    for r in rows:
        r["benchmark"] = "customer_filters"
    rows.append({"benchmark": "customer_filters", "metric": "COPY load + index build", "value": load_s, "unit": "s",
                 "note": f"{n:,} customers (set-up, not a target); measured from {started:%H:%M} UTC, load average "
                         f"{os.getloadavg()[0]:.1f} at the end"})
    return rows
