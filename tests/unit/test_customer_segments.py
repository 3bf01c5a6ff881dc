"""Saved segments on SQLite: static lists and dynamic filters with counts in the caller's scope, the list
filtered by a segment (with other filters), edits, deletion, validation (422 naming the field), permissions,
the published crm.customer.segment_changed, and a rebuild from the event store giving the same rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.customer.outbox import map_event
from shared.events.upstream import RiskAssessed
from tests.unit.test_customer_api import T0, assigned, registered, world  # noqa: F401

pytestmark = pytest.mark.asyncio


async def test_static_and_dynamic_segments(world):  # noqa: F811
    c, feed, feed_assign, token, client = world
    feed(*[registered(f"s{i}", i) for i in range(6)])
    feed(*[RiskAssessed(customer_id=f"s{i}", assessment_id=f"a{i}", risk_rating="aggressive" if i % 2 else "balanced",
                        assessed_at=T0 + timedelta(hours=1)) for i in range(6)])
    feed_assign(assigned("s1", "m-1", "team-a"), assigned("s2", "m-1", "team-a"))
    admin, mgr = token("admin"), token("manager", "m-1", team_id="team-a")

    r = await client.post("/customers/segments", json={"name": "Aggressive", "kind": "dynamic",
                                                       "filter": {"risk_rating": ["aggressive"]}}, headers=admin)
    assert r.status_code == 201, r.text
    dyn = r.json()
    assert dyn["count"] == 3 and dyn["filter"] == {"risk_rating": ["aggressive"]}
    r = await client.post("/customers/segments", json={"name": "VIP list", "kind": "static",
                                                       "customer_ids": ["s0", "s1", "s2", "s1"]}, headers=admin)
    static = r.json()
    assert r.status_code == 201 and static["count"] == 3

    listed = (await client.get("/customers/segments", headers=admin)).json()["items"]
    assert [(s["name"], s["count"]) for s in listed] == [("Aggressive", 3), ("VIP list", 3)]
    mine = (await client.get("/customers/segments", headers=mgr)).json()["items"]
    assert [(s["name"], s["count"]) for s in mine] == [("Aggressive", 1), ("VIP list", 2)]  # in the caller's scope

    page = (await client.get("/customers", params={"segment": dyn["segment_id"]}, headers=admin)).json()["items"]
    assert sorted(i["customer_id"] for i in page) == ["s1", "s3", "s5"]
    page = (await client.get("/customers", params={"segment": static["segment_id"], "risk_rating": "balanced"},
                             headers=admin)).json()["items"]
    assert sorted(i["customer_id"] for i in page) == ["s0", "s2"]
    counts = (await client.get("/customers/counts", params={"segment": static["segment_id"]}, headers=admin)).json()
    assert sum(counts["counts"].values()) == 3
    unknown = await client.get("/customers", params={"segment": "nope"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query.segment"

    r = await client.put(f"/customers/segments/{static['segment_id']}",
                         json={"name": "VIP", "kind": "static", "customer_ids": ["s4"]}, headers=admin)
    assert r.status_code == 200 and (r.json()["name"], r.json()["count"]) == ("VIP", 1)
    kind = await client.put(f"/customers/segments/{static['segment_id']}",
                            json={"name": "VIP", "kind": "dynamic", "filter": {}}, headers=admin)
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "kind"
    bad = await client.post("/customers/segments", json={"name": "x", "kind": "dynamic"}, headers=admin)
    assert bad.status_code == 422 and "filter" in bad.text
    bad = await client.post("/customers/segments", json={"name": "x", "kind": "dynamic",
                                                         "filter": {"risk_rating": ["yolo"]}}, headers=admin)
    assert bad.status_code == 422 and "risk_rating" in bad.text
    assert (await client.post("/customers/segments", json={"name": "x", "kind": "static"},
                              headers=token("auditor"))).status_code == 403

    before = _rows(c)
    assert (await client.delete(f"/customers/segments/{dyn['segment_id']}", headers=admin)).status_code == 204
    assert (await client.get(f"/customers/segments/{dyn['segment_id']}", headers=admin)).status_code == 404
    assert (await client.delete(f"/customers/segments/{dyn['segment_id']}", headers=admin)).status_code == 404
    assert [s["name"] for s in (await client.get("/customers/segments", headers=admin)).json()["items"]] == ["VIP"]

    # published: every change, the whole definition (a static one's ids; a dynamic one's filter)
    published = [o.payload for n in c.app.process_recorder.select_notifications(start=1, limit=1000)
                 for o in map_event(c.app.mapper.to_domain_event(n)) if o.payload.EVENT_TYPE.endswith("segment_changed")]
    assert [(p.name, p.change) for p in published] == [("Aggressive", "created"), ("VIP list", "created"),
                                                        ("VIP", "updated"), ("Aggressive", "deleted")]
    assert published[2].customer_ids == ["s4"] and published[0].filter == {"risk_rating": ["aggressive"]}

    # the rows come from the event store: a rebuild gives the same
    after = _rows(c)
    assert after != before
    c.rebuild_read_model()
    assert _rows(c) == after


def _rows(c) -> dict:
    with c.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)))) for t in (c.tables.segment, c.tables.segment_member)}
