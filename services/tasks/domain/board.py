"""`CustomerTasks`: one customer's follow-up tasks.

The invariant "one open task per customer per node" spans every task of a customer, so the customer's
task list is the consistency boundary: one aggregate per customer, each task an entity inside it,
identified by the event that caused it (`task_id_for(cause, node)`). Decisions are made in the plain
command methods; the `@event` methods only record the decided change (they are replayed on load).

Outcomes do not depend on arrival order. Facts reach the task list late and out of order (across topics,
and the customer service publishes in the order *it* learnt things), so every decision that depends on
the customer's current state is taken against that state, by business time:
- the stage only moves forward (`stage`, `stage_at`); a node the current stage has made stale
  (`is_stale_for`) is never opened, and is closed as converted when the stage gets there;
- the account status and each KYC case's state are last-writer-wins registers ordered by
  (business time, event id): a late, older fact changes nothing, and the `account_rejected` and
  `kyc_more_info` tasks are open exactly while the latest status / some case's latest state asks for
  them (a newer application, an opened account, a resubmission or an approval close them);
- a fact older than the follow-up that completed a node's last task (`done_at`) opens no new task for
  that node: had it arrived in time, that follow-up would have closed it;
- assignments are kept per stage (`manager_id`/`team_id` for every stage, `stage_owners` per stage): an
  open task is always with the owner of the customer's current stage (see `owners.py`), so it moves when
  the stage or that stage's assignment changes.
So the open tasks are a function of the set of facts (property test over shuffled orders).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.events.crm_customer import Stage

from .nodes import (
    STAGE_NODES,
    TASK_NAMESPACE,
    Node,
    Policy,
    TaskNotFound,
    TaskNotOpen,
    TaskStatus,
    is_stale_for,
    stage_rank,
    task_id_for,
)
from .owners import ANY_STAGE, Owner, apply_change, owner_for, owners_as_of, stage_key

REJECTED = "rejected"  # AccountStatus.rejected
MORE_INFO, KYC_REJECTED = "more_info_requested", "rejected"  # KYC states
_TICK = timedelta(microseconds=1)
SEEN_MAX = 64  # upstream event ids remembered (re-publication of an event at another offset)
CLOSED_MAX = 200  # closed task ids remembered (so a late command gets 409, not 404)
HISTORY_MAX = 50  # assignment changes remembered (attribution of closed tasks by event time)


def campaign_slot(campaign_id: str) -> str:
    """The key of a campaign's follow-up among a customer's open tasks (one per campaign, beside the nodes)."""
    return f"{Node.campaign_followup.value}:{campaign_id}"


def wealth_slot(event_key: str) -> str:
    """The key of a wealth calendar event's task among a customer's open tasks (one per event)."""
    return f"{Node.wealth_event.value}:{event_key}"


class CustomerTasks(Aggregate):
    # Defaults for task lists stored (or snapshotted) before these registers existed. Not annotated (the
    # aggregate class would take them for constructor fields); the dicts are replaced, never mutated.
    stage_at = None  # datetime | None: when the customer entered the current stage
    account = None  # dict | None: the latest account status {status, at, cause}
    kyc = MappingProxyType({})  # case id -> the case's latest state {state, at, cause}
    done_at = MappingProxyType({})  # node -> when a follow-up last completed a task of it
    stage_owners = MappingProxyType({})  # stage -> [manager, team]: stage-specific assignments
    campaigns = MappingProxyType({})  # campaign id -> the task its follow-up request opened (never trimmed)
    wealth = MappingProxyType({})  # wealth calendar event key -> the task its reminder opened (never trimmed)
    merge = None  # dict | None: merged into another customer {survivor_id, active, at, cause} (last writer wins)

    @staticmethod
    def create_id(customer_id: str) -> uuid.UUID:
        return uuid.uuid5(TASK_NAMESPACE, f"customer-tasks:{customer_id}")

    @event("Started")
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.manager_id: str | None = None
        self.team_id: str | None = None
        self.stage: str | None = None
        self.open: dict[str, dict[str, Any]] = {}  # node (or campaign slot) -> task
        self.closed: dict[str, dict[str, Any]] = {}  # task id -> outcome, node, closed at, attribution
        self.history: list[dict[str, Any]] = []  # assignments by event time: at, manager_id, team_id
        self.seen: list[str] = []

    class StartedWithTask(Aggregate.Created):
        """A task list started with its first task open: one stored event instead of `Started` + `TaskOpened`
        (a campaign's start makes 100,000 of them for customers the service has no task list for). Carries
        the fields of `TaskOpened`, so the read model and the outbox treat it as one."""

        customer_id: str
        task_id: str
        node: str
        assignee_id: str | None
        team_id: str | None
        due_at: datetime
        created_at: datetime
        cause: str
        campaign_id: str | None
        event_key: str | None

        def apply(self, aggregate: CustomerTasks) -> None:
            aggregate._open_task(task_id=self.task_id, node=self.node, assignee_id=self.assignee_id,
                                 team_id=self.team_id, due_at=self.due_at, created_at=self.created_at,
                                 cause=self.cause, campaign_id=self.campaign_id, event_key=self.event_key)

    @classmethod
    def started_by_campaign(cls, customer_id: str, campaign_id: str, follow_up_id: str, manager_id: str | None,
                            team_id: str | None, requested_at: datetime, due_at: datetime,
                            cause: str) -> CustomerTasks:
        """The task list of a customer first heard of through a campaign's follow-up request: the state, rows
        and published `task_created` of `CustomerTasks(customer_id)` + `request_campaign_follow_up(...)`, in
        one event (`StartedWithTask`)."""
        return cls._create(cls.StartedWithTask, id=cls.create_id(customer_id), customer_id=customer_id,
                           **cls._campaign_task(campaign_id, follow_up_id, manager_id, team_id, requested_at,
                                                due_at, cause))

    @staticmethod
    def _campaign_task(campaign_id: str, follow_up_id: str, manager_id: str | None, team_id: str | None,
                       requested_at: datetime, due_at: datetime, cause: str) -> dict[str, Any]:
        """The opened task of a campaign's follow-up request (the fields of `TaskOpened` but the customer)."""
        return {"task_id": task_id_for(follow_up_id, Node.campaign_followup), "node": Node.campaign_followup.value,
                "assignee_id": manager_id, "team_id": team_id, "due_at": due_at, "created_at": requested_at,
                "cause": cause, "campaign_id": campaign_id, "event_key": None}

    # ------------------------------------------------------------------------------ queries
    def open_task(self, task_id: str) -> dict[str, Any] | None:
        return next((t for t in self.open.values() if t["task_id"] == task_id), None)

    def has_seen(self, event_id: str) -> bool:
        return event_id in self.seen

    def owners(self) -> dict[str, Owner]:
        """Current owners by stage key (`*` = every stage)."""
        out: dict[str, Owner] = {ANY_STAGE: (self.manager_id, self.team_id)}
        out.update({k: (v[0], v[1]) for k, v in self.stage_owners.items()})
        return out

    def owner(self) -> Owner:
        """Who the customer's open tasks belong to: the owner of its current stage."""
        return owner_for(self.owners(), self.stage)

    def as_of(self, at: datetime, stage: str | None = None) -> Owner:
        """Manager and team of `stage` by event time: the assignment changes at or before `at`."""
        return owner_for(owners_as_of(self.history, at), stage)

    def _owner_at(self, at: datetime, stage: str | None) -> dict[str, Any]:
        manager, team = self.as_of(at, stage)
        return {"assignee_id": manager, "team_id": team, "stage": stage}

    def _attribute_closed(self) -> None:
        """A closed task belongs to whoever had the customer (for the stage it closed in) when it closed, by
        event time, whatever the order in which the customer and assignment topics were consumed: fix
        late-known attributions."""
        for task_id, info in list(self.closed.items()):
            if info["node"] == Node.campaign_followup.value:
                continue  # attributed to the owner the campaign chose
            owner = self.as_of(info["at"], info.get("stage"))
            if owner != (info["assignee_id"], info["team_id"]):
                self._task_attributed(customer_id=self.customer_id, task_id=task_id, node=info["node"],
                                      assignee_id=owner[0], team_id=owner[1])

    # ------------------------------------------------------------------------------ commands
    def assign(self, manager_id: str, team_id: str | None, at: datetime, cause: str,
               stage: str | None = None) -> None:
        """Assign the customer for `stage` (None or `*`: every stage)."""
        key = stage_key(stage)
        if self.has_seen(cause) or self.owners().get(key) == (manager_id, team_id):
            return
        reason = "reassigned" if self.owner()[0] else "assigned"
        self._assignment_changed(manager_id=manager_id, team_id=team_id, at=at, cause=cause,
                                 stage=None if key == ANY_STAGE else key)
        self._attribute_closed()
        self._follow_owner(at, reason)

    def unassign(self, manager_id: str, team_id: str | None, at: datetime, cause: str, reason: str,
                 stage: str | None = None) -> None:
        """The customer went back to the pool for `stage` (None or `*`: every stage, and the manager's
        stage-specific assignments too): open tasks go to the every-stage owner, or wait in the team queue
        (or the pool queue)."""
        key = stage_key(stage)
        owners = self.owners()
        if self.has_seen(cause):
            return
        if key != ANY_STAGE:
            if owners.get(key, (None,))[0] != manager_id:
                return  # stale: that stage is no longer (or never was) this manager's
            self._assignment_changed(manager_id=None, team_id=None, at=at, cause=cause, stage=key)
        elif self.manager_id == manager_id:
            self._assignment_changed(manager_id=None, team_id=team_id or self.team_id, at=at, cause=cause,
                                     released=manager_id)
        elif any(o[0] == manager_id for o in owners.values()):  # only some stages were theirs
            self._assignment_changed(manager_id=self.manager_id, team_id=self.team_id, at=at, cause=cause,
                                     released=manager_id)
        else:
            return  # stale: the customer is no longer (or never was) this manager's
        self._attribute_closed()
        self._follow_owner(at, reason)

    def _follow_owner(self, at: datetime, reason: str) -> None:
        """Open tasks move to the owner of the customer's current stage."""
        manager_id, team_id = self.owner()
        for task in list(self.open.values()):
            if task.get("campaign_id"):
                continue  # a campaign follow-up stays with the owner the campaign chose
            if task["assignee_id"] != manager_id or task["team_id"] != team_id:
                self._task_moved(customer_id=self.customer_id, task_id=task["task_id"], node=task["node"],
                                 assignee_id=manager_id, team_id=team_id,
                                 previous_assignee_id=task["assignee_id"], at=at, reason=reason)

    def observe_account_status(self, status: str, at: datetime, cause: str, policy: Policy) -> None:
        """The account status is the latest by business time; `account_rejected` is open while it is
        `rejected` (and the stage has not made it stale)."""
        cur = self.account
        if not self.has_seen(cause) and (cur is None or (at, cause) > (cur["at"], cur["cause"])):
            self._account_status_observed(status=status, at=at, cause=cause)
        latest = self.account
        wanted = latest is not None and latest["status"] == REJECTED
        self._reconcile(Node.account_rejected, latest if wanted else None, TaskStatus.converted, at, cause, policy)

    def observe_kyc(self, case_id: str, state: str, at: datetime, cause: str, policy: Policy) -> None:
        """Each KYC case's state is the latest by business time; `kyc_more_info` is open while a case's
        latest state is more information requested. Closed as converted (resubmitted, approved) or
        cancelled (rejected)."""
        cur = self.kyc.get(case_id)
        if not self.has_seen(cause) and (cur is None or (at, cause) > (cur["at"], cur["cause"])):
            self._kyc_state_observed(case_id=case_id, state=state, at=at, cause=cause)
        asking = [c for c in self.kyc.values() if c["state"] == MORE_INFO]
        latest = max(asking, key=lambda c: (c["at"], c["cause"])) if asking else None
        outcome = TaskStatus.cancelled if state == KYC_REJECTED else TaskStatus.converted
        self._reconcile(Node.kyc_more_info, latest, outcome, at, cause, policy)

    def _reconcile(self, node: Node, wanted: dict[str, Any] | None, outcome: TaskStatus, at: datetime,
                   cause: str, policy: Policy) -> None:
        """Open `node` for the fact `wanted` (keyed by that fact, whichever fact got here last), or close
        it when no fact wants it any more."""
        if wanted is not None:
            self.open_for(node, wanted["at"], wanted["cause"], policy)
        else:
            self.close_node(node, outcome, at, cause)

    def observe_stage(self, stage: Stage, at: datetime, cause: str, policy: Policy) -> None:
        """Stages only move forward: a late or replayed older stage changes nothing."""
        if self.has_seen(cause) or stage_rank(stage) <= stage_rank(self.stage):
            return
        before = self.stage
        self._stage_observed(stage=stage.value, at=at, cause=cause)
        for task in list(self.open.values()):
            if is_stale_for(Node(task["node"]), stage):  # converted: credit to the stage it was open in
                self._task_closed(customer_id=self.customer_id, task_id=task["task_id"], node=task["node"],
                                  **self._owner_at(at, before), outcome=TaskStatus.converted.value,
                                  at=at, cause=cause, by=None)
        self._follow_owner(at, "stage_changed")
        node = STAGE_NODES.get(stage)
        if node is not None:
            self.open_for(node, at, cause, policy)

    @property
    def merged(self) -> bool:
        return bool(self.merge and self.merge["active"])

    def merge_into(self, survivor_id: str, at: datetime, cause: str) -> None:
        """The customer was merged into `survivor_id` (crm.customer.merged): its open tasks are cancelled and
        it opens none while merged (the survivor's own tasks follow the customer: no duplicate follow-up)."""
        if not self._merge_is_newer(at, cause):
            return
        self._merge_changed(survivor_id=survivor_id, active=True, at=at, cause=cause)
        for task in sorted(self.open.values(), key=lambda t: t["task_id"]):
            self._task_closed(customer_id=self.customer_id, task_id=task["task_id"], node=task["node"],
                              **self._task_owner(task, at), outcome=TaskStatus.cancelled.value, at=at,
                              cause=cause, by=None)

    def unmerge(self, at: datetime, cause: str, policy: Policy) -> None:
        """The merge was undone: the customer's task of its current stage opens again."""
        if not self._merge_is_newer(at, cause):
            return
        was_merged = self.merged  # recorded either way: a merge older than this unmerge, arriving later, is stale
        self._merge_changed(survivor_id=None, active=False, at=at, cause=cause)
        node = STAGE_NODES.get(Stage(self.stage)) if self.stage else None
        if node is not None and was_merged:
            self.open_for(node, at, cause, policy)

    def _merge_is_newer(self, at: datetime, cause: str) -> bool:
        return not self.has_seen(cause) and (self.merge is None or (at, cause) > (self.merge["at"],
                                                                                  self.merge["cause"]))

    def open_for(self, node: Node, at: datetime, cause: str, policy: Policy, *,
                 due_at: datetime | None = None) -> str | None:
        """Open a task of `node` unless one is already open, this cause already made it, the customer's
        stage has made the node stale, a follow-up completed the node after this fact happened, or the
        customer is merged into another."""
        task_id = task_id_for(cause, node)
        if node.value in self.open or task_id in self.closed or self.merged:
            return None
        if (self.stage is not None and is_stale_for(node, Stage(self.stage))) or at < self.done_at.get(node.value, at):
            return None
        manager_id, team_id = self.owner()
        self._task_opened(customer_id=self.customer_id, task_id=task_id, node=node.value, assignee_id=manager_id, team_id=team_id,
                          due_at=due_at or policy.due_at(node, at), created_at=at, cause=cause)
        return task_id

    def close_node(self, node: Node, outcome: TaskStatus, at: datetime, cause: str,
                   by: str | None = None) -> None:
        task = self.open.get(node.value)
        if task is not None:
            self._task_closed(customer_id=self.customer_id, task_id=task["task_id"], node=node.value,
                              **self._owner_at(at, self.stage), outcome=outcome.value, at=at,
                              cause=cause, by=by)

    def complete(self, task_id: str, follow_up_id: str, by: str, at: datetime) -> None:
        task = self.open_task(task_id)
        if task is None:
            if task_id in self.closed:
                raise TaskNotOpen(f"task is already {self.closed[task_id]['outcome']}")
            raise TaskNotFound("no such task for this customer")
        self._task_closed(customer_id=self.customer_id, task_id=task_id, node=task["node"],
                          **self._task_owner(task, at), outcome=TaskStatus.completed.value, at=at,
                          cause=follow_up_id, by=by)

    def _task_owner(self, task: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Who a closing task is credited to: a campaign follow-up's own assignee, otherwise the owner of
        the customer's current stage at `at`."""
        if task.get("campaign_id"):
            return {"assignee_id": task["assignee_id"], "team_id": task["team_id"], "stage": self.stage}
        return self._owner_at(at, self.stage)

    def request_campaign_follow_up(self, campaign_id: str, follow_up_id: str, manager_id: str | None,
                                   team_id: str | None, requested_at: datetime, due_at: datetime,
                                   cause: str) -> str | None:
        """A campaign's follow-up request: one task per customer per campaign (keyed by the request's
        `follow_up_id`, remembered per campaign so a duplicate or re-published request opens nothing), for
        the manager (or team queue) the campaign chose, due at the campaign's end. Several campaigns'
        follow-ups can be open side by side; the customer's stage and assignments do not move or close them."""
        if campaign_id in self.campaigns or self.merged:
            return None
        task = self._campaign_task(campaign_id, follow_up_id, manager_id, team_id, requested_at, due_at, cause)
        self._task_opened(customer_id=self.customer_id, **task)
        return str(task["task_id"])

    def close_campaign(self, campaign_id: str, at: datetime, cause: str) -> str | None:
        """The campaign closed: its follow-up, if still open, is cancelled (no outreach after the close)."""
        task = self.open.get(campaign_slot(campaign_id))
        if task is None:
            return None
        self._task_closed(customer_id=self.customer_id, task_id=task["task_id"], node=task["node"],
                          **self._task_owner(task, at), outcome=TaskStatus.cancelled.value, at=at, cause=cause,
                          by=None)
        return str(task["task_id"])

    def remind_wealth_event(self, event_key: str, due_at: datetime, at: datetime, cause: str) -> str | None:
        """A wealth calendar event's reminder (`crm.customer.wealth_event_due`): one task per customer per
        event (keyed by the event's key, remembered so a duplicate or re-published reminder opens nothing),
        for the owner of the customer's current stage, whom it follows like a node's task; due on the event's
        day. Several events' tasks can be open side by side; a follow-up on the task completes it."""
        if event_key in self.wealth or self.merged:
            return None
        task_id = task_id_for(f"{self.customer_id}:{event_key}", Node.wealth_event)
        manager_id, team_id = self.owner()
        self._task_opened(customer_id=self.customer_id, task_id=task_id, node=Node.wealth_event.value,
                          assignee_id=manager_id, team_id=team_id, due_at=due_at, created_at=at, cause=cause,
                          event_key=event_key)
        return task_id

    def schedule(self, follow_up_id: str, due_at: datetime, at: datetime, policy: Policy) -> str | None:
        """A follow-up's next follow-up time: one scheduled task per customer, the newest wins."""
        self.close_node(Node.scheduled_follow_up, TaskStatus.cancelled, at, follow_up_id)
        return self.open_for(Node.scheduled_follow_up, at, follow_up_id, policy, due_at=due_at)

    # ------------------------------------------------------------------------------ recorded changes
    def _remember(self, cause: str | None) -> None:
        if cause and cause not in self.seen:
            self.seen.append(cause)
            del self.seen[:-SEEN_MAX]

    @event("AssignmentChanged")
    def _assignment_changed(self, manager_id: str | None, team_id: str | None, at: datetime, cause: str,
                            stage: str | None = None, released: str | None = None) -> None:
        owners = apply_change(self.owners(), stage, manager_id, team_id, released)
        self.manager_id, self.team_id = owners.pop(ANY_STAGE)
        self.stage_owners = {k: [m, t] for k, (m, t) in owners.items()}
        entry = {"at": at, "manager_id": manager_id, "team_id": team_id, "stage": stage, "released": released}
        index = next((i for i, e in enumerate(self.history) if e["at"] > at), len(self.history))
        self.history.insert(index, entry)
        del self.history[:-HISTORY_MAX]
        self._remember(cause)

    @event("MergeChanged")
    def _merge_changed(self, survivor_id: str | None, active: bool, at: datetime, cause: str) -> None:
        self.merge = {"survivor_id": survivor_id, "active": active, "at": at, "cause": cause}
        self._remember(cause)

    @event("StageObserved")
    def _stage_observed(self, stage: str, at: datetime, cause: str) -> None:
        self.stage, self.stage_at = stage, at
        self._remember(cause)

    @event("AccountStatusObserved")
    def _account_status_observed(self, status: str, at: datetime, cause: str) -> None:
        self.account = {"status": status, "at": at, "cause": cause}
        self._remember(cause)

    @event("KycStateObserved")
    def _kyc_state_observed(self, case_id: str, state: str, at: datetime, cause: str) -> None:
        self.kyc = {**self.kyc, case_id: {"state": state, "at": at, "cause": cause}}
        self._remember(cause)

    @event("TaskOpened")
    def _task_opened(self, customer_id: str, task_id: str, node: str, assignee_id: str | None, team_id: str | None,
                     due_at: datetime, created_at: datetime, cause: str, campaign_id: str | None = None,
                     event_key: str | None = None) -> None:
        self._open_task(task_id=task_id, node=node, assignee_id=assignee_id, team_id=team_id, due_at=due_at,
                        created_at=created_at, cause=cause, campaign_id=campaign_id, event_key=event_key)

    def _open_task(self, *, task_id: str, node: str, assignee_id: str | None, team_id: str | None,
                   due_at: datetime, created_at: datetime, cause: str, campaign_id: str | None,
                   event_key: str | None) -> None:
        """The state change of an opened task (`TaskOpened`, `StartedWithTask`)."""
        task = {"task_id": task_id, "node": node, "assignee_id": assignee_id, "team_id": team_id,
                "due_at": due_at, "created_at": created_at, "cause": cause}
        slot = node
        if campaign_id:
            task["campaign_id"] = campaign_id
            self.campaigns = {**self.campaigns, campaign_id: task_id}
            slot = campaign_slot(campaign_id)
        if event_key:
            task["event_key"] = event_key
            self.wealth = {**self.wealth, event_key: task_id}
            slot = wealth_slot(event_key)
        self.open[slot] = task
        self._remember(cause)

    def _slot_of(self, task_id: str, node: str) -> str:
        """The key of an open task in `open`: its node, or its campaign's / wealth event's slot."""
        return next((k for k, t in self.open.items() if t["task_id"] == task_id), node)

    @event("TaskMoved")
    def _task_moved(self, customer_id: str, task_id: str, node: str, assignee_id: str | None, team_id: str | None,
                    previous_assignee_id: str | None, at: datetime, reason: str) -> None:
        task = self.open[self._slot_of(task_id, node)]
        task["assignee_id"], task["team_id"] = assignee_id, team_id

    @event("TaskClosed")
    def _task_closed(self, customer_id: str, task_id: str, node: str, assignee_id: str | None,
                     team_id: str | None, outcome: str, at: datetime, cause: str | None,
                     by: str | None, stage: str | None = None) -> None:
        self.open.pop(self._slot_of(task_id, node), None)
        self.closed[task_id] = {"outcome": outcome, "node": node, "at": at, "assignee_id": assignee_id,
                                "team_id": team_id, "stage": stage}
        if outcome == TaskStatus.completed.value and at > self.done_at.get(node, at - _TICK):
            self.done_at = {**self.done_at, node: at}
        if len(self.closed) > CLOSED_MAX:
            for old in list(self.closed)[: len(self.closed) - CLOSED_MAX]:
                del self.closed[old]
        self._remember(cause)

    @event("TaskAttributed")
    def _task_attributed(self, customer_id: str, task_id: str, node: str, assignee_id: str | None,
                         team_id: str | None) -> None:
        self.closed[task_id].update(assignee_id=assignee_id, team_id=team_id)
