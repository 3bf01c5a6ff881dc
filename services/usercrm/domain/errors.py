"""Domain errors (on the kit's `DomainError`); the API maps them to problem+json with
`shared.runtime.api.domain_problem`: 409 for transitions, 403 for the maker-checker rule, 404 unknown."""

from __future__ import annotations

from shared.runtime.errors import DomainError, InvalidTransition

__all__ = ["DomainError", "InvalidTransition", "SelfApproval", "UnknownRequest"]


class SelfApproval(DomainError):
    """Maker-checker: the requester may not approve (or decline) their own request."""

    status = 403
    code = "self_approval"


class UnknownRequest(DomainError):
    status = 404
    code = "unknown_request"
