"""Domain errors; the API maps them to problem+json (409 for transitions, 403 for the four-eyes rule)."""

from __future__ import annotations


class RequestError(Exception):
    code = "request_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidTransition(RequestError):
    code = "invalid_transition"


class SelfApproval(RequestError):
    """Maker-checker: the requester may not approve (or decline) their own request."""

    code = "self_approval"


class UnknownRequest(RequestError):
    code = "unknown_request"
