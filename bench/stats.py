"""What the benchmarks share to summarise their samples: a nearest-rank percentile, and the timings of a raw
SQL query (the baseline an API figure is set against)."""

from __future__ import annotations

import time

import psycopg


def percentile(samples: list[float], q: float) -> float:
    """The nearest-rank `q` quantile (0 ≤ q ≤ 1) of `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def raw_query_ms(url: str, sql: str, reps: int, *, warmup: int = 5) -> list[float]:
    """`sql` run `reps` times on one psycopg connection after `warmup` runs (plan and page cache): each run's
    wall time in ms, rows fetched."""
    out: list[float] = []
    with psycopg.connect(url) as conn:
        for _ in range(warmup):
            conn.execute(sql).fetchall()
        for _ in range(reps):
            t = time.perf_counter()
            conn.execute(sql).fetchall()
            out.append((time.perf_counter() - t) * 1000)
    return out
