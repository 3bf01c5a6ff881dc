"""Domain errors (on the kit's `DomainError`: a stable `code` and the status the API answers with)."""

from __future__ import annotations

from shared.runtime.errors import DomainError, InvalidTransition

__all__ = ["AlreadyExists", "DomainError", "InvalidInput", "InvalidTransition", "NotFound", "StillInUse"]


class InvalidInput(DomainError):
    """A value the rules refuse (unknown permission, wrong level in the tree, period ending before it starts)
    → 422 naming the field."""

    status = 422
    code = "invalid_input"


class NotFound(DomainError):
    """The role, node, staff member or assignment named in the path does not exist → 404."""

    status = 404
    code = "not_found"


class AlreadyExists(DomainError):
    """A role, node or staff member with this id exists already → 409."""

    code = "already_exists"


class StillInUse(DomainError):
    """A node that still has children, members or roles cannot be removed → 409."""

    code = "still_in_use"
