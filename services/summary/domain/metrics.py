"""Metric arithmetic, kept pure so every figure can be checked by hand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

_RATE_PLACES = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded half-even to 4 places; None when nothing was decided."""
    if denominator <= 0:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(_RATE_PLACES, ROUND_HALF_EVEN))


def mean_seconds(total_seconds: int | None, count: int) -> int | None:
    """Whole-second mean (half-even), None for no samples."""
    if not count or total_seconds is None:
        return None
    return int((Decimal(total_seconds) / Decimal(count)).quantize(Decimal(1), ROUND_HALF_EVEN))


def median_seconds(values: Iterable[int | float]) -> int | None:
    """Median of whole-second durations: the mean of the two middle values for an even count, rounded
    half-even to a whole second. None for no samples."""
    data: Sequence[int | float] = sorted(values)
    n = len(data)
    if n == 0:
        return None
    mid = n // 2
    if n % 2:
        return int(data[mid])
    total = Decimal(int(data[mid - 1])) + Decimal(int(data[mid]))
    return int((total / 2).quantize(Decimal(1), ROUND_HALF_EVEN))


def figure(value: int | Decimal | None) -> int | float:
    """A daily count as the API gives it: conversions are credited by attribution share (4-place decimals),
    so a manager's or team's figure may be fractional; a whole figure stays an integer."""
    d = Decimal(value or 0).quantize(_RATE_PLACES, ROUND_HALF_EVEN)
    return int(d) if d == d.to_integral_value() else float(d)


def change(today: int, other: int) -> int:
    return today - other
