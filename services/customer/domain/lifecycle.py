"""Lifecycle stage, derived from facts (never set by hand).

Each stage is reached by a milestone fact: registration, first application, first account opened, first
deposit, first trade. The stage is the highest milestone seen, and the time a stage was entered is the
earliest time of any milestone at or above it, so the result does not depend on the order in which the
facts arrived (a trade seen before the deposit still gives `traded`, and `funded` is dated by the deposit
once it arrives, or by the trade until then).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shared.events.crm_customer import STAGE_ORDER, Stage


def derive_stage(milestones: Mapping[Stage, datetime | None]) -> Stage | None:
    """The highest stage with a milestone; None when no milestone fact is known yet."""
    reached = [s for s, t in milestones.items() if t is not None]
    if not reached:
        return None
    return max(reached, key=STAGE_ORDER.__getitem__)


def stage_timeline(milestones: Mapping[Stage, datetime | None]) -> dict[Stage, datetime]:
    """When each stage up to the current one was entered (order-independent)."""
    current = derive_stage(milestones)
    if current is None:
        return {}
    out: dict[Stage, datetime] = {}
    for stage in Stage:
        if STAGE_ORDER[stage] > STAGE_ORDER[current]:
            break
        times = [t for s, t in milestones.items() if t is not None and STAGE_ORDER[s] >= STAGE_ORDER[stage]]
        out[stage] = min(times)
    return out
