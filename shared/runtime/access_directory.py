"""A service's copy of who may do what: `crm.access.events` consumed into local tables, and the answer to
"what may user X do, over which customers, right now" for every request, whatever their token says.

- `AccessDirectory.consumer(producer)` is a `BatchConsumer` (group `whale-<service>-access`) through the one
  pipeline: undecodable records are dead-lettered on the service's dead-letter topic, the rest applied with
  their positions in one transaction (`SqlBatchHandler`). Each event carries the whole state of a role, an
  organisation node or a staff member with its version; a row keeps the highest version, so any order,
  repetition or replay gives the same tables (`rebuild()` replays the topic from its start: crm.* topics are
  kept forever).
- `AccessDirectory.access(user_id)` answers from those tables with the kit's rules (`shared.runtime.access`),
  cached per user for at most `refresh_s` seconds and never past the next start or end of one of their
  assignments; the consumer empties the cache of its own process after every batch. A staff exit or a lost
  role is therefore refused within (consumer lag + `refresh_s`) in every process that reads the tables.
- `AccessDirectory.resolve(principal)` (what `shared.runtime.auth.current_principal` calls when the app has a
  directory in `app.state.access_directory`) replaces the token's permissions, scope and teams with the
  directory's: an unknown or exited member is refused (`AuthError`, 401), a member without a role in force
  gets no permission (403 on every route). The token still proves who is calling (`sub`, `iss`, `aud`, `exp`).
  With `shadow=True` the token's claims stay in force and every difference from the directory is logged and
  counted: the check before a service is switched over.
- Until the directory has read the access topic up to the end it had when first asked (`loaded()`: the
  positions stored with the rows, or the group's commits past transaction markers), a caller it does not know
  is answered 503 with Retry-After (`AccessNotLoaded`), not 401: a first sign-in never races its first load.
  The API's readiness waits for the same (`ready`, a check `create_app` adds).
- `directory_for(service, settings, engine, sessions)` builds one from the service's settings
  (`<NAME>_ACCESS_DIRECTORY=off|shadow|enforce`, `<NAME>_ACCESS_REFRESH_S`); the kit's containers
  (`shared.runtime.container.AccessDirectoryWiring`) run its consumer and migrate its tables.
- The access service reads its own read model instead (`tables=` its `access_*` tables, `consumes=False`:
  written in the events' transactions, nothing to wait for) with `bootstrap=True`: while no active member
  holds `AccessManage` with the `all` scope, a caller who has not exited is judged by their token (logged
  `access_bootstrap`), so the first access manager can be created.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, delete, select
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, topics
from shared.events.crm_access import AccessOrgNodeChanged, AccessRoleChanged, AccessStaffChanged

from .access import (
    AccessTables,
    EffectiveAccess,
    Node,
    access_tables,
    dump_permissions,
    effective_access,
    load_facts,
    load_tree,
    utc,
)
from .auth import AccessNotLoaded, AuthError, Perm, Principal, Scope
from .db import Tracker, tracking_tables
from .handlers import SqlBatchHandler
from .kafka import BatchConsumer, EventProducer
from .logging import get_logger
from .metrics import ACCESS_MISMATCHES
from .replay import at_end, end_offsets, group_offsets, replay_to_end
from .settings import KafkaSettings, ServiceSettings
from .sqlrows import insert_ignore, upsert

log = get_logger("access_directory")
metadata = MetaData()
DIRECTORY = access_tables(metadata, "access_dir_")
POSITIONS, PROCESSED = tracking_tables(metadata)  # the same bookkeeping tables as the service's consumers
CONSUMER = "access-directory"


def _newest(rows: dict[str, dict[str, Any]], key: str, row: dict[str, Any]) -> None:
    held = rows.get(row[key])
    if held is None or held["version"] < row["version"]:
        rows[row[key]] = row


def apply_access_events(session: Session, tables: AccessTables, events: list[Event]) -> None:
    """Write a batch of crm.access events (any order, repeats) into `tables`: a fixed number of statements."""
    roles: dict[str, dict[str, Any]] = {}
    nodes: dict[str, dict[str, Any]] = {}
    staff: dict[str, AccessStaffChanged] = {}
    for ev in events:
        p = ev.payload
        if isinstance(p, AccessRoleChanged):
            _newest(roles, "role_id", {"role_id": p.role_id, "name": p.name,
                                       "permissions": dump_permissions(p.permissions), "scope": str(p.scope),
                                       "node_id": p.node_id, "retired": p.retired, "version": p.version,
                                       "changed_at": p.changed_at})
        elif isinstance(p, AccessOrgNodeChanged):
            _newest(nodes, "node_id", {"node_id": p.node_id, "kind": str(p.kind), "parent_id": p.parent_id,
                                       "name": p.name, "removed": p.removed, "version": p.version,
                                       "changed_at": p.changed_at})
        elif isinstance(p, AccessStaffChanged) and (p.staff_id not in staff or staff[p.staff_id].version < p.version):
            staff[p.staff_id] = p
    upsert(session, tables.role, [roles[k] for k in sorted(roles)], ["role_id"], newer="version")
    upsert(session, tables.node, [nodes[k] for k in sorted(nodes)], ["node_id"], newer="version")
    if not staff:
        return
    s, a = tables.staff, tables.assignment
    stored = dict(session.execute(select(s.c.staff_id, s.c.version).where(s.c.staff_id.in_(sorted(staff)))).all())
    fresh = [staff[k] for k in sorted(staff) if stored.get(k, 0) < staff[k].version]
    if not fresh:
        return
    upsert(session, s, [{"staff_id": p.staff_id, "node_id": p.node_id, "status": p.status, "version": p.version,
                         "changed_at": p.changed_at} for p in fresh], ["staff_id"])
    session.execute(delete(a).where(a.c.staff_id.in_([p.staff_id for p in fresh])))
    insert_ignore(session, a, [{"assignment_id": x.assignment_id, "staff_id": p.staff_id, "role_id": x.role_id,
                                "node_id": x.node_id, "effective_from": x.effective_from,
                                "effective_until": x.effective_until}
                               for p in fresh for x in p.assignments], ["assignment_id"])


@dataclass
class _Cached:
    access: EffectiveAccess
    expires: float  # monotonic


class AccessDirectory:
    def __init__(self, *, service: str, kafka: KafkaSettings, engine: Engine, sessions: sessionmaker[Session],
                 refresh_s: float = 1.0, cache_size: int = 10_000, batch_size: int = 500, retries: int = 3,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic, shadow: bool = False,
                 tables: AccessTables | None = None, consumes: bool = True, bootstrap: bool = False):
        self.service, self.kafka, self.engine, self.sessions = service, kafka, engine, sessions
        self.refresh_s, self.cache_size, self.batch_size, self.retries = refresh_s, cache_size, batch_size, retries
        self.clock, self.monotonic = clock, monotonic
        self.shadow = shadow  # compare with the token's claims and log, but let the token decide
        self.tables = tables or DIRECTORY
        self.consumes = consumes  # False: the tables are the access service's own read model
        self.bootstrap = bootstrap
        self._loaded = not consumes  # latched once the topic was read up to its end
        self._load_checked = float("-inf")
        self._managed_until = float("-inf")  # bootstrap: someone manages access (kept refresh_s)
        self.tracker = Tracker(POSITIONS, PROCESSED, CONSUMER)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._tree: tuple[float, dict[str, Node]] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ the tables
    def migrate(self) -> None:
        if self.consumes:  # else the tables are the access service's read model, created by the service
            metadata.create_all(self.engine)

    @property
    def topic(self) -> str:
        return self.kafka.topic(topics.CRM_ACCESS)

    def apply(self, session: Session, events: list[Event]) -> None:
        apply_access_events(session, self.tables, events)

    def handler(self) -> SqlBatchHandler:
        return SqlBatchHandler(self.sessions, self.tracker, self.apply, name=CONSUMER)

    @property
    def group_id(self) -> str:
        return f"{self.kafka.topic_prefix}whale-{self.service}-access"

    def consumer(self, producer: EventProducer, *, group_suffix: str = "") -> BatchConsumer:
        return BatchConsumer(settings=self.kafka, service=self.service, group_id=f"{self.group_id}{group_suffix}",
                             topics=[self.topic], handler=self.handler(), producer=producer,
                             dead_letter_topic=self.kafka.topic(topics.dead_letter_topic(self.service)),
                             batch_size=self.batch_size, retries=self.retries, on_applied=self.invalidate)

    def positions(self) -> dict[tuple[str, int], int]:
        with self.sessions() as s:
            return self.tracker.positions(s)

    async def rebuild(self, producer: EventProducer) -> int:
        """Empty the directory and replay crm.access.events from its start (the consumer stopped)."""
        def empty() -> None:
            with self.sessions.begin() as s:
                for table in self.tables.all:
                    s.execute(delete(table))
                s.execute(delete(POSITIONS).where(POSITIONS.c.consumer == CONSUMER))
                s.execute(delete(PROCESSED).where(PROCESSED.c.consumer == CONSUMER))

        await asyncio.to_thread(empty)
        self.invalidate()
        replayer = self.consumer(producer, group_suffix=f"-rebuild-{time.time_ns()}")
        count = await replay_to_end(replayer, self.positions, settings=self.kafka)
        self.invalidate()
        log.info("access_directory_rebuilt", service=self.service, events=count)
        return count

    async def loaded(self) -> bool:
        """The tables hold the access topic up to the end it had at the first look that found them there
        (latched: later events are the consumer's lag, which `refresh_s` bounds). Asked at most every 0.5 s."""
        if self._loaded:
            return True
        now = self.monotonic()
        if now - self._load_checked < 0.5:
            return False
        self._load_checked = now
        try:
            ends = await end_offsets(self.kafka, [self.topic])
            stored = await asyncio.to_thread(self.positions)
            committed = await group_offsets(self.kafka, self.group_id) if not at_end(stored, {}, ends) else {}
        except Exception as exc:  # noqa: BLE001 - the broker or the database away: not known to be loaded
            log.warning("access_directory_load_unknown", service=self.service, error=type(exc).__name__)
            return False
        if at_end(stored, committed, ends):
            self._loaded = True
            log.info("access_directory_loaded", service=self.service)
        return self._loaded

    async def ready(self) -> None:
        """Readiness check: raises until `loaded()`."""
        if not await self.loaded():
            raise AccessNotLoaded("the access directory has not read crm.access.events to its end yet")

    def bootstrapping(self, user_id: str) -> bool:
        """No active member holds AccessManage with the `all` scope (an answer kept `refresh_s` once someone
        does), and `user_id` has not exited."""
        s, a, r = self.tables.staff, self.tables.assignment, self.tables.role
        now = self.clock()
        with self.sessions() as session:
            status = session.execute(select(s.c.status).where(s.c.staff_id == user_id)).scalar()
            if status is not None and status != "active":
                return False
            if self._managed_until > self.monotonic():
                return False
            rows = session.execute(
                select(r.c.permissions, a.c.effective_from, a.c.effective_until)
                .join(a, a.c.role_id == r.c.role_id).join(s, s.c.staff_id == a.c.staff_id)
                .where(r.c.retired.is_(False), r.c.scope == "all", s.c.status == "active")).all()
        managed = any(str(Perm.AccessManage) in row.permissions and utc(row.effective_from) <= now
                      and (row.effective_until is None or now < utc(row.effective_until)) for row in rows)
        if managed:
            self._managed_until = self.monotonic() + self.refresh_s
        return not managed

    # ------------------------------------------------------------------------------ the answers
    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._tree = None

    def cached(self, user_id: str, now: datetime | None = None) -> EffectiveAccess | None:
        now = now or self.clock()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit is None or hit.expires <= self.monotonic():
                return None
            acc = hit.access
        return acc if acc.valid_until is None or now < acc.valid_until else None

    def access(self, user_id: str, now: datetime | None = None) -> EffectiveAccess:
        """What `user_id` may do at `now` (default: the clock): from the cache, else from the tables."""
        now = now or self.clock()
        hit = self.cached(user_id, now)
        if hit is not None:
            return hit
        started = self.monotonic()
        with self.sessions() as s:
            facts = load_facts(s, self.tables, user_id, tree=self._current_tree(s, started))
        acc = effective_access(facts, now)
        with self._lock:
            self._cache[user_id] = _Cached(acc, started + self.refresh_s)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return acc

    def _current_tree(self, session: Session, now: float) -> dict[str, Node]:
        with self._lock:
            kept = self._tree
        if kept is not None and kept[0] > now:
            return kept[1]
        tree = load_tree(session, self.tables)
        with self._lock:
            self._tree = (now + self.refresh_s, tree)
        return tree

    async def resolve(self, principal: Principal) -> Principal:
        """The caller's rights from the directory (the token only says who they are). In shadow mode the
        token's rights stay in force and a difference is logged (`access_directory_mismatch`, at most once per
        fresh answer per member) and counted (`whale_access_directory_mismatches_total`)."""
        acc = self.cached(principal.user_id)
        fresh = acc is None
        if acc is None:
            acc = await asyncio.to_thread(self.access, principal.user_id)
        if self.shadow:
            if fresh:
                self._compare(principal, acc)
            return principal
        if (self.bootstrap and str(Perm.AccessManage) not in acc.permissions
                and await asyncio.to_thread(self.bootstrapping, principal.user_id)):
            log.warning("access_bootstrap", user_id=principal.user_id)
            return principal
        if not acc.active:
            # an exit the directory holds is final; a member it does not hold yet may be in the unread rest
            if not acc.known and not await self.loaded():
                raise AccessNotLoaded("the access directory is still loading")
            log.info("access_refused", user_id=principal.user_id, reason="not an active staff member")
            raise AuthError("access revoked")
        return acc.principal()

    def _compare(self, token: Principal, acc: EffectiveAccess) -> None:
        if not acc.active:
            ACCESS_MISMATCHES.labels(self.service, "not_staff").inc()
            log.warning("access_directory_mismatch", user_id=token.user_id, kind="not_staff")
            return
        mine = acc.principal()
        missing, extra = sorted(token.permissions - mine.permissions), sorted(mine.permissions - token.permissions)
        scope_differs = token.scope != mine.scope or (mine.scope == Scope.team and set(token.teams) != set(mine.teams))
        if missing or extra or scope_differs:
            kind = "permissions" if missing or extra else "scope"
            ACCESS_MISMATCHES.labels(self.service, kind).inc()
            log.warning("access_directory_mismatch", user_id=token.user_id, kind=kind, token_only=missing,
                        directory_only=extra, token_scope=str(token.scope), directory_scope=str(mine.scope),
                        token_teams=list(token.teams), directory_teams=list(mine.teams))


def directory_for(service: str, settings: ServiceSettings, engine: Engine, sessions: sessionmaker[Session],
                  **kwargs: Any) -> AccessDirectory | None:
    """The service's access directory as its settings say (`<NAME>_ACCESS_DIRECTORY`): None when off."""
    if settings.access_directory == "off":
        return None
    return AccessDirectory(service=service, kafka=settings.kafka, engine=engine, sessions=sessions,
                           refresh_s=settings.access_refresh_s, batch_size=settings.consumer_batch_size,
                           retries=settings.consumer_retries, shadow=settings.access_directory == "shadow",
                           **kwargs)
