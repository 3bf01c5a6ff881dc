"""Domain errors. The API maps them to problem+json statuses; the domain never imports the web layer."""

from __future__ import annotations


class KycError(Exception):
    """Base of every KYC domain error; `code` is a stable machine-readable name."""

    code = "kyc_error"

    def __init__(self, message: str, **context: str):
        super().__init__(message)
        self.message = message
        self.context = context


class InvalidTransition(KycError):
    """The command is not allowed in the case's (or document's) current state → 409."""

    code = "invalid_transition"


class NotClaimed(InvalidTransition):
    code = "case_not_claimed"


class ClaimedByOther(InvalidTransition):
    code = "case_claimed_by_other"


class FourEyesViolation(KycError):
    """A reviewer tried to second-review a case they reviewed first → 403."""

    code = "four_eyes_violation"


class UnknownDocument(KycError):
    """The document id is not part of the case → 422 naming `document_id`."""

    code = "unknown_document"


class UnknownReason(KycError):
    """The reason code is not in the configured reason list → 422 naming the field."""

    code = "unknown_reason"

    def __init__(self, message: str, field: str):
        super().__init__(message, field=field)
        self.field = field
