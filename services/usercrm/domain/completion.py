"""Profile completion: how much of the personal information and KYC the user has filled in (100 = all)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The fields of the personal-information module that count, per section.
REQUIRED: dict[str, tuple[str, ...]] = {
    "general": ("email", "phone_number", "address_line", "city", "country", "language", "time_zone"),
    "personal": ("first_name", "last_name", "date_of_birth", "citizenship", "id_numbers"),
    "financial_status": ("employment_status", "income_source", "annual_income", "tax_residence", "tax_id"),
    "financial_experience": ("experience_years", "answers"),
}
BANKING_FIELD = "banking.bank_account"
KYC_WEIGHT = 6  # KYC documents weigh as much as six fields; scaled by the KYC case's own completion


@dataclass(frozen=True)
class Completion:
    pct: int
    missing: tuple[str, ...]  # "section.field" names, never values


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def completion(sections: Mapping[str, Mapping[str, Any]], bank_accounts: int, kyc_pct: int | None) -> Completion:
    missing = [f"{section}.{name}" for section, names in REQUIRED.items() for name in names
               if not _filled(sections.get(section, {}).get(name))]
    if bank_accounts <= 0:
        missing.append(BANKING_FIELD)
    total = sum(len(n) for n in REQUIRED.values()) + 1
    filled = total - len(missing)
    kyc = max(0, min(100, kyc_pct or 0)) / 100 * KYC_WEIGHT
    if kyc_pct is None or kyc_pct < 100:
        missing.append("compliance.kyc")
    pct = int(round(100 * (filled + kyc) / (total + KYC_WEIGHT)))
    return Completion(pct=pct, missing=tuple(missing))
