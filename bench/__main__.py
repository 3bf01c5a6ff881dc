"""`make bench`: the raw aiokafka baseline first, then every bench/bench_*.py module, as one table.

    python -m bench [--quick] [--only customer,tasks] [--json var/bench/results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from shared.runtime.logging import configure_logging

from . import baseline
from .context import ROOT, BenchContext


def _fmt(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.4f}"


def render(rows: list[dict]) -> str:
    headers = ["benchmark", "metric", "value", "unit", "note"]
    table = [[str(r.get("benchmark", "")), str(r.get("metric", "")), _fmt(float(r.get("value", 0))),
              str(r.get("unit", "")), str(r.get("note", ""))] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    for t in table:
        out.append(" | ".join(c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in
                              enumerate(zip(t, widths, strict=True))))
    return "\n".join(out)


async def run(quick: bool, only: set[str] | None) -> tuple[list[dict], list[str]]:
    ctx = BenchContext(quick=quick)
    rows: list[dict] = []
    failures: list[str] = []
    rows += await baseline.main(ctx)
    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    for name in modules:
        short = name.removeprefix("bench_")
        if only and short not in only:
            continue
        started = time.perf_counter()
        try:
            mod = importlib.import_module(f"bench.{name}")
            rows += await mod.main(ctx)
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks
            failures.append(f"{name}: {traceback.format_exc(limit=6)}")
        finally:
            ctx.cleanup()
            await ctx.delete_topics()
        sys.stderr.write(f"bench: {name} took {time.perf_counter() - started:.1f}s\n")
    return rows, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small volumes (smoke run)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names, e.g. customer,kyc")
    parser.add_argument("--json", default=str(ROOT / "var" / "bench" / "results.json"))
    args = parser.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    rows, failures = asyncio.run(run(args.quick, only))
    sys.stdout.write(render(rows) + "\n")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"quick": args.quick, "rows": rows, "failures": failures}, indent=2))
    for f in failures:
        sys.stderr.write(f"bench failed: {f}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
