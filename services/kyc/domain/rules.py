"""Configurable KYC rules: high-risk flags (four-eyes), the reason list, what "complete" means, SLA limits.

All pure values and functions; `KycSettings` builds them from the environment at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

# Document statuses (per document version).
PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"
MORE_INFO = "more_info_requested"
SUPERSEDED = "superseded"
DOCUMENT_DECISIONS = (ACCEPTED, REJECTED, MORE_INFO)

# Built-in reason codes the service itself uses (always valid, whatever the configured list says).
MISSING_REQUIRED_DOCUMENT = "missing_required_document"
MISSING_REQUIRED_FIELD = "missing_required_field"

DEFAULT_REASONS: dict[str, str] = {
    "document_unreadable": "Document is blurred, cropped or unreadable",
    "document_expired": "Document has expired",
    "document_incomplete": "Pages or sides are missing",
    "document_type_not_accepted": "This document type is not accepted",
    "name_mismatch": "Name does not match the application",
    "address_mismatch": "Address does not match or is older than 3 months",
    "date_of_birth_mismatch": "Date of birth does not match",
    "selfie_mismatch": "Selfie does not match the ID photo",
    "suspected_forgery": "Document appears altered or forged",
    "questionnaire_incomplete": "Financial questionnaire is incomplete or inconsistent",
    "source_of_funds_unclear": "Source of funds or wealth needs clarification",
    "sanctions_or_watchlist_hit": "Sanctions or watch-list match",
    "other": "Other (see note)",
    MISSING_REQUIRED_DOCUMENT: "A required document was not submitted",
    MISSING_REQUIRED_FIELD: "A required field was not provided",
}

DEFAULT_REQUIRED_DOCUMENTS = ("id_front", "id_back", "proof_of_address", "selfie", "financial_questionnaire")
DEFAULT_REQUIRED_FIELDS = (
    "id_issuing_country",
    "net_worth",
    "annual_income",
    "investment_experience_years",
    "employment_status",
)
KNOWN_FIELDS = frozenset(DEFAULT_REQUIRED_FIELDS) | {"net_worth_currency", "is_pep"}


@dataclass(frozen=True)
class ReasonCatalog:
    reasons: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REASONS))

    def __contains__(self, code: object) -> bool:
        return code in self.reasons or code in (MISSING_REQUIRED_DOCUMENT, MISSING_REQUIRED_FIELD)

    def unknown(self, codes: Iterable[str]) -> list[str]:
        return [c for c in codes if c not in self]


@dataclass(frozen=True)
class RiskRules:
    """A case is high-risk (needs a second reviewer) when any rule matches. Flags are sticky per case."""

    high_risk_countries: frozenset[str] = frozenset({"IR", "KP", "MM"})
    pep_is_high_risk: bool = True
    # Declared net worth strictly above the threshold of its currency is high-risk. A net worth in a
    # currency without a threshold cannot be compared, so it is flagged (never silently let through).
    net_worth_thresholds: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "USD": Decimal("5000000"),
            "HKD": Decimal("39000000"),
            "SGD": Decimal("6700000"),
        }
    )
    default_currency: str = "USD"

    def assess(
        self,
        *,
        id_countries: Iterable[str | None],
        is_pep: bool,
        net_worth: Decimal | None,
        currency: str | None,
    ) -> list[str]:
        """Reasons the case is high-risk (empty list: not high-risk)."""
        reasons: list[str] = []
        for country in id_countries:
            if country and country in self.high_risk_countries:
                reasons.append(f"id_country:{country}")
        if is_pep and self.pep_is_high_risk:
            reasons.append("pep")
        if net_worth is not None:
            cur = currency or self.default_currency
            limit = self.net_worth_thresholds.get(cur)
            if limit is None:
                reasons.append(f"net_worth_currency_unrated:{cur}")
            elif Decimal(net_worth) > limit:
                reasons.append("net_worth_over_threshold")
        return sorted(set(reasons))


@dataclass(frozen=True)
class CompletionRules:
    """KYC completion: the share of required documents (by kind) and required fields that are accepted."""

    required_documents: tuple[str, ...] = DEFAULT_REQUIRED_DOCUMENTS
    required_fields: tuple[str, ...] = DEFAULT_REQUIRED_FIELDS

    def items(self) -> int:
        return len(self.required_documents) + len(self.required_fields)

    def missing_documents(self, accepted_or_pending_kinds: Iterable[str]) -> list[str]:
        have = set(accepted_or_pending_kinds)
        return [k for k in self.required_documents if k not in have]

    def missing_fields(self, present: Iterable[str]) -> list[str]:
        have = set(present)
        return [f for f in self.required_fields if f not in have]

    def percentage(self, accepted_kinds: Iterable[str], accepted_fields: Iterable[str]) -> int:
        """Integer percentage, rounded down (100 only when everything required is accepted)."""
        total = self.items()
        if total == 0:
            return 100
        kinds, fields = set(accepted_kinds), set(accepted_fields)
        done = sum(1 for k in self.required_documents if k in kinds) + sum(
            1 for f in self.required_fields if f in fields
        )
        return (done * 100) // total


@dataclass(frozen=True)
class SlaRules:
    """How long a case may wait in the queue (pending/resubmitted) and stay in review before it is overdue."""

    queue_seconds: int = 24 * 3600
    review_seconds: int = 8 * 3600
    second_review_seconds: int = 24 * 3600


@dataclass(frozen=True)
class KycRules:
    reasons: ReasonCatalog = field(default_factory=ReasonCatalog)
    risk: RiskRules = field(default_factory=RiskRules)
    completion: CompletionRules = field(default_factory=CompletionRules)
    sla: SlaRules = field(default_factory=SlaRules)
