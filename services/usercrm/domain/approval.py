"""Maker-checker: which requests need a second person's approval before they are sent to the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from shared.events.crm_usercrm import RequestAction

MONEY_ACTIONS = frozenset({RequestAction.deposit, RequestAction.withdraw, RequestAction.start_allocation,
                           RequestAction.allocation_deposit})


@dataclass(frozen=True)
class ApprovalRules:
    """Money-moving requests above the threshold of their currency need approval. A currency without its
    own threshold uses `default_threshold` (conservative: configure every currency you trade in)."""

    thresholds: dict[str, Decimal] = field(default_factory=lambda: {"USD": Decimal("10000")})
    default_threshold: Decimal = Decimal("10000")

    def needs_approval(self, action: RequestAction, amount: Decimal | None, currency: str | None) -> bool:
        if action not in MONEY_ACTIONS or amount is None:
            return False
        limit = self.thresholds.get((currency or "").upper(), self.default_threshold)
        return amount > limit
