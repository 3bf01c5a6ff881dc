"""Load against capacity (pure): a manager's idle capacity and utilisation, and a team's totals.

`idle` is what routing may still give: `capacity − load` for an active manager (never below 0: a capacity
lowered under the load takes nothing new), 0 for an absent one. `utilisation` is `load / capacity` (above 1
when the capacity was lowered under the load; None for a capacity of 0). A team's totals count its managers who
have not resigned: `load` is every customer they hold, `capacity` and `idle` only the active managers' (an
absent manager takes no new customers), `utilisation` = the active managers' load / their capacity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def utilisation(load: int, capacity: int) -> float | None:
    return round(load / capacity, 4) if capacity > 0 else None


def manager_capacity(load: int, capacity: int, status: str) -> dict[str, Any]:
    return {"idle": max(capacity - load, 0) if status == "active" else 0, "utilisation": utilisation(load, capacity)}


def team_totals(managers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals of a team's managers (rows with `load`, `capacity`, `status`); resigned ones are left out."""
    n = active = load = capacity = active_load = idle = 0
    for m in managers:
        if m["status"] == "resigned":
            continue
        n += 1
        load += m["load"]
        if m["status"] == "active":
            active += 1
            capacity += m["capacity"]
            active_load += m["load"]
            idle += max(m["capacity"] - m["load"], 0)
    return {"managers": n, "active_managers": active, "load": load, "capacity": capacity, "idle": idle,
            "utilisation": utilisation(active_load, capacity)}
