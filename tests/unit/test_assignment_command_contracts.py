"""Nothing is stored that cannot be applied and published: commands are validated against the contracts
of the events they produce (request models reject explicit nulls; the kit's outgoing check catches what
the request model lets through), and request headers are bounded before they reach an event."""

from __future__ import annotations

import pytest

from services.assignment.domain.scope import Actor
from shared.runtime.commands import OutgoingRejected
from tests.unit.test_assignment_api import T0, client, org, svc  # noqa: F401 - fixtures

ADMIN = Actor("admin-1", "all", ())


@pytest.fixture()
async def admin(svc, client):  # noqa: F811
    """Two teams and two managers; the admin's headers."""
    return await org(svc, client)


def _stored(svc) -> int:  # noqa: F811
    return svc.app.process_recorder.max_notification_id() or 0


@pytest.mark.parametrize("patch", [{"name": None}, {"regions": None}, {"languages": None}, {"capacity": None},
                                   {"status": None}, {"name": ""}, {"name": "x" * 201}, {"regions": ["hk"]},
                                   {"capacity": -1}, {"unknown": 1}])
async def test_manager_patches_the_contract_cannot_carry_are_422_and_store_nothing(svc, client, admin, patch):  # noqa: F811
    before = _stored(svc)
    r = await client.patch("/managers/m1", json=patch, headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert next(iter(patch)) in r.json()["errors"][0]["field"]
    assert _stored(svc) == before


async def test_nullable_fields_may_be_cleared(svc, client, admin):  # noqa: F811
    r = await client.patch("/managers/m1", json={"position": None, "referral_code": None}, headers=admin)
    assert r.status_code == 200, r.text
    r = await client.patch("/teams/T1", json={"leader_id": None}, headers=admin)
    assert r.status_code == 200, r.text
    for patch in ({"name": None}, {"protection_days": None}):
        r = await client.patch("/teams/T1", json=patch, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith(next(iter(patch)))


async def test_the_kit_refuses_to_store_an_event_its_relay_could_not_publish(svc, admin):  # noqa: F811
    """Below the request model (a future route, a consumer): the outgoing contract event is built and
    validated before the stored event commits."""
    before = _stored(svc)
    with pytest.raises(OutgoingRejected) as err:
        svc.admin.edit_manager(ADMIN, "m1", {"name": None}, T0)
    assert err.value.field == "name" and err.value.event_type == "crm.assignment.manager_changed"
    assert _stored(svc) == before
    with pytest.raises(OutgoingRejected):
        svc.admin.edit_manager(ADMIN, "m1", {"regions": ["not-a-country"]}, T0)
    assert _stored(svc) == before
    assert svc.admin.edit_manager(ADMIN, "m1", {"name": "Renamed"}, T0)["name"] == "Renamed"
    assert _stored(svc) == before + 1


async def test_a_correlation_id_that_would_not_fit_an_event_is_refused_before_the_command(svc, client, admin):  # noqa: F811
    before = _stored(svc)
    r = await client.patch("/managers/m1", json={"name": "Renamed"},
                           headers={**admin, "x-correlation-id": "c" * 201})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "header.x-correlation-id"
    assert _stored(svc) == before
    r = await client.patch("/managers/m1", json={"name": "Renamed"}, headers={**admin, "x-request-id": "req-42"})
    assert r.status_code == 200 and r.headers["x-correlation-id"] == "req-42"
    assert _stored(svc) == before + 1


@pytest.mark.parametrize("path, body", [
    ("/teams", {"team_id": "T9", "name": "desk 9"}),
    ("/managers", {"manager_id": "m9", "name": "AM 9", "team_id": "T1", "capacity": 5}),
    ("/assignments/bulk", {"customer_ids": ["c1", "c2"], "manager_id": "m1"}),
])
async def test_creating_commands_retried_with_an_idempotency_key_create_once(svc, client, admin, path, body):  # noqa: F811
    headers = {**admin, "Idempotency-Key": "retry-1"}
    first = await client.post(path, json=body, headers=headers)
    assert first.status_code in (200, 201), first.text
    stored = _stored(svc)
    again = await client.post(path, json=body, headers=headers)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and _stored(svc) == stored
    changed = await client.post(path, json={**body, "manager_id": "m2"} if "customer_ids" in body
                                else {**body, "name": "other"}, headers=headers)
    assert changed.status_code == 422 and _stored(svc) == stored
