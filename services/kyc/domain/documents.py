"""Pure helpers over a case's documents and declarations (plain dicts, so events stay serialisable)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .rules import ACCEPTED, PENDING, SUPERSEDED, CompletionRules

Doc = dict[str, Any]


def incoming_document(d: Mapping[str, Any]) -> Doc:
    """A submitted document as stored on the case (only what review needs)."""
    return {
        "document_id": str(d["document_id"]),
        "kind": str(d["kind"]),
        "storage_ref": str(d["storage_ref"]),
        "uploaded_at": d["uploaded_at"],
    }


def merge_documents(
    current: Mapping[str, Doc], incoming: Iterable[Mapping[str, Any]], submission: int
) -> dict[str, Doc]:
    """The case's documents after a (re)submission.

    - a known document id with the same storage reference keeps its version and decision (unchanged file);
    - a known id with a new reference becomes a new version, pending review;
    - a new id is version 1, pending;
    - an earlier document not resubmitted is superseded when the new submission has a document of the same
      kind, otherwise it stays as it was (the customer only re-uploaded what was asked for).
    """
    docs = copy.deepcopy(dict(current))
    new_ids: list[str] = []
    new_kinds: set[str] = set()
    for raw in incoming:
        d = incoming_document(raw)
        new_ids.append(d["document_id"])
        new_kinds.add(d["kind"])
        old = docs.get(d["document_id"])
        if old is not None and old["storage_ref"] == d["storage_ref"] and old["status"] != SUPERSEDED:
            old["submission"] = submission
            continue
        version = (old["version"] + 1) if old is not None else 1
        docs[d["document_id"]] = {
            **d,
            "version": version,
            "status": PENDING,
            "submission": submission,
            "reason_code": None,
            "note": None,
            "decided_by": None,
            "decided_at": None,
        }
    for doc_id, doc in docs.items():
        if doc_id not in new_ids and doc["kind"] in new_kinds and doc["status"] != SUPERSEDED:
            doc["status"] = SUPERSEDED
    return docs


def active(docs: Mapping[str, Doc]) -> list[Doc]:
    return [d for d in docs.values() if d["status"] != SUPERSEDED]


def accepted_kinds(docs: Mapping[str, Doc]) -> set[str]:
    return {d["kind"] for d in active(docs) if d["status"] == ACCEPTED}


def present_fields(declarations: Mapping[str, Any], id_countries: Iterable[str | None]) -> set[str]:
    out = {k for k, v in declarations.items() if v is not None and v != ""}
    if any(id_countries):
        out.add("id_issuing_country")
    return out


def completion(
    rules: CompletionRules,
    docs: Mapping[str, Doc],
    declarations: Mapping[str, Any],
    id_countries: Iterable[str | None],
    flagged_fields: Iterable[str],
) -> int:
    fields = present_fields(declarations, id_countries) - set(flagged_fields)
    return rules.percentage(accepted_kinds(docs), fields)


def declarations_dict(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Declarations as stored: Decimal amounts as strings (exact), booleans, ints, short strings."""
    raw = raw or {}
    out: dict[str, Any] = {}
    for key in (
        "is_pep",
        "net_worth",
        "net_worth_currency",
        "annual_income",
        "investment_experience_years",
        "employment_status",
    ):
        value = raw.get(key)
        if isinstance(value, Decimal):
            value = str(value)
        out[key] = value
    out["is_pep"] = bool(out.get("is_pep") or False)
    return out


def as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
