"""The audience read model fed by crm.customer and crm.assignment: any delivery order, in one batch or one
event at a time, gives the same rows (stage by rank; regions, tags, managers, assignment and unassignment as
last-writer-wins registers by business time and event id)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.campaigns.bootstrap import bootstrap
from services.campaigns.projections.audience import apply_audience_facts
from services.campaigns.projections.tables import CONSUMER_TABLES
from services.campaigns.settings import CampaignsSettings
from shared.events import encode, registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged
from shared.events.crm_customer import CustomerOnboarded, RegionsChanged, StageChanged, TagsChanged
from shared.runtime.settings import AuthSettings

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def ev(payload):
    return registry.decode(encode(registry.envelope(payload, producer="test")))


def history():
    out = []
    for c in ("A", "B", "C"):
        out += [ev(CustomerOnboarded(customer_id=c, registered_at=T0, channel="web", user_region="HK",
                                     active_region="HK")),
                ev(StageChanged(customer_id=c, from_stage=None, to_stage="registered", changed_at=T0,
                                cause_event_id="r", cause_event_type="x")),
                ev(StageChanged(customer_id=c, from_stage="registered", to_stage="funded", changed_at=T0 + 3 * H,
                                cause_event_id="f", cause_event_type="x")),
                ev(RegionsChanged(customer_id=c, user_region="SG", active_region="SG", changed_at=T0 + H)),
                ev(TagsChanged(customer_id=c, tags=["vip"], changed_at=T0 + H)),
                ev(TagsChanged(customer_id=c, tags=["vip", "dormant"], changed_at=T0 + 2 * H))]
    # A: X, then Y, then X leaves (Y keeps it); B: X then X leaves then Y; C: Y, X, then X leaves (nobody)
    out += [ev(CustomerAssigned(customer_id="A", manager_id="X", team_id="T1", reason="r", assigned_at=T0)),
            ev(CustomerAssigned(customer_id="A", manager_id="Y", team_id="T2", reason="r", assigned_at=T0 + H)),
            ev(CustomerUnassigned(customer_id="A", manager_id="X", reason="manual", unassigned_at=T0 + 2 * H)),
            ev(CustomerAssigned(customer_id="B", manager_id="X", team_id="T1", reason="r", assigned_at=T0)),
            ev(CustomerUnassigned(customer_id="B", manager_id="X", reason="manual", unassigned_at=T0 + H)),
            ev(CustomerAssigned(customer_id="B", manager_id="Y", team_id="T2", reason="r", assigned_at=T0 + 2 * H)),
            ev(CustomerAssigned(customer_id="C", manager_id="Y", team_id="T2", reason="r", assigned_at=T0)),
            ev(CustomerAssigned(customer_id="C", manager_id="X", team_id="T1", reason="r", assigned_at=T0 + H)),
            ev(CustomerUnassigned(customer_id="C", manager_id="X", reason="manual", unassigned_at=T0 + 2 * H))]
    out += [ev(ManagerChanged(manager_id="X", name="X", team_id="T1", status="active", changed_at=T0)),
            ev(ManagerChanged(manager_id="X", name="X", team_id="T2", status="resigned", changed_at=T0 + H))]
    return out


@pytest.fixture
def make(tmp_path):
    made = []

    def build(label: str):
        c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/{label}.db",
                                        auth=AuthSettings(jwt_secret="x" * 32)))
        made.append(c)
        return c

    yield build
    for c in made:
        c.engine.dispose()
        c.app.close()


def rows(c) -> dict[str, list[tuple]]:
    with c.sessions() as s:
        return {t.name: [tuple(r) for r in s.execute(select(t).order_by(*t.primary_key.columns))]
                for t in CONSUMER_TABLES}


def test_any_order_in_batches_or_one_by_one_gives_the_same_rows(make):
    events = history()
    reference = make("in_order")
    with reference.sessions.begin() as s:
        apply_audience_facts(s, events)
    expected = rows(reference)
    owners = {r[0]: r[1] for r in expected["cp_owner"]}
    assert owners == {"A": "Y", "B": "Y", "C": None}
    assert [r[:2] for r in expected["cp_customer_tag"]] == [("A", "dormant"), ("A", "vip"), ("B", "dormant"),
                                                           ("B", "vip"), ("C", "dormant"), ("C", "vip")]
    assert {r[0]: (r[3], r[6]) for r in expected["cp_customer"]} == {c: ("SG", "funded") for c in "ABC"}
    assert expected["cp_manager"][0][1:3] == ("T2", "resigned")
    rng = random.Random(17)
    for i in range(12):
        shuffled = events[:]
        rng.shuffle(shuffled)
        c = make(f"shuffled_{i}")
        size = rng.choice([1, 3, len(shuffled)])
        for j in range(0, len(shuffled), size):
            with c.sessions.begin() as s:
                apply_audience_facts(s, shuffled[j:j + size])
        assert rows(c) == expected, (i, size)
