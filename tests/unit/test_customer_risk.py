"""Risk ratings (suitability.risk_assessed) on SQLite: the latest assessment by its time wins in any order,
the list filters by rating (422 for an unknown one), the detail and the 360 show it, the list row carries it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.events.upstream import RiskAssessed
from tests.unit.test_customer_api import T0, registered, world  # noqa: F401

pytestmark = pytest.mark.asyncio


def assessed(cid: str, rating: str, minutes: int, aid: str) -> RiskAssessed:
    return RiskAssessed(customer_id=cid, assessment_id=aid, risk_rating=rating, score=40,
                        assessed_at=T0 + timedelta(minutes=minutes))


async def test_latest_assessment_is_the_rating_filter_and_detail(world):  # noqa: F811
    c, feed, _, token, client = world
    feed(registered("r1", 1), registered("r2", 2), registered("r3", 3))
    feed(assessed("r1", "aggressive", 50, "a2"))  # the later assessment first
    feed(assessed("r1", "conservative", 10, "a1"), assessed("r2", "balanced", 5, "b1"))
    feed(assessed("r1", "conservative", 10, "a1"))  # the same assessment again
    admin = token("admin")
    r = await client.get("/customers", params={"risk_rating": ["aggressive", "balanced"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert {(i["customer_id"], i["risk_rating"]) for i in r.json()["items"]} == {("r1", "aggressive"),
                                                                              ("r2", "balanced")}
    r = await client.get("/customers", params={"risk_rating": "conservative"}, headers=admin)
    assert r.json()["items"] == []
    bad = await client.get("/customers", params={"risk_rating": "yolo"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("query.risk_rating")
    detail = (await client.get("/customers/r1", headers=admin)).json()
    assert detail["risk"]["rating"] == "aggressive" and detail["risk"]["assessment_id"] == "a2"
    past = (await client.get("/customers/r1", params={"as_of": (T0 + timedelta(minutes=20)).isoformat()},
                             headers=admin)).json()
    assert past["risk"]["rating"] == "conservative"
    assert (await client.get("/customers/r3", headers=admin)).json()["risk"] is None
    one = (await client.get("/customers/r2/360", headers=admin)).json()
    assert one["profile"]["risk"]["rating"] == "balanced"
    counts = (await client.get("/customers/counts", params={"risk_rating": "balanced"}, headers=admin)).json()
    assert sum(counts["counts"].values()) == 1
