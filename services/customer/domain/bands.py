"""Asset bands and ages: pure computations behind the list filters `asset_band` / `ada_band` and
`age_min` / `age_max` (and the dynamic segments defined by them).

A band is a half-open range `[low, high)` of a value in the brokerage's currency, cut at the configured edges
(`CUSTOMER_ASSET_BAND_EDGES`, e.g. 10000, 100000, 1000000 → `0-10000`, `10000-100000`, `100000-1000000`,
`1000000-`). Its key names its bounds, so a saved segment stays readable; the last band is open above."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

DEFAULT_EDGES = (Decimal(10_000), Decimal(100_000), Decimal(1_000_000))


@dataclass(frozen=True)
class Band:
    key: str
    low: Decimal  # inclusive
    high: Decimal | None  # exclusive; None: open above


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def bands(edges: Sequence[Decimal]) -> list[Band]:
    """The bands the edges cut [0, ∞) into (edges strictly increasing and > 0, else ValueError)."""
    cut = [Decimal(e) for e in edges]
    if any(e <= 0 for e in cut) or any(b <= a for a, b in zip(cut, cut[1:], strict=False)):
        raise ValueError("band edges must be positive and strictly increasing")
    lows = [Decimal(0), *cut]
    highs: list[Decimal | None] = [*cut, None]
    return [Band(f"{_plain(lo)}-{_plain(hi) if hi is not None else ''}", lo, hi) for lo, hi in zip(lows, highs,
                                                                                                 strict=True)]


def band_of(value: Decimal | None, all_bands: Sequence[Band]) -> Band:
    """The band a value falls in (no value: 0, the lowest band)."""
    v = value if value is not None and value > 0 else Decimal(0)
    for b in all_bands:
        if b.high is None or v < b.high:
            return b
    raise AssertionError("the last band is open above")


def ranges(keys: Sequence[str], all_bands: Sequence[Band]) -> list[tuple[Decimal, Decimal | None]]:
    """The chosen bands as the fewest `[low, high)` ranges (adjacent bands merged, so one index range scan
    serves them). An unknown key: KeyError with the key."""
    by_key = {b.key: i for i, b in enumerate(all_bands)}
    chosen = sorted({by_key[k] if k in by_key else _unknown(k) for k in keys})
    out: list[tuple[Decimal, Decimal | None]] = []
    prev = -2
    for i in chosen:
        b = all_bands[i]
        if i == prev + 1 and out:
            out[-1] = (out[-1][0], b.high)
        else:
            out.append((b.low, b.high))
        prev = i
    return out


def _unknown(key: str) -> int:
    raise KeyError(key)


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February → 28 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(born: date, today: date) -> int:
    """Completed years on `today` (born 29 February: a year older on 1 March of a common year)."""
    years = today.year - born.year
    return years if years_before(today, years) >= born else years - 1


def birth_range(today: date, age_min: int | None, age_max: int | None) -> tuple[date | None, date | None]:
    """`(after, on_or_before)`: an age in [age_min, age_max] on `today` ⇔ after < date of birth ≤ on_or_before
    (None: unbounded). Born on or before today − age_min years; after today − (age_max + 1) years."""
    upper = years_before(today, age_min) if age_min is not None else None
    lower = years_before(today, age_max + 1) if age_max is not None else None
    return lower, upper
