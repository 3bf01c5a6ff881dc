"""The faust agents with `agent.test_context()`: records go through the real pipeline into the service's one
SQLite database, event store and read models, the task rows folded in the events' transaction (no broker)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.tasks.application import TasksApplication
from services.tasks.consumers import EngineHandler, cards_handler
from services.tasks.domain.board import CustomerTasks
from services.tasks.domain.nodes import Policy
from services.tasks.outbox import to_messages
from services.tasks.projections import tables
from services.tasks.projections.readmodel import apply_stored_events, open_campaign_customers
from shared.events import encode, registry
from shared.events.crm_assignment import CustomerAssigned
from shared.events.crm_campaigns import CampaignClosed, TargetFollowUpRequested
from shared.events.crm_customer import CustomerOnboarded, StageChanged
from shared.events.crm_kyc import KycCaseDecided
from shared.runtime.db import Tracker, make_engine, session_factory
from shared.runtime.deadletter import Inbound
from shared.runtime.eventstore import build_application
from shared.runtime.pipeline import Pipeline
from shared.runtime.projection import rebuild_from_store
from shared.runtime.settings import KafkaSettings
from shared.runtime.streams import FaustDriver

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
KAFKA = KafkaSettings(topic_prefix="unit.")


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def send_raw(self, topic: str, value: bytes, key=None, headers=None) -> None:
        self.sent.append((topic, json.loads(value)))


class Engine:
    def __init__(self, url: str):
        engine = make_engine(url)
        tables.metadata.create_all(engine)
        self.app = build_application(TasksApplication, url)
        self.app.policy = Policy()
        self.app.read_model = apply_stored_events
        self.sessions = session_factory(engine)
        self.app.campaign_customers = open_campaign_customers(self.sessions)
        topics = [KAFKA.topic(t) for t in ("crm.customer.events", "crm.assignment.events", "crm.kyc.events",
                                           "crm.campaigns.events")]
        self.producer = FakeProducer()
        self.processor = Pipeline(
            [cards_handler(self.sessions, Tracker(tables.consumer_position, tables.processed_event, "cards")),
             EngineHandler(self.app, "engine", topics)],
            producer=self.producer, dead_letter_topic="unit.crm.tasks.dlq", service="tasks", group="whale-tasks",
            backoff_s=0.001,
        )
        self.faust = FaustDriver(KAFKA, self.processor, group="unit.whale-tasks", topics=topics,
                                 client_id="tasks-engine", window_s=0.005)

    def agent(self, name: str):
        return self.faust.agent_for(KAFKA.topic(f"crm.{name}.events"))

    def open_nodes(self, cid: str) -> dict[str, dict]:
        board = self.app.board(cid)
        return dict(board.open) if board else {}

    def task_rows(self, cid: str) -> list[dict]:
        with self.sessions() as s:
            return [dict(r) for r in s.execute(select(tables.tasks).where(tables.tasks.c.customer_id == cid)
                                               .order_by(tables.tasks.c.created_at, tables.tasks.c.node)).mappings()]

    def card(self, cid: str):
        with self.sessions() as s:
            return s.execute(select(tables.customers).where(tables.customers.c.customer_id == cid)).mappings().first()


def raw(payload, **kw) -> bytes:
    return encode(registry.envelope(payload, producer="unit", **kw))


def stage(cid: str, to: str, frm: str | None = None, at: datetime = T0) -> bytes:
    return raw(StageChanged(customer_id=cid, from_stage=frm, to_stage=to, changed_at=at, cause_event_id="f1",
                            cause_event_type="unit.fact"))


@pytest.fixture()
def engine(sqlite_url) -> Engine:
    return Engine(sqlite_url("tasks_unit"))


async def test_agents_turn_events_into_one_task_per_node(engine, poll):
    cid = "c-agent-1"
    duplicate = stage(cid, "pending_account_opening", "registered", T0 + timedelta(hours=1))
    async with engine.agent("customer").test_context() as customer, \
            engine.agent("assignment").test_context() as assignment:
        await customer.put(raw(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="app", name="Bo Li")),
                           key=cid.encode())
        await assignment.put(raw(CustomerAssigned(customer_id=cid, manager_id="m1", team_id="t1", reason="rule",
                                                  assigned_at=T0)), key=cid.encode())
        await customer.put(stage(cid, "registered"), key=cid.encode())
        await customer.put(duplicate, key=cid.encode())
        await customer.put(duplicate, key=cid.encode())  # re-published at another offset: same event id
        await poll(lambda: "pending_account_opening" in engine.open_nodes(cid), timeout=10, message="task opened")
        await poll(lambda: engine.processor.applied >= 5, timeout=10, message="all five records applied")
    nodes = engine.open_nodes(cid)
    assert list(nodes) == ["pending_account_opening"]
    assert nodes["pending_account_opening"]["assignee_id"] == "m1"
    board = engine.app.board(cid)
    assert sum(1 for c in board.closed.values() if c["outcome"] == "converted") == 1
    card = engine.card(cid)
    assert card["name"] == "Bo Li" and card["manager_id"] == "m1" and card["stage"] == "pending_account_opening"
    # the task rows were written in the transactions that stored the task list's events (no projection runs)
    rows = {r["node"]: r for r in engine.task_rows(cid)}
    assert rows["pending_account_opening"]["status"] == "open"
    assert rows["pending_account_opening"]["assignee_id"] == "m1"
    assert rows["pending_account_opening"]["task_id"] == nodes["pending_account_opening"]["task_id"]
    assert [r["status"] for n, r in rows.items() if n != "pending_account_opening"] == ["converted"]


async def test_redelivered_offsets_are_skipped_and_poison_is_dead_lettered(engine, poll):
    cid = "c-agent-2"
    topic = KAFKA.topic("crm.kyc.events")
    decided = raw(KycCaseDecided(case_id="k1", customer_id=cid, application_id="a1", decision="more_info_requested",
                                 decided_by="r1", decided_at=T0, completion_pct=60))
    async with engine.agent("kyc").test_context() as kyc:
        await kyc.put(b"{not json", key=cid.encode())
        await kyc.put(decided, key=cid.encode())
        await poll(lambda: "kyc_more_info" in engine.open_nodes(cid), timeout=10, message="kyc task")
    assert len(engine.producer.sent) == 1
    dlq_topic, record = engine.producer.sent[0]
    assert dlq_topic == "unit.crm.tasks.dlq" and record["error"]["field"] == "$"
    version = engine.app.board(cid).version
    # Kafka re-delivers offsets 0-1 after a restart: nothing is applied (or dead-lettered) twice.
    await engine.processor.process([Inbound(topic, 0, 0, cid.encode(), b"{not json", 0),
                                    Inbound(topic, 0, 1, cid.encode(), decided, 0)])
    assert engine.app.board(cid).version == version
    assert len(engine.producer.sent) == 1


async def test_the_same_event_twice_in_one_batch_has_one_effect(engine):
    cid = f"c-{uuid.uuid4().hex[:8]}"
    topic = KAFKA.topic("crm.customer.events")
    event = stage(cid, "registered")
    await engine.processor.process([Inbound(topic, 1, 0, cid.encode(), event, 0),
                                    Inbound(topic, 1, 1, cid.encode(), event, 0)])
    board = engine.app.board(cid)
    assert list(board.open) == ["tmt_registration"] and board.version == 3  # started, stage, task


class Picky:
    """A handler that can never apply one particular event (and records what it applied)."""

    name = "picky"

    def __init__(self, poison_customer: str):
        self.poison, self.applied, self.stored = poison_customer, [], {}

    def position(self, topic, partition):
        return self.stored.get((topic, partition))

    def apply(self, topic, partition, events, next_offset):
        from shared.runtime.errors import PermanentError

        if any(e.payload.customer_id == self.poison for e in events):
            raise PermanentError("cannot apply")
        self.applied += [e.payload.customer_id for e in events]
        self.stored[(topic, partition)] = next_offset


async def test_an_event_a_handler_can_never_apply_is_dead_lettered_and_the_rest_applied():
    handler, producer = Picky("c-bad"), FakeProducer()
    processor = Pipeline([handler], producer=producer, dead_letter_topic="dlq", service="tasks",
                         group="whale-tasks", attempts=2, backoff_s=0.001)
    topic = KAFKA.topic("crm.customer.events")
    records = [Inbound(topic, 0, i, cid.encode(), stage(cid, "registered"), 0)
               for i, cid in enumerate(["c-a", "c-bad", "c-b"])]
    await processor.process(records)
    assert handler.applied == ["c-a", "c-b"] and handler.stored[(topic, 0)] == 3
    [(dlq, record)] = producer.sent
    assert dlq == "dlq" and record["original"]["offset"] == 1 and record["error"]["type"] == "PermanentError"


async def test_first_stage_of_a_customer_whose_task_list_exists_already(engine):
    # The assignment reached the engine before the customer's first stage: the first stage finds the task
    # list the assignment created and adds to it; nothing is lost.
    cid = "c-optimistic"
    assignment = KAFKA.topic("crm.assignment.events")
    customer = KAFKA.topic("crm.customer.events")
    await engine.processor.process([Inbound(assignment, 0, 0, cid.encode(), raw(CustomerAssigned(
        customer_id=cid, manager_id="m7", team_id="t1", reason="rule", assigned_at=T0)), 0)])
    await engine.processor.process([Inbound(customer, 0, 0, cid.encode(), stage(cid, "registered"), 0)])
    board = engine.app.board(cid)
    assert board.manager_id == "m7" and board.open["tmt_registration"]["assignee_id"] == "m7"


def follow_up_request(cid: str, campaign: str, manager: str | None, *, event_id: uuid.UUID | None = None) -> bytes:
    return raw(TargetFollowUpRequested(customer_id=cid, campaign_id=campaign, follow_up_id=f"fu-{campaign}-{cid}",
                                       manager_id=manager, team_id="t1", channels=["phone"], requested_at=T0,
                                       due_at=T0 + timedelta(days=7)), event_id=event_id)


async def test_campaign_follow_ups_fold_into_one_task_per_customer_per_campaign(engine):
    cid = f"c-{uuid.uuid4().hex[:8]}"
    topic = KAFKA.topic("crm.campaigns.events")
    first = follow_up_request(cid, "camp-a", "m9")
    records = [first, first,  # re-published at another offset: same event id
               follow_up_request(cid, "camp-a", "m9"),  # another request for the same campaign and customer
               follow_up_request(cid, "camp-b", None)]  # another campaign: the team's queue
    await engine.processor.process([Inbound(topic, 0, i, cid.encode(), r, 0) for i, r in enumerate(records)])
    # the customer's manager changes: campaign follow-ups stay with the owner the campaign chose
    await engine.processor.process([Inbound(KAFKA.topic("crm.assignment.events"), 0, 0, cid.encode(), raw(
        CustomerAssigned(customer_id=cid, manager_id="m1", team_id="t2", reason="rule", assigned_at=T0)), 0)])
    rows = {r["campaign_id"]: r for r in engine.task_rows(cid)}
    assert sorted(rows) == ["camp-a", "camp-b"]
    assert {r["node"] for r in rows.values()} == {"campaign_followup"}
    assert (rows["camp-a"]["assignee_id"], rows["camp-a"]["team_id"], rows["camp-a"]["status"]) == ("m9", "t1", "open")
    assert (rows["camp-b"]["assignee_id"], rows["camp-b"]["team_id"]) == (None, "t1")
    assert rows["camp-a"]["due_at"] == T0 + timedelta(days=7)
    board = engine.app.board(cid)
    assert sorted(t["task_id"] for t in board.open.values()) == sorted(r["task_id"] for r in rows.values())
    # the customer cards care for none of the requests: none remembered as processed, the position moved on
    with engine.sessions() as s:
        remembered = set(s.scalars(select(tables.processed_event.c.event_id)))
        positions = {(r.topic, r.partition): r.next_offset for r in s.execute(select(tables.consumer_position))}
    assert not remembered & {str(registry.decode(r).event_id) for r in records}
    assert positions[(topic, 0)] == len(records)

    # a follow-up recorded on the task completes it, credited to the campaign's owner
    engine.app.record_follow_up(customer_id=cid, manager_id="m9", task_id=rows["camp-a"]["task_id"], intent=None,
                                tier=None, contact_methods=["phone"], next_follow_up_at=None, tags=[],
                                remarks=None, at=T0 + timedelta(hours=2))
    # the campaign closes: its still-open follow-up is cancelled; a late duplicate request opens nothing
    closed = raw(CampaignClosed(campaign_id="camp-b", closed_at=T0 + timedelta(days=7), reason="end_time",
                                audience_size=1))
    await engine.processor.process([Inbound(topic, 1, 0, b"camp-b", closed, 0),
                                    Inbound(topic, 0, 9, cid.encode(), follow_up_request(cid, "camp-a", "m9"), 0)])
    rows = {r["campaign_id"]: r for r in engine.task_rows(cid)}
    assert len(rows) == 2 and (rows["camp-a"]["status"], rows["camp-a"]["assignee_id"]) == ("completed", "m9")
    assert rows["camp-b"]["status"] == "cancelled"
    assert engine.app.board(cid).open == {}

    # a request consumed after its campaign's close (another partition) ends as if it had come first
    late = f"c-{uuid.uuid4().hex[:8]}"
    await engine.processor.process([Inbound(topic, 2, 0, late.encode(), follow_up_request(late, "camp-b", "m9"), 0)])
    [row] = engine.task_rows(late)
    assert (row["campaign_id"], row["status"], row["closed_at"]) == ("camp-b", "cancelled", T0 + timedelta(days=7))
    assert row["closed_cause"] == rows["camp-b"]["closed_cause"] and engine.app.board(late).open == {}


def _state(board: CustomerTasks) -> dict:
    """A task list's state but its version and times (those of its events)."""
    return {k: v for k, v in vars(board).items() if k not in ("_version", "_created_on", "_modified_on",
                                                               "_pending_events")}


