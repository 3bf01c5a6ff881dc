"""`python -m bench.compare`: the side-by-side summary of interleaved runs."""

from __future__ import annotations

from bench.compare import summarise


def row(metric: str, value: float) -> dict:
    return {"benchmark": "b", "metric": metric, "value": value, "unit": "ms", "note": ""}


def test_each_metric_found_on_both_sides_is_summarised_with_min_median_max():
    runs = {"base": [[row("p99", 3.0), row("cpu", 1.6)], [row("p99", 2.0), row("cpu", 1.7)],
                     [row("p99", 4.0), row("cpu", 1.5)]],
            "this": [[row("p99", 1.0), row("cpu", 1.4), row("new only", 9.0)], [row("p99", 2.0), row("cpu", 1.5)]]}
    assert summarise(runs) == [
        "b | p99: base 2 / 3 / 4 (n=3) ; this 1 / 1.5 / 2 (n=2)",
        "b | cpu: base 1.5 / 1.6 / 1.7 (n=3) ; this 1.4 / 1.45 / 1.5 (n=2)",
    ]  # a metric on one side only (a new benchmark row) is left out
