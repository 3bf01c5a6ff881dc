"""The rows a batch just wrote, merged in memory exactly as the SQL statements merged them (so the derived
rows can be recomputed without reading them back)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .sqlutil import newest

TASK_COLS = ("customer_id", "node", "assignee_id", "team_id", "due_at", "created_at", "closed_at", "outcome")


def merge_tasks(old: dict[str, list[dict[str, Any]]],
                 written: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """As `_upsert_tasks`: known columns of a new fact win, missing ones keep what was stored."""
    by_id = {r["task_id"]: dict(r) for rows in old.values() for r in rows}
    for task_id, row in written.items():
        cur = by_id.setdefault(task_id, {"task_id": task_id, **dict.fromkeys(TASK_COLS)})
        for col in TASK_COLS:
            if row.get(col) is not None:
                cur[col] = row[col]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_id.values():
        out[r["customer_id"]].append(r)
    return out


def merge_kyc(old: dict[str, list[dict[str, Any]]], written: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """As `upsert_newer`: the newest (changed_at, event_id) per case wins."""
    by_id = {r["case_id"]: dict(r) for rows in old.values() for r in rows}
    for row in newest(written, "case_id"):
        cur = by_id.get(row["case_id"])
        if cur is None or (row["changed_at"], row["event_id"]) > (cur["changed_at"], cur["event_id"]):
            by_id[row["case_id"]] = dict(row)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_id.values():
        out[r["customer_id"]].append(r)
    return out


def merge_follow_ups(old: list[dict[str, Any]], written: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As `insert_ignore`: a follow-up id already stored (or earlier in the batch) keeps its first row."""
    seen = {r["follow_up_id"] for r in old}
    out = list(old)
    for row in written:
        if row["follow_up_id"] not in seen:
            seen.add(row["follow_up_id"])
            out.append(dict(row))
    return out
