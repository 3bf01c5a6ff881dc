"""Before/after of a change, measured interleaved: runs of another commit (a git worktree of it) and of this
tree alternate, so both meet the same minutes of this shared machine, whose speed drifts by 10-30% within an
hour (single runs an hour apart compared the drift, not the change: a pipelined import looked 7.5% faster so,
and was 4% slower measured this way). Prints each metric's values on both sides (min, median, max).

    python -m bench.compare --base 449851e --only customer_filters --runs 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .context import ROOT


def summarise(runs: dict[str, list[list[dict[str, Any]]]]) -> list[str]:
    """One line per (benchmark, metric) found on both sides: each side's min / median / max, in run order
    of first appearance."""
    keys: list[tuple[str, str]] = []
    values: dict[str, dict[tuple[str, str], list[float]]] = {side: {} for side in runs}
    for side, side_runs in runs.items():
        for rows in side_runs:
            for r in rows:
                key = (str(r.get("benchmark")), str(r.get("metric")))
                if key not in keys:
                    keys.append(key)
                values[side].setdefault(key, []).append(float(r["value"]))
    out = []
    for key in keys:
        if not all(key in v for v in values.values()):
            continue
        cells = []
        for side in runs:
            v = values[side][key]
            cells.append(f"{side} {min(v):,.4g} / {statistics.median(v):,.4g} / {max(v):,.4g} (n={len(v)})")
        out.append(f"{key[0]} | {key[1]}: " + " ; ".join(cells))
    return out


def _run(cwd: Path, only: str, quick: bool, out: Path) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "bench", "--only", only, "--json", str(out)] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, cwd=cwd, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench failed in {cwd}: {done.stderr[-2000:]}")
    return list(json.loads(out.read_text())["rows"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="the commit to compare this tree with (default HEAD)")
    parser.add_argument("--only", required=True, help="the benchmarks to run, e.g. customer_filters")
    parser.add_argument("--runs", type=int, default=3, help="runs on each side (default 3)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="whale-bench-base-") as tmp:
        base = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.base], cwd=ROOT, check=True)
        try:
            runs: dict[str, list[list[dict[str, Any]]]] = {"base": [], "this": []}
            for i in range(args.runs):
                order = [("base", base), ("this", ROOT)] if i % 2 == 0 else [("this", ROOT), ("base", base)]
                for side, cwd in order:  # which side goes first alternates too
                    runs[side].append(_run(cwd, args.only, args.quick, Path(tmp) / f"{side}-{i}.json"))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    sys.stdout.write(f"base = {args.base}, this = the work tree; {args.runs} interleaved runs each\n")
    sys.stdout.write("\n".join(summarise(runs)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