async def test_a_follow_up_request_starts_a_new_task_list_in_one_event_with_what_two_would_give(engine, sqlite_url):
    """A customer without a task list (most of a campaign's 100,000 targets): `StartedWithTask` alone is stored
    instead of `Started` + `TaskOpened`, with their state, task row and published task_created."""
    cid = f"c-{uuid.uuid4().hex[:8]}"
    topic = KAFKA.topic("crm.campaigns.events")
    request = follow_up_request(cid, "camp-a", "m9")
    await engine.processor.process([Inbound(topic, 0, 0, cid.encode(), request, 0)])
    board = engine.app.board(cid)
    [started] = engine.app.events.get(board.id)
    assert isinstance(started, CustomerTasks.StartedWithTask)

    e = registry.decode(request)  # what the two events were
    p = e.payload
    two = CustomerTasks(customer_id=cid)
    task_id = two.request_campaign_follow_up(p.campaign_id, p.follow_up_id, p.manager_id, p.team_id,
                                             p.requested_at, p.due_at, str(e.event_id))
    opened = two.pending_events[-1]
    assert [type(ev) for ev in two.pending_events] == [CustomerTasks.Started, CustomerTasks.TaskOpened]
    assert _state(board) == _state(two) and board.open_task(task_id) is not None
    assert to_messages(started) == to_messages(opened)  # the same task_created, causation and all
    elsewhere = Engine(sqlite_url("tasks_two_events"))
    elsewhere.app.save(two)
    assert engine.task_rows(cid) == elsewhere.task_rows(cid)
    assert engine.task_rows(cid)[0]["status"] == "open"

    # the list goes on as any other: another campaign's request opens its task with a TaskOpened; a replay of
    # the store gives the same rows
    await engine.processor.process([Inbound(topic, 0, 1, cid.encode(), follow_up_request(cid, "camp-b", None), 0)])
    assert [type(ev) for ev in engine.app.events.get(board.id)] == [CustomerTasks.StartedWithTask,
                                                                     CustomerTasks.TaskOpened]
    rows = engine.task_rows(cid)
    assert sorted(r["campaign_id"] for r in rows) == ["camp-a", "camp-b"]
    rebuild_from_store(engine.app, engine.sessions, list(tables.STORE_TABLES), apply_stored_events)
    assert engine.task_rows(cid) == rows


