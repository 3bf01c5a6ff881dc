"""The consumer's apply function: raw rows in, then every derived row of each touched customer recomputed
from that customer's whole history (order-independent), and the node counters moved by the difference."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from shared.events import Event
from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import dialect_insert, insert_ignore

from ..domain.clock import local_date_of, week_start
from ..domain.daily import CAMPAIGN_NODE, COUNTED_KINDS, DailyKey, daily_contributions, due_contributions
from ..domain.derive import MERGE_MARKS, CustomerTimeline, HistoryItem, Owner, funnel_credits
from . import tables as t
from .ingest import RawBatch, collect
from .merge import TASK_COLS as _TASK_COLS
from .merge import merge_follow_ups as _merge_follow_ups
from .merge import merge_kyc as _merge_kyc
from .merge import merge_tasks as _merge_tasks
from .sqlutil import chunks, is_postgres, newest, upsert_newer

log = get_logger("summary.projection")

ContribKey = tuple[str, str, str, str]
_ZERO = Decimal("0.00005")  # dimension, node, manager ("" none), team ("" none)


@dataclass
class Loaded:
    state: dict[str, dict[str, Any]]
    tasks: dict[str, list[dict[str, Any]]]
    kyc: dict[str, list[dict[str, Any]]]
    facts: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    due: list[dict[str, Any]] = field(default_factory=list)


class FactProjector:
    """`apply(session, events)` for `SqlBatchHandler`."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz

    def __call__(self, session: Session, events: list[Event]) -> None:
        self.apply(session, events)

    def apply(self, session: Session, events: list[Event]) -> None:
        batch = collect(events)
        customers = _with_merge_links(session, batch, sorted(batch.customers)) if batch.customers else []
        if is_postgres(session) and customers:
            _lock(session, customers)
        old = _load(session, customers, with_facts=True) if customers else None
        _write_raw(session, batch)
        if old is not None:
            # the rows just written, merged in memory exactly as the SQL statements merged them
            new = Loaded(old.state, _merge_tasks(old.tasks, batch.tasks), _merge_kyc(old.kyc, batch.kyc),
                         follow_ups=_merge_follow_ups(old.follow_ups, batch.follow_ups))
            after, daily_after = self.recompute(session, customers, new)
            _move_counts(session, contributions(old), after)
            daily_before = daily_contributions(self.tz, old.facts, old.follow_ups) + due_contributions(self.tz, old.due)
            _move_daily(session, daily_before, daily_after)
        log.debug("summary_batch_applied", events=len(events), customers=len(customers), ignored=batch.ignored)

    # -- derived rows ------------------------------------------------------------------------------
    def recompute(self, session: Session, customers: list[str],
                  loaded: Loaded) -> tuple[Counter[ContribKey], Counter[DailyKey]]:
        history = _history(session, customers)
        follow_ups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for fu in loaded.follow_ups:
            follow_ups[fu["customer_id"]].append(fu)
        facts, states, funnels, credits, due = [], [], [], [], []
        fu_updates: list[dict[str, Any]] = []
        fu_after: list[dict[str, Any]] = []
        links: dict[str, str] = {}
        for cid in customers:
            tl = CustomerTimeline(history.get(cid, ()))
            if (survivor := tl.survivor()) is not None:
                # counted as its survivor: no stage, milestones, funnel or due items of its own
                links[cid] = survivor
                states.append({"customer_id": cid, "stage": None, "stage_at": None, "manager_id": None,
                               "team_id": None})
                nodes_of = {task["task_id"]: task.get("node") for task in loaded.tasks.get(cid, [])}
                fu_after += [{**fu, "task_node": nodes_of.get(fu["task_id"]) if fu.get("task_id") else None}
                             for fu in follow_ups.get(cid, [])]
                continue
            own_facts = tl.facts()
            facts += [{"customer_id": cid, "kind": f.kind, "ref": f.ref, "at": f.at, "manager_id": f.manager_id,
                       "team_id": f.team_id, "secs_since_applied": f.secs_since_applied,
                       "secs_since_registered": f.secs_since_registered, "share": f.share,
                       "co_manager_id": f.co_manager_id, "co_team_id": f.co_team_id} for f in own_facts]
            stage, stage_at = tl.current_stage()
            owner = tl.current_owner()
            states.append({"customer_id": cid, "stage": stage, "stage_at": stage_at,
                           "manager_id": owner.manager_id, "team_id": owner.team_id})
            fn = tl.funnel()
            if fn.registered_at is not None:
                funnels.append({"customer_id": cid, "registered_at": fn.registered_at,
                                "cohort_week": week_start(local_date_of(fn.registered_at, self.tz)),
                                "applied_at": fn.applied_at, "opened_at": fn.opened_at, "funded_at": fn.funded_at,
                                "traded_at": fn.traded_at, "manager_id": fn.owner.manager_id,
                                "team_id": fn.owner.team_id})
                credits += [{"customer_id": cid, "milestone": m, "part": part, "manager_id": mgr, "team_id": team,
                             "share": share} for m, part, mgr, team, share in funnel_credits(own_facts)]
            fus = follow_ups.get(cid, [])
            task_nodes = {task["task_id"]: task.get("node") for task in loaded.tasks.get(cid, [])}
            for fu in fus:
                fu_stage = tl.stage_at(fu["recorded_at"])
                fu_team = tl.owner_at(fu["recorded_at"], fu_stage).team_id
                if (fu["stage"], fu["team_id"]) != (fu_stage, fu_team):
                    fu_updates.append({"k_id": fu["follow_up_id"], "v_stage": fu_stage, "v_team": fu_team})
                fu_after.append({**fu, "stage": fu_stage, "team_id": fu_team,
                                 "task_node": task_nodes.get(fu["task_id"]) if fu.get("task_id") else None})
            due += _due_items(cid, stage, owner, loaded.tasks.get(cid, []), fus)
        _follow_survivors(states, links)
        _replace(session, t.merge_link, customers, [{"customer_id": m, "survivor_id": s} for m, s in links.items()])
        _replace(session, t.fact, customers, facts)
        _replace(session, t.funnel, customers, funnels)
        _replace(session, t.funnel_credit, customers, credits)
        _replace(session, t.due_item, customers, due)
        _upsert_states(session, states)
        if fu_updates:
            session.execute(
                update(t.follow_up).where(t.follow_up.c.follow_up_id == bindparam("k_id"))
                .values(stage=bindparam("v_stage"), team_id=bindparam("v_team"))
                .execution_options(synchronize_session=False),
                fu_updates,
            )
        nodes = contributions(Loaded({s["customer_id"]: s for s in states}, loaded.tasks, loaded.kyc))
        return nodes, daily_contributions(self.tz, facts, fu_after) + due_contributions(self.tz, due)


