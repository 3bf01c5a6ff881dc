"""Reading the profile facts: each section is the fold of its updates in (time, event id) order, so the
answer does not depend on the order the updates arrived in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import tables as t

SECTIONS = ("general", "personal", "financial_status", "financial_experience", "social")


def _facts(session: Session, customer_id: str, sections: Iterable[str]) -> list[Any]:
    f = t.fact
    return list(session.execute(select(f.c.section, f.c.item_id, f.c.at, f.c.data).where(
        f.c.customer_id == customer_id, f.c.section.in_(list(sections))).order_by(f.c.at, f.c.event_id)))


def profile_sections(session: Session, customer_id: str, sections: Iterable[str] = SECTIONS) -> dict[str, dict]:
    out: dict[str, dict[str, Any]] = {}
    for section, _, at, data in _facts(session, customer_id, sections):
        out[section] = {**out.get(section, {}), **data, "updated_at": at}
    return out


def items(session: Session, customer_id: str, section: str) -> dict[str, dict[str, Any]]:
    """Per item (bank account, KYC case): the fold of its updates, with the time of the last one."""
    out: dict[str, dict[str, Any]] = {}
    for _, item_id, at, data in _facts(session, customer_id, (section,)):
        out[item_id] = {**out.get(item_id, {}), **data, "updated_at": at}
    return out


def bank_accounts(session: Session, customer_id: str) -> list[dict[str, Any]]:
    return [b for b in items(session, customer_id, "banking").values() if not b.get("removed")]


def latest_kyc(session: Session, customer_id: str) -> dict[str, Any] | None:
    cases = items(session, customer_id, "kyc")
    return max(cases.values(), key=lambda c: c["updated_at"]) if cases else None
