"""What a request asked for, without personal data: shown on lists, timelines and the audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEPT = {
    "message": ("channel", "template_id"),
    "money": ("account_id", "fund_id", "allocation_id"),
    "stop_allocation": ("account_id", "allocation_id"),
    "new_account": ("account_type", "currency"),
    "owner": ("owner_id", "team_id", "previous_owner_id"),  # CRM user ids, not personal data
    "access": ("access_level", "previous_level"),
}


def summarise(params: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block, data in params.items():
        if block == "change":
            section = next(iter(data), None)
            out["section"] = section
            out["fields"] = sorted((data.get(section) or {}).keys()) if section else []
        else:
            out.update({k: data[k] for k in KEPT.get(block, ()) if data.get(k) is not None})
    return out