def _follow_survivors(states: list[dict[str, Any]], links: dict[str, str]) -> None:
    """A merged customer's state carries its final survivor's current owner (and no stage), so its KYC cases
    count once, under that owner (its survivors are always among the customers recomputed with it)."""
    by_id = {s["customer_id"]: s for s in states}
    for state in states:
        cid, seen = state["customer_id"], set()
        while cid in links and cid not in seen:  # a survivor merged in its turn: its own survivor's owner
            seen.add(cid)
            cid = links[cid]
        if cid != state["customer_id"] and cid not in links and (final := by_id.get(cid)) is not None:
            state["manager_id"], state["team_id"] = final["manager_id"], final["team_id"]


# ---- loading ------------------------------------------------------------------------------------------
def _with_merge_links(session: Session, batch: RawBatch, customers: list[str]) -> list[str]:
    """The customers a batch touches and all those linked to them by merges (merged into them or they are
    merged into, now or by a merge mark of the batch, transitively), whose derived rows depend on each other."""
    out = set(customers) | {h["a"] for h in batch.history if h["kind"] in MERGE_MARKS and h["a"]}
    link = t.merge_link.c
    frontier = sorted(out)
    while frontier:
        found: set[str] = set()
        for part in chunks(frontier):
            for merged_id, survivor_id in session.execute(
                    select(link.customer_id, link.survivor_id)
                    .where(or_(link.customer_id.in_(part), link.survivor_id.in_(part)))):
                found |= {merged_id, survivor_id}
        frontier = sorted(found - out)
        out |= found
    return sorted(out)


