"""The existing-customer match step, run on every batch that creates or changes customers (whatever the source:
a platform registration, a KYC fact, an import), inside the batch's fold, before its one transaction.

For each customer whose match values changed (and which is not merged), the index (`customer_match_key`:
keyed hashes only) and the batch's own customers are searched for another customer with the same hash:
- an exact key (ID number, customer number, verified phone) → the customer is merged into the one already
  known: `crm.merged_into` on it, `crm.absorbed` (its milestones: the registration converts the existing
  customer) on the survivor; published as `crm.customer.merged`;
- the name + date of birth only → `crm.match_suspected` on it (the review queue), nothing merged.
A merged customer whose own facts move on refreshes its milestones on the survivor (`crm.absorbed` without a
reason). Decided facts carry ids derived from the fact that triggered them, so a batch re-applied after a
conflict decides the same facts, and the aggregates ignore ones they already hold.

Two customers with the same key created in the same moment on different partitions (two consumers) do not see
each other; the next fact that changes either one's keys matches them.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import ARRAY, String, bindparam, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.logging import get_logger

from .application import Batch, CustomerApplication, IngestCache
from .domain.customer import Customer, customer_uuid
from .domain.derive import own_milestones
from .domain.matching import Decision, MatchKeyer, decide
from .facts import crm_fact
from .projections.tables import Tables

log = get_logger("customer.matching")
MATCH_NAMESPACE = uuid.UUID("6b1f0c1e-5a43-4f7e-9d0b-2f4c1b8e7a55")


def decided_fact_id(trigger_id: str, what: str) -> str:
    return str(uuid.uuid5(MATCH_NAMESPACE, f"{trigger_id}:{what}"))


class _Postings:
    """The batch's customers by hash, in batch order: who earlier in the batch holds a hash, without
    comparing every pair (a 2,000-row import chunk compared 2 million pairs)."""

    def __init__(self, hashes: dict[uuid.UUID, dict[str, str]]):
        self.order = {k: i for i, k in enumerate(hashes)}
        self.by_hash: dict[tuple[str, str], list[uuid.UUID]] = {}
        for k, h in hashes.items():
            for kind, digest in h.items():
                self.by_hash.setdefault((kind, digest), []).append(k)

    def before(self, key: uuid.UUID, kind: str, digest: str) -> list[uuid.UUID]:
        mine = self.order[key]
        return [k for k in self.by_hash.get((kind, digest), ()) if self.order[k] < mine]


class Matcher:
    def __init__(self, sessions: sessionmaker[Session], tables: Tables, keyer: MatchKeyer):
        self.sessions, self.tables, self.keyer = sessions, tables, keyer

    def __call__(self, app: CustomerApplication, cache: IngestCache, batch: Batch) -> None:
        self._refresh_survivors(app, cache, batch)
        todo = [k for k, v in batch.views.items()
                if v.get("match") and v["match"] != batch.before_match.get(k) and not v.get("merged_into")
                and k in batch.last_fact]
        if not todo:
            return
        hashes = {k: self.keyer.hashes(batch.views[k]["match"]) for k in todo}
        indexed = self._lookup({(kind, d) for h in hashes.values() for kind, d in h.items()})
        earlier = _Postings(hashes)
        for key in todo:  # in batch order: an earlier customer of the batch is a candidate for a later one
            view = batch.views[key]
            if view.get("merged_into"):
                continue
            found = self._found(batch, key, hashes[key], indexed, earlier)
            decision = decide(found, refused_exact=_undone(view), refused_probable=_suggested(view))
            if decision is not None:
                self._apply(app, cache, batch, key, decision)

    # ---- lookup -------------------------------------------------------------------------------
    def _lookup(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """Who holds each (kind, digest) in the index: on PostgreSQL one statement for the whole batch (a join
        against the pairs as two array parameters: a 2,000-row import chunk asked ~12 statements of 1,000
        parameters each, which psycopg parsed and PostgreSQL planned one by one); elsewhere IN lists."""
        t = self.tables.match_key
        out: dict[tuple[str, str], set[str]] = {}
        items = sorted(pairs)
        if not items:
            return out
        with self.sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                pairs_ = (select(func.unnest(bindparam("kinds", [k for k, _ in items], type_=ARRAY(String)))
                                 .label("kind"),
                                 func.unnest(bindparam("digests", [d for _, d in items], type_=ARRAY(String)))
                                 .label("digest")).subquery("pairs"))
                rows = session.execute(select(t.c.kind, t.c.digest, t.c.customer_id)
                                       .join(pairs_, (t.c.kind == pairs_.c.kind) & (t.c.digest == pairs_.c.digest)))
                for kind, digest, cid in rows:
                    out.setdefault((kind, digest), set()).add(cid)
                return out
            for i in range(0, len(items), 500):
                rows = session.execute(select(t.c.kind, t.c.digest, t.c.customer_id)
                                       .where(tuple_(t.c.kind, t.c.digest).in_(items[i:i + 500])))
                for kind, digest, cid in rows:
                    out.setdefault((kind, digest), set()).add(cid)
        return out

    def _found(self, batch: Batch, key: uuid.UUID, own: dict[str, str],
               indexed: dict[tuple[str, str], set[str]], earlier: _Postings) -> dict[str, set[str]]:
        """Other customers holding one of `own`'s hashes: in the index as it was before the batch (unless the
        batch changed or merged them), or earlier in this batch."""
        me = batch.views[key]["customer_id"]
        found: dict[str, set[str]] = {}
        for kind, digest in own.items():
            for cid in indexed.get((kind, digest), ()):
                other = batch.views.get(customer_uuid(cid))
                if cid == me or (other is not None and (other.get("merged_into")
                                                        or self.keyer.hashes(other.get("match") or {})
                                                        .get(kind) != digest)):
                    continue
                found.setdefault(kind, set()).add(cid)
        for kind, digest in own.items():
            for other_key in earlier.before(key, kind, digest):
                other = batch.views[other_key]
                if not other.get("merged_into"):
                    found.setdefault(kind, set()).add(other["customer_id"])
        return found

    # ---- decisions ----------------------------------------------------------------------------
    def _apply(self, app: CustomerApplication, cache: IngestCache, batch: Batch, key: uuid.UUID,
               decision: Decision) -> None:
        customer = batch.customers[key]
        trigger = batch.last_fact[key]
        cid = customer.customer_id
        if decision.kind == "probable":
            _record(batch, key, crm_fact(decided_fact_id(trigger["id"], f"suspected:{decision.candidate_id}"),
                                         "crm.match_suspected", trigger["at"],
                                         {"candidate_id": decision.candidate_id, "reason": decision.reason}))
            log.info("customer_match_suspected", customer_id=cid, candidate_id=decision.candidate_id,
                     reason=decision.reason)
            return
        survivor_key = self._load(app, cache, batch, decision.candidate_id)
        if survivor_key is None:
            return
        _record(batch, key, crm_fact(decided_fact_id(trigger["id"], f"merged_into:{decision.candidate_id}"),
                                     "crm.merged_into", trigger["at"],
                                     {"survivor_id": decision.candidate_id, "reason": decision.reason, "by": None}))
        _record(batch, survivor_key, crm_fact(decided_fact_id(trigger["id"], f"absorbed:{cid}"), "crm.absorbed",
                                              trigger["at"], {"merged_id": cid, "reason": decision.reason,
                                                              "milestones": own_milestones(customer.state)}))
        log.info("customer_merged", survivor_id=decision.candidate_id, merged_id=cid, reason=decision.reason)

    def _refresh_survivors(self, app: CustomerApplication, cache: IngestCache, batch: Batch) -> None:
        """A merged customer's milestones moved (a deposit on the platform account): its survivor follows."""
        for key in list(batch.last_fact):
            view = batch.views[key]
            survivor_id = view.get("merged_into")
            if not survivor_id or batch.last_fact[key]["type"].startswith("crm."):
                continue
            ms = own_milestones(batch.customers[key].state)
            survivor_key = self._load(app, cache, batch, survivor_id)
            if survivor_key is None:
                continue
            entry = (batch.customers[survivor_key].state.get("absorbed") or {}).get(view["customer_id"]) or {}
            if (entry.get("milestones") or {}).get("values") == ms:
                continue
            trigger = batch.last_fact[key]
            _record(batch, survivor_key, crm_fact(decided_fact_id(trigger["id"], f"absorbed:{view['customer_id']}"),
                                                  "crm.absorbed", trigger["at"],
                                                  {"merged_id": view["customer_id"], "milestones": ms}))

    def _load(self, app: CustomerApplication, cache: IngestCache, batch: Batch, customer_id: str) -> uuid.UUID | None:
        """The batch's own aggregate, else a fresh read: never the ingest cache's copy, which an API command may
        have made stale, and which a failed batch must not leave changed (only the batch's event customers are
        evicted on failure)."""
        key = customer_uuid(customer_id)
        if key in batch.customers:
            return key
        try:
            customer: Customer = app.repository.get(key)  # type: ignore[assignment]
        except AggregateNotFoundError:
            log.warning("customer_match_candidate_missing", customer_id=customer_id)
            return None
        batch.add(key, customer, customer.view)
        return key


def _record(batch: Batch, key: uuid.UUID, fact: dict[str, Any]) -> None:
    new_view = batch.customers[key].record(fact, batch.views[key])
    if new_view is not None:
        batch.views[key] = new_view


def _undone(view: dict[str, Any]) -> set[str]:
    """Pairs a person separated (rejected, or merged and unmerged): never linked again automatically."""
    return ({x["candidate_id"] for x in view.get("suspects") or [] if x["status"] in ("rejected", "unmerged")}
            | set(view.get("separated_ids") or ()))


def _suggested(view: dict[str, Any]) -> set[str]:
    return {x["candidate_id"] for x in view.get("suspects") or []}
