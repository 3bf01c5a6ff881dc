"""Domain errors (on the kit's `DomainError`: a stable `code` and the status the API answers with)."""

from __future__ import annotations

from shared.runtime.errors import DomainError, InvalidTransition

__all__ = ["CampaignEnded", "DomainError", "InvalidPlan", "InvalidTransition", "NotAPeer", "OwnCampaign",
           "RejectionNeedsComment"]


class InvalidPlan(DomainError):
    """A plan the rules refuse (end before start, a team missing for the distribution) → 422 naming the field."""

    status = 422
    code = "invalid_plan"


class OwnCampaign(DomainError):
    """Nobody reviews a campaign they created or edited → 403."""

    status = 403
    code = "own_campaign"


class NotAPeer(DomainError):
    """The reviewer is not at the level the review policy asks for → 403."""

    status = 403
    code = "not_a_peer"


class RejectionNeedsComment(DomainError):
    status = 422
    code = "comment_required"


class CampaignEnded(InvalidTransition):
    code = "campaign_ended"