def campaign_named(campaign: str, name: str, at: datetime, *, created: bool) -> bytes:
    from shared.events.crm_campaigns import (
        AudienceFilter,
        CampaignCreated,
        CampaignPlan,
        CampaignStatus,
        CampaignUpdated,
        DistributionMethod,
    )
    plan = CampaignPlan(name=name, start_at=T0, end_at=T0 + timedelta(days=30), audience=AudienceFilter(),
                        distribution=DistributionMethod.team_queue, team_id="t1", channels=["phone"],
                        metrics=["funded"], attribution_window_days=30)
    if created:
        return raw(CampaignCreated(campaign_id=campaign, plan=plan, created_by="u-mkt", created_at=at))
    return raw(CampaignUpdated(campaign_id=campaign, plan=plan, updated_by="u-mkt", updated_at=at,
                               status=CampaignStatus.draft))


async def test_campaign_names_are_stored_with_the_latest_edit_and_rebuilt_by_replay(engine):

    topic = KAFKA.topic("crm.campaigns.events")
    created = campaign_named("camp-n", "Draft", T0, created=True)
    records = [created, campaign_named("camp-n", "Spring push", T0 + timedelta(hours=2), created=False),
               campaign_named("camp-n", "Older edit", T0 + timedelta(hours=1), created=False),  # late, older
               created,  # re-published
               campaign_named("camp-m", "Other", T0, created=True)]
    await engine.processor.process([Inbound(topic, 0, i, b"camp-n", r, 0) for i, r in enumerate(records)])

    def names() -> dict[str, str]:
        with engine.sessions() as s:
            return {r.campaign_id: r.name for r in s.execute(select(tables.campaign_names))}

    assert names() == {"camp-n": "Spring push", "camp-m": "Other"}
    assert engine.producer.sent == []  # nothing published: the names are the service's own
    rebuild_from_store(engine.app, engine.sessions, list(tables.STORE_TABLES), apply_stored_events)
    assert names() == {"camp-n": "Spring push", "camp-m": "Other"}
