"""Domain errors, mapped to problem+json by the API (`status`) and to per-customer results in bulk commands."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The command contradicts the current state (resigned manager, duplicate id, over capacity)."""

    status = 409
    code = "conflict"


class Invalid(DomainError):
    """The command is malformed for this state (unknown team, bad target)."""

    status = 422
    code = "invalid"


class Forbidden(DomainError):
    """Outside the caller's data scope."""

    status = 403
    code = "out_of_scope"
