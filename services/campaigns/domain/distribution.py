"""Distribution: who follows each targeted customer up. Deterministic for the same inputs (customers and
managers in id order), so a start decided twice (two replicas) gives the same owners."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from dataclasses import dataclass

ASSIGNED_MANAGER = "assigned_manager"
TEAM_QUEUE = "team_queue"
ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"
METHODS = (ASSIGNED_MANAGER, TEAM_QUEUE, ROUND_ROBIN, LEAST_LOADED)
NEEDS_TEAM = (TEAM_QUEUE, ROUND_ROBIN, LEAST_LOADED)


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    manager_id: str | None
    team_id: str | None


@dataclass(frozen=True)
class ManagerLoad:
    manager_id: str
    load: int  # customers held now


Target = tuple[str, str | None, str | None]  # (customer id, manager id or None for the queue, team id)


def held_out(campaign_id: str, customer_id: str, pct: int) -> bool:
    """Whether the customer is in the campaign's hold-out control group (`control_pct`): a stable hash of the two
    ids below `pct` out of 10,000 hundredths, so every replica and every re-run decides the same, and a
    customer's chance is the same in every campaign yet independent from one campaign to the next."""
    if pct <= 0:
        return False
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < pct * 100


def distribute(method: str, customers: Sequence[Candidate], *, team_id: str | None,
               managers: Sequence[ManagerLoad] = ()) -> list[Target]:
    if method not in METHODS:
        raise ValueError(f"unknown distribution method {method!r}")
    ordered = sorted(customers, key=lambda c: c.customer_id)
    if method == ASSIGNED_MANAGER:
        return [(c.customer_id, c.manager_id, c.team_id) if c.manager_id else (c.customer_id, None, team_id)
                for c in ordered]
    pool = sorted(managers, key=lambda m: m.manager_id)
    if method == TEAM_QUEUE or not pool:
        return [(c.customer_id, None, team_id) for c in ordered]
    if method == ROUND_ROBIN:
        return [(c.customer_id, pool[i % len(pool)].manager_id, team_id) for i, c in enumerate(ordered)]
    heap = [(m.load, m.manager_id) for m in pool]  # least loaded: the fewest customers, then by id
    heapq.heapify(heap)
    out: list[Target] = []
    for c in ordered:
        load, manager_id = heapq.heappop(heap)
        out.append((c.customer_id, manager_id, team_id))
        heapq.heappush(heap, (load + 1, manager_id))
    return out
