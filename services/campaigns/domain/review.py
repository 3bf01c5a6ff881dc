"""Same-level review: who may review whose campaign.

A principal's level is the highest level of its roles (`ROLE_LEVELS`, configurable). With the `peer` policy
the reviewer must be at the creator's level; with `above`, at a higher one. Nobody reviews a campaign they
created or edited since it was last reviewed (the campaign's `authors`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import NotAPeer

DEFAULT_ROLE_LEVELS: dict[str, int] = {"manager": 1, "team_lead": 2, "admin": 3}
ReviewMode = Literal["peer", "above"]


def level_of(roles: Iterable[str], levels: Mapping[str, int]) -> int:
    """The highest level among `roles` (0 for roles without one)."""
    return max((levels.get(r, 0) for r in roles), default=0)


@dataclass(frozen=True)
class ReviewPolicy:
    mode: ReviewMode = "peer"

    def check(self, creator_level: int, reviewer_level: int) -> None:
        ok = reviewer_level == creator_level if self.mode == "peer" else reviewer_level > creator_level
        if not ok:
            wanted = "the creator's level" if self.mode == "peer" else "a level above the creator's"
            raise NotAPeer(f"the review needs a reviewer at {wanted} ({creator_level}); yours is {reviewer_level}")