def _lock(session: Session, customers: list[str]) -> None:
    """Serialise concurrent workers on the same customers (derived rows are read-modify-write)."""
    insert_ignore(session, t.customer_state, [{"customer_id": c} for c in customers])
    for part in chunks(customers):
        session.execute(select(t.customer_state.c.customer_id)
                        .where(t.customer_state.c.customer_id.in_(part))
                        .order_by(t.customer_state.c.customer_id).with_for_update())


def _by_customer(session: Session, table: Any, customers: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for part in chunks(customers):
        for row in session.execute(select(table).where(table.c.customer_id.in_(part))).mappings():
            out[row["customer_id"]].append(dict(row))
    return out


def _history(session: Session, customers: list[str]) -> dict[str, list[HistoryItem]]:
    out: dict[str, list[HistoryItem]] = defaultdict(list)
    h = t.customer_history.c
    for part in chunks(customers):
        rows = session.execute(select(h.customer_id, h.at, h.event_id, h.kind, h.a, h.b, h.c, h.d)
                               .where(h.customer_id.in_(part)))
        for cid, at, eid, kind, a, b, c, d in rows:
            out[cid].append(HistoryItem(at, eid, kind, a, b, c, d))
    return out


def _load(session: Session, customers: list[str], *, with_facts: bool = False) -> Loaded:
    state: dict[str, dict[str, Any]] = {}
    for part in chunks(customers):
        for row in session.execute(select(t.customer_state)
                                   .where(t.customer_state.c.customer_id.in_(part))).mappings():
            state[row["customer_id"]] = dict(row)
    loaded = Loaded(state, _by_customer(session, t.task, customers), _by_customer(session, t.kyc_case, customers))
    if with_facts:
        loaded.facts = _rows_of(session, t.fact, customers, t.fact.c.kind.in_(COUNTED_KINDS))
        loaded.follow_ups = _rows_of(session, t.follow_up, customers)
        loaded.due = _rows_of(session, t.due_item, customers)
    return loaded


def _rows_of(session: Session, table: Any, customers: list[str], *cond: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in chunks(customers):
        out += [dict(r) for r in session.execute(select(table).where(table.c.customer_id.in_(part), *cond))
                .mappings()]
    return out


# ---- node counters ------------------------------------------------------------------------------------
def contributions(loaded: Loaded) -> Counter[ContribKey]:
    """What the loaded customers add to the node counters: their stage, their KYC cases' states (both under
    the customer's current owner) and their open tasks (under `task_manager`, and the task's team else the owner's)."""
    out: Counter[ContribKey] = Counter()
    customers = set(loaded.state) | set(loaded.tasks) | set(loaded.kyc)
    for cid in customers:
        st = loaded.state.get(cid) or {}
        mgr, team = st.get("manager_id") or "", st.get("team_id") or ""
        if st.get("stage"):
            out[("stage", st["stage"], mgr, team)] += 1
        for case in loaded.kyc.get(cid, ()):
            out[("kyc", case["state"], mgr, team)] += 1
        for task in loaded.tasks.get(cid, ()):
            if _open(task):
                out[("task", task.get("node") or "", task_manager(task, mgr) or "",
                      task.get("team_id") or team)] += 1
    return out


def task_manager(task: dict[str, Any], owner_manager: str | None) -> str | None:
    """Whom an open task counts for: its assignee; an unassigned node task follows the customer's owner (the
    tasks service moves it with the customer), but a campaign follow-up stays with the owner the campaign chose,
    so one queued to a team (no assignee) counts for that team's queue only, never for the customer's manager."""
    if task.get("node") == CAMPAIGN_NODE:
        return task.get("assignee_id")  # type: ignore[no-any-return]
    return task.get("assignee_id") or owner_manager


def _open(task: dict[str, Any]) -> bool:
    return task.get("created_at") is not None and task.get("closed_at") is None


def _move(session: Session, table: Any, keys: tuple[str, ...], before: Counter[Any], after: Counter[Any]) -> None:
    """Add after − before to the counter rows (upsert n = n + delta); drop the rows a decrement brought to 0."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    delta = {k: d for k, d in delta.items() if d}
    if not delta:
        return
    rows = [{**dict(zip(keys, k, strict=True)), "n": d} for k, d in sorted(delta.items())]
    for part in chunks(rows):
        stmt = dialect_insert(session, table)
        session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_={"n": table.c.n + stmt.excluded.n}),
                        list(part))
    shrunk = [{f"k_{c}": v for c, v in zip(keys, k, strict=True)} for k, d in sorted(delta.items()) if d < 0]
    if shrunk:  # by primary key: never a scan of the whole counter table
        # |n| below half the last place: a fractional counter back to 0 (SQLite sums shares as REAL)
        session.execute(delete(table).where(*[table.c[c] == bindparam(f"k_{c}") for c in keys],
                                            func.abs(table.c.n) < _ZERO)
                        .execution_options(synchronize_session=False), shrunk)


def _move_counts(session: Session, before: Counter[ContribKey], after: Counter[ContribKey]) -> None:
    _move(session, t.node_count, ("dimension", "node", "manager_id", "team_id"), before, after)


def _move_daily(session: Session, before: Counter[DailyKey], after: Counter[DailyKey]) -> None:
    _move(session, t.daily_count, ("day", "metric", "manager_id", "team_id"), before, after)


# ---- writing --------------------------------------------------------------------------------------
def _write_raw(session: Session, batch: RawBatch) -> None:
    insert_ignore(session, t.customer_history, batch.history)
    insert_ignore(session, t.follow_up, batch.follow_ups)
    if batch.tasks:
        _upsert_tasks(session, list(batch.tasks.values()))
    if batch.kyc:
        upsert_newer(session, t.kyc_case, "case_id", newest(batch.kyc, "case_id"))
    if batch.managers:
        upsert_newer(session, t.manager, "manager_id", newest(batch.managers, "manager_id"))
    if batch.teams:
        upsert_newer(session, t.team, "team_id", newest(batch.teams, "team_id"))




def _upsert_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Created and closed facts fill their own columns, whichever arrives first (coalesce keeps what is known)."""
    full = [{c: r.get(c) for c in ("task_id", *_TASK_COLS)} for r in rows]
    for part in chunks(full):
        stmt = dialect_insert(session, t.task)
        set_ = {c: func.coalesce(stmt.excluded[c], t.task.c[c]) for c in _TASK_COLS}
        session.execute(stmt.on_conflict_do_update(index_elements=["task_id"], set_=set_), list(part))


def _replace(session: Session, table: Any, customers: list[str], rows: list[dict[str, Any]]) -> None:
    for part in chunks(customers):
        session.execute(delete(table).where(table.c.customer_id.in_(part)))
    for part in chunks(rows):
        session.execute(table.insert(), list(part))


def _upsert_states(session: Session, rows: list[dict[str, Any]]) -> None:
    for part in chunks(rows):
        stmt = dialect_insert(session, t.customer_state)
        set_ = {c: stmt.excluded[c] for c in ("stage", "stage_at", "manager_id", "team_id")}
        session.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], set_=set_), list(part))


