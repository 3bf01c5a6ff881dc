"""Domain errors (on the kit's `DomainError`: a stable `code` and the status the API answers with). The
domain never imports the web layer; `shared.runtime.api.domain_problem` maps them to problem+json."""

from __future__ import annotations

from shared.runtime.errors import DomainError, InvalidTransition

__all__ = ["ClaimedByOther", "DomainError", "FourEyesViolation", "InvalidTransition", "NotClaimed",
           "UnknownDocument", "UnknownReason"]


class NotClaimed(InvalidTransition):
    code = "case_not_claimed"


class ClaimedByOther(InvalidTransition):
    code = "case_claimed_by_other"


class FourEyesViolation(DomainError):
    """A reviewer tried to second-review a case they reviewed first → 403."""

    status = 403
    code = "four_eyes_violation"


class UnknownDocument(DomainError):
    """The document id is not part of the case → 422 naming the field (404 when it is the path's)."""

    status = 422
    code = "unknown_document"


class UnknownReason(DomainError):
    """The reason code is not in the configured reason list → 422 naming the field."""

    status = 422
    code = "unknown_reason"
