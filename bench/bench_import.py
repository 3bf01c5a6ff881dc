"""Manual import: N rows (750,000; --quick 20,000) of a generated CSV (deterministic, ~1% invalid rows)
uploaded to the customer service running as its own process (`python -m services.customer all` on
PostgreSQL and the shared broker) until every accepted row is visible in the customer list
(`GET /customers/counts` total). Reports the wall time (upload → done → visible), CPU seconds and peak RSS of
every process involved (the customer service, its PostgreSQL backends, this uploading process), and the
raw baselines of the same run: parsing + validating the file alone, and raw aiokafka produce of N records."""

from __future__ import annotations

import asyncio
import csv
import os
import random
import resource
import shutil
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from services.customer.domain.imports import RowRejected, validate_row
from services.customer.import_files import iter_rows
from shared.runtime.auth import mint_token
from shared.runtime.kafka import ensure_topics
from shared.runtime.settings import AuthSettings

from .baseline import produce
from .context import ROOT, BenchContext

SECRET = "bench-import-secret-bench-import-secret"
HEADER = ["customer_id", "name", "phone_dialing_code", "phone_number", "email", "id_type", "id_number",
          "date_of_birth", "registered_at"]
TICK = os.sysconf("SC_CLK_TCK")


def generate(path: Path, n: int) -> int:
    """Write the file; returns how many rows are invalid (every 100th: a broken e-mail or date of birth)."""
    rnd = random.Random(20260101)
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(n):
            email = f"person{i}@example.com"
            dob = f"{rnd.randint(1940, 2004)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            if i % 100 == 42:
                bad += 1
                if i % 200 == 42:
                    email = f"person{i}-at-example.com"
                else:
                    dob = "1990-02-30"
            w.writerow([f"BIM{i:07d}", f"Person {i} {rnd.choice(['Chan', 'Lee', 'Wong', 'Ng', 'Tan'])}", "+852",
                        f"{rnd.randint(5, 9)}{i:07d}", email, rnd.choice(["passport", "national_id"]),
                        f"X{i:08d}", dob, f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T10:00:00+00:00"])
    return bad


def parse_only(path: Path) -> tuple[int, int]:
    at, ok, bad = datetime.now(UTC), 0, 0
    for row_no, row in iter_rows(path, "csv"):
        try:
            validate_row(row, job_id="imp_bench", row_no=row_no, at=at, key=b"k", institutions=frozenset())
            ok += 1
        except RowRejected:
            bad += 1
    return ok, bad


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds user+system, peak RSS MiB) of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    hwm = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmHWM:"))
    return cpu, hwm / 1024


def children(pid: int) -> list[int]:
    """The live descendants of `pid` (the service's import processes), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], list(parents.get(pid, ()))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(parents.get(child, ()))
    return out


def tree_usage(pid: int) -> tuple[float, float, list[float]]:
    """(CPU seconds of `pid` and its live descendants, peak RSS MiB of `pid`, peak RSS MiB of each descendant)."""
    cpu, rss = proc_usage(pid)
    child_rss = []
    for child in children(pid):
        try:
            c_cpu, c_rss = proc_usage(child)
        except (OSError, StopIteration):
            continue
        cpu += c_cpu
        child_rss.append(c_rss)
    return cpu, rss, child_rss


def pg_backends(url: str, database: str) -> dict[int, tuple[float, float]]:
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    out = {}
    for pid in pids:
        try:
            out[pid] = proc_usage(pid)
        except (OSError, StopIteration):
            pass
    return out


async def main(ctx: BenchContext) -> list[dict]:
    # WHALE_BENCH_IMPORT_ROWS: another size (the rate on 100-200k rows when the full run does not fit)
    n = int(os.environ.get("WHALE_BENCH_IMPORT_ROWS") or (20_000 if ctx.quick else 750_000))
    kafka = ctx.kafka
    url = ctx.pg_database("import")
    database = url.rsplit("/", 1)[1]
    tmp = Path(tempfile.mkdtemp(prefix="whale-bench-import-"))
    path = tmp / "people.csv"
    t = time.perf_counter()
    bad = generate(path, n)
    gen_s = time.perf_counter() - t
    size_mb = path.stat().st_size / 1e6

    c0, t0 = time.process_time(), time.perf_counter()
    ok, rejected = await asyncio.to_thread(parse_only, path)
    parse_wall, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert rejected == bad, (rejected, bad)

    raw_topic = kafka.topic("bench.import.raw")
    await ensure_topics(kafka, [raw_topic])
    raw_rate = await produce(kafka.bootstrap_servers, raw_topic, n)

    port, health = _free_port(), _free_port()
    env = {**os.environ, "CUSTOMER_DATABASE_URL": url, "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
           "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "CUSTOMER_API_PORT": str(port),
           "CUSTOMER_WORKER_HEALTH_PORT": str(health), "AUTH_JWT_SECRET": SECRET,
           "CUSTOMER_IMPORT_DIR": str(tmp / "uploads"), "CUSTOMER_MATCH_KEY": "bench-import-match-key",
           "LOG_LEVEL": "WARNING"}
    log_path = tmp / "customer.log"
    log_file = log_path.open("wb")
    svc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.customer", "all", env=env,
                                               cwd=str(ROOT), stdout=log_file, stderr=log_file)
    token = mint_token(AuthSettings(jwt_secret=SECRET), user_id="bench-admin", role="admin")
    rows: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
            cpu_before = tree_usage(svc.pid)[0]

            async def chunks():  # type: ignore[no-untyped-def]
                with path.open("rb") as f:
                    while block := f.read(1 << 20):
                        yield block

            start = time.perf_counter()
            r = await http.post("/customer-imports", params={"filename": "people.csv"}, content=chunks(),
                                headers={"content-type": "text/csv"})
            assert r.status_code == 201, r.text
            uploaded = time.perf_counter() - start
            job_id = r.json()["job_id"]
            done_s = visible_s = None
            job: dict[str, Any] = {}
            total = 0
            deadline = float(os.environ.get("WHALE_BENCH_IMPORT_DEADLINE_S", "3600"))
            while visible_s is None and time.perf_counter() - start < deadline:
                await asyncio.sleep(1)
                if svc.returncode is not None:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the customer service exited ({svc.returncode}); its log ends: {tail}")
                try:
                    job = (await http.get(f"/customer-imports/{job_id}")).json()
                except httpx.TransportError:
                    continue
                if job["state"] == "failed":
                    raise RuntimeError(f"import failed: {job['error']}")
                if job["state"] == "done" and done_s is None:
                    done_s = time.perf_counter() - start
                try:
                    total = (await http.get("/customers/counts")).json()["total"]
                except httpx.TransportError:
                    continue
                if job["state"] == "done" and total >= job["accepted"]:
                    visible_s = time.perf_counter() - start
            svc_cpu, svc_rss, child_rss = tree_usage(svc.pid)
            backends = pg_backends(url.rsplit("/", 1)[0] + "/postgres", database)
    finally:
        if svc.returncode is None:
            svc.terminate()
            await svc.wait()
        log_file.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the CSV (~100 MB at 750,000 rows), the uploads and the log
    me_cpu = time.process_time()
    me_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pg_cpu = sum(c for c, _ in backends.values())
    pg_rss = max((m for _, m in backends.values()), default=0.0)
    load = os.getloadavg()[0]
    budget = 300 * n / 750_000  # the target, 750,000 rows within 300 s, at the rate it asks (2,500 rows/s)
    note = (f"{n:,} rows ({size_mb:.0f} MB CSV, {bad:,} invalid), generated in {gen_s:.1f} s; load average "
            f"{load:.1f} on this shared 2-core machine at the end; target: 750,000 rows visible within 300 s, "
            f"{budget:,.0f} s for these {n:,}")
    if visible_s is None:  # stopped at the deadline: what was visible by then, and the rate it implies
        elapsed = time.perf_counter() - start
        rate = total / max(elapsed - uploaded, 1e-9)
        return [
            {"benchmark": "import", "metric": "NOT FINISHED at the deadline: rows visible in GET /customers/counts",
             "value": total, "unit": "rows", "note": f"after {elapsed:,.0f} s ({rate:,.0f} rows/s after the upload: "
                                                     f"{(n * 0.99) / rate:,.0f} s projected for all) — TARGET MISSED; " + note},
            {"benchmark": "import", "metric": "customer service process: CPU", "value": svc_cpu - cpu_before,
             "unit": "s", "note": f"{(svc_cpu - cpu_before) / max(total, 1) * 1000:.2f} ms per visible row"},
            {"benchmark": "import", "metric": "customer service process: peak RSS", "value": svc_rss, "unit": "MiB",
             "note": "VmHWM"},
            {"benchmark": "import", "metric": "PostgreSQL backends of the service's database: CPU", "value": pg_cpu,
             "unit": "s", "note": f"{len(backends)} backends; largest peak RSS {pg_rss:.0f} MiB"},
            {"benchmark": "import", "metric": "benchmark process: CPU", "value": me_cpu, "unit": "s",
             "note": f"peak RSS {me_rss:.0f} MiB"},
            {"benchmark": "import", "metric": "baseline: parse + validate the file alone", "value": parse_wall,
             "unit": "s", "note": f"{parse_cpu:.1f} s CPU, {n / parse_wall:,.0f} rows/s"},
            {"benchmark": "import", "metric": "baseline: raw aiokafka produce of the same number of records",
             "value": n / raw_rate, "unit": "s", "note": f"{raw_rate:,.0f} records/s of 1 KB"},
        ]
    rows += [
        {"benchmark": "import", "metric": "upload → every accepted row visible in GET /customers/counts",
         "value": visible_s, "unit": "s", "note": f"{job['accepted']:,} accepted, {job['rejected']:,} rejected; "
                                                   + ("target met" if visible_s <= budget else "TARGET MISSED") + "; " + note},
        {"benchmark": "import", "metric": "CPU per accepted row: customer service + its PostgreSQL backends",
         "value": (svc_cpu - cpu_before + pg_cpu) / max(job["accepted"], 1) * 1000, "unit": "ms",
         "note": f"service {(svc_cpu - cpu_before) / max(job['accepted'], 1) * 1000:.3f} ms + PostgreSQL "
                 f"{pg_cpu / max(job['accepted'], 1) * 1000:.3f} ms; {job['accepted'] / visible_s:,.0f} rows/s to "
                 f"visible (target: 2,500 rows/s: 750,000 within 300 s)"},
        {"benchmark": "import", "metric": "upload (streamed to disk, hashed)", "value": uploaded, "unit": "s",
         "note": f"{size_mb:.0f} MB"},
        {"benchmark": "import", "metric": "upload → job done", "value": done_s, "unit": "s",
         "note": f"{job['accepted'] / max(done_s - uploaded, 1e-9):,.0f} accepted rows/s after the upload"},
        {"benchmark": "import", "metric": "customer service process: CPU", "value": svc_cpu - cpu_before, "unit": "s",
         "note": "API + worker (importer, outbox relay publishing crm.customer.*, consumers) in one process (`all`), "
                 f"and its {len(child_rss)} child process(es) (import processes, multiprocessing's resource tracker), "
                 "during the import"},
        {"benchmark": "import", "metric": "customer service process: peak RSS", "value": svc_rss, "unit": "MiB",
         "note": "VmHWM: bounded by the chunk size, not the file; its child processes: "
                 + (", ".join(f"{r:.0f}" for r in child_rss) or "none") + " MiB"},
        {"benchmark": "import", "metric": "PostgreSQL backends of the service's database: CPU", "value": pg_cpu,
         "unit": "s", "note": f"{len(backends)} backends alive at the end; peak RSS of the largest {pg_rss:.0f} MiB"},
        {"benchmark": "import", "metric": "benchmark process (generator, uploader): CPU / peak RSS", "value": me_cpu,
         "unit": "s", "note": f"peak RSS {me_rss:.0f} MiB (includes the parse-only baseline)"},
        {"benchmark": "import", "metric": "baseline: parse + validate the file alone", "value": parse_wall, "unit": "s",
         "note": f"{parse_cpu:.1f} s CPU, {n / parse_wall:,.0f} rows/s ({ok:,} valid), one process"},
        {"benchmark": "import", "metric": "baseline: raw aiokafka produce of the same number of records",
         "value": n / raw_rate, "unit": "s", "note": f"{raw_rate:,.0f} records/s of 1 KB"},
    ]
    return rows
