"""Console benchmark (`python -m bench --only console`): the Customer List at 1,000,000 customers in Chromium.

The customer read model (PostgreSQL) is seeded with 1,000,000 customers (20,000 with --quick) by COPY, as
the customer benchmark does; the customer API runs as its own process on it (`python -m services.customer
api`), behind the console's nginx gateway serving the built console (web/dist); Debian's chromium, driven
by playwright-core (web/bench/customer-list.mjs), then measures, signed in as the head of client services
(scope: all):

- first page: navigation start → the first page's 50 rows on screen, the table no longer loading (target 1 s);
- next page: a click on Next → the next keyset page on screen (target 300 ms);
- filter: a click on a stage card → that stage's first page on screen;

each beside its raw baseline measured in the same run and the same page: the very same API request made
with fetch() alone (gateway + API + SQL + JSON, without the console around it).
Needs the built console (make web-build), nginx and chromium (infra/web.sh); skipped with a note otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from devtools.gateway import Gateway
from devtools.run import service_env, spawn, wait_ready
from devtools.token import DEV_SECRET
from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

from .bench_customer import DATA_VERSION, load_customers
from .context import ROOT
from .stats import percentile

AUTH = AuthSettings(jwt_secret=DEV_SECRET)
TARGETS = {"first_page": 1000.0, "next_page": 300.0}
# WHALE_BENCH_CONSOLE_DB=NAME keeps the seeded database (NAME_<n>) after the run and reuses it next time
# (loading 1,000,000 customers takes minutes); without it the database is made and dropped per run.
KEEP_ENV = "WHALE_BENCH_CONSOLE_DB"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loaded(url: str, n: int) -> bool:
    """The kept database holds the n customers of a finished load (the stage counts are written last)."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT coalesce(sum(n), 0) FROM customer_stage_count").fetchone()
    except psycopg.Error:
        return False
    return row is not None and int(row[0]) == n


def _missing() -> str | None:
    if not (ROOT / "web" / "dist" / "index.html").exists():
        return "web/dist not built (make web-build)"
    if not (ROOT / "web" / "node_modules" / "playwright-core").exists():
        return "web/node_modules missing (infra/web.sh npm)"
    for tool in ("chromium", "nginx"):
        try:
            subprocess.run([str(ROOT / "infra" / "web.sh"), tool], check=True, capture_output=True)
        except subprocess.CalledProcessError as exc:
            return f"{tool} unavailable: {exc.stderr.decode()[-200:]}"
    if not shutil.which("node"):
        return "node unavailable"
    return None


async def main(ctx: Any) -> list[dict]:
    missing = _missing()
    if missing:
        return [{"benchmark": "console", "metric": "customer list in chromium: not run", "value": 0, "unit": "",
                 "note": missing}]
    n = 20_000 if ctx.quick else 1_000_000
    runs, pages = (5, 8) if ctx.quick else (12, 20)
    kept = os.environ.get(KEEP_ENV, "").strip()
    if kept:
        url, reused = ctx.kept_database(f"{kept}_{n}_v{DATA_VERSION}", lambda u: _loaded(u, n))
    else:
        url, reused = ctx.pg_database("console_list"), False
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        os.chmod(tmp, 0o755)  # nginx's workers (nobody, when run as root) use temp directories under it
        load_s = 0.0
        if not reused:
            settings = CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH)  # event store in the same db
            svc = bootstrap(settings)
            svc.migrate()
            t_load = time.perf_counter()
            await asyncio.to_thread(load_customers, url, svc, n)
            load_s = time.perf_counter() - t_load
            await svc.stop()

        api_port, gw_port = _free_port(), _free_port()
        env = service_env("customer", var, ctx.kafka.bootstrap_servers, {"customer": api_port}, {
            "CUSTOMER_DATABASE_URL": url, "AUTH_JWT_SECRET": DEV_SECRET, "LOG_LEVEL": "WARNING",
            "KAFKA_TOPIC_PREFIX": ctx.kafka.topic_prefix})
        api = spawn("customer", "api", env, var / "logs")
        gateway = Gateway(var, gw_port, {"customer": api_port})
        try:
            await wait_ready("customer", api, timeout=120, ports={"customer": api_port}, logs=var / "logs")
            gateway.start()
            token = mint_token(AUTH, user_id="bench-admin", role="admin")
            async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as http:  # warm the API's first query
                (await http.get("/api/customer/customers", params={"limit": 50},
                                headers={"Authorization": f"Bearer {token}"})).raise_for_status()
            out = await asyncio.to_thread(
                subprocess.run,
                ["node", str(ROOT / "web" / "bench" / "customer-list.mjs"), "--url", gateway.url, "--token", token,
                 "--runs", str(runs), "--pages", str(pages)],
                cwd=ROOT / "web", capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                raise RuntimeError(f"customer-list.mjs failed: {out.stderr[-2000:]}")
            samples = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            gateway.stop()
            api.terminate()
            try:
                api.wait(timeout=15)
            except subprocess.TimeoutExpired:
                api.kill()
    return _rows(samples, n, None if reused else load_s)


def _rows(s: dict[str, list[float]], n: int, load_s: float | None) -> list[dict]:
    rows = []
    labels = {"first_page": ("first page interactive (navigation → 50 rows)", "raw_first"),
              "next_page": ("next page (click → rows)", "raw_next"),
              "filter": ("stage filter (card click → rows)", "raw_filter")}
    for key, (label, raw) in labels.items():
        target = TARGETS.get(key)
        note = (f"raw fetch() of the same API call p50 {percentile(s[raw], 0.5):.1f} ms / p95 {percentile(s[raw], 0.95):.1f} ms;"
                f" {n:,} customers; {len(s[key])} runs")
        for q in (0.5, 0.95):
            rows.append({"benchmark": "console", "metric": f"customer list p{int(q * 100)}: {label}",
                         "value": percentile(s[key], q), "unit": "ms",
                         "note": note + (f"; target ≤ {target:.0f} ms" if target and q == 0.95 else "")})
    if load_s is not None:
        rows.append({"benchmark": "console", "metric": "customer list: COPY load + index build", "value": load_s,
                     "unit": "s", "note": f"{n:,} customers (set-up, not a target)"})
    return rows
