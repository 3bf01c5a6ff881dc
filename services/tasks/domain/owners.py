"""Stage-specific owners (seed 000: "a single customer may be managed by different account managers at
different stages"): a customer's assignments are kept per stage (`*` = every stage) and a task goes to
the owner of the customer's current stage, else to the every-stage owner.

Pure functions over the task list's assignment history (entries by event time), so the owner in force at
any moment can be recomputed whatever order the assignment facts arrived in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

ANY_STAGE = "*"
Owner = tuple[str | None, str | None]  # (manager, team)
NOBODY: Owner = (None, None)


def stage_key(stage: str | None) -> str:
    """The assignment's stage as a key: None and `*` both mean every stage."""
    return stage or ANY_STAGE


def apply_change(owners: Mapping[str, Owner], stage: str | None, manager_id: str | None, team_id: str | None,
                 released: str | None) -> dict[str, Owner]:
    """The owners after one assignment change: the stage's owner set (a stage-specific change without a
    manager removes that stage's own owner, so the every-stage owner applies again); `released` (a manager
    unassigned from every stage) loses the stage-specific assignments too."""
    out = dict(owners)
    key = stage_key(stage)
    if released:
        out = {k: o for k, o in out.items() if k == ANY_STAGE or o[0] != released}
    if key != ANY_STAGE and manager_id is None:
        out.pop(key, None)
    else:
        out[key] = (manager_id, team_id)
    return out


def owner_for(owners: Mapping[str, Owner], stage: str | None) -> Owner:
    """The owner of `stage`: its own, else the every-stage owner."""
    own = owners.get(stage) if stage else None
    return own or owners.get(ANY_STAGE) or NOBODY


def owners_as_of(history: Iterable[Mapping[str, Any]], at: datetime) -> dict[str, Owner]:
    """The owners in force at `at` (the assignment changes at or before it, by event time)."""
    owners: dict[str, Owner] = {}
    for entry in history:
        if entry["at"] > at:
            break
        owners = apply_change(owners, entry.get("stage"), entry["manager_id"], entry["team_id"],
                              entry.get("released"))
    return owners