def _due_items(cid: str, stage: str | None, owner: Owner, tasks: Iterable[dict[str, Any]],
               follow_ups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open tasks, and the next follow-up the latest follow-up record asked for (if any)."""
    last = max(follow_ups, key=lambda f: (f["recorded_at"], f["follow_up_id"]), default=None)
    intent = last["intent"] if last else None
    tags = last["tags"] if last else "|"
    last_at: datetime | None = last["recorded_at"] if last else None
    items = []
    for task in tasks:
        if _open(task) and task.get("due_at") is not None:
            items.append({"item_id": f"task:{task['task_id']}", "customer_id": cid, "source": "task",
                          "node": task.get("node"), "stage": stage, "due_at": task["due_at"],
                          "manager_id": task_manager(task, owner.manager_id),
                          "team_id": task.get("team_id") or owner.team_id, "intent": intent, "tags": tags,
                          "last_follow_up_at": last_at})
    if last is not None and last["next_follow_up_at"] is not None:
        items.append({"item_id": f"next:{cid}", "customer_id": cid, "source": "next_follow_up",
                      "node": stage, "stage": stage, "due_at": last["next_follow_up_at"],
                      "manager_id": owner.manager_id or last["manager_id"], "team_id": owner.team_id,
                      "intent": intent, "tags": tags, "last_follow_up_at": last_at})
    return items
