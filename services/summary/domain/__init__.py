"""Pure domain of the summary service: time windows, per-customer derivation of facts, metric arithmetic,
and the daily-report / changelog aggregates. No I/O imports."""
