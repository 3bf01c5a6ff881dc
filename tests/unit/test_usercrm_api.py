"""User CRM API in-process on SQLite (no broker): authentication, permissions per route and tab, data scope,
validation problems naming the field, masking, idempotency keys, maker-checker through the API, paging."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.usercrm.bootstrap import bootstrap
from services.usercrm.domain.errors import UnknownRequest
from services.usercrm.projections.info import apply_info
from services.usercrm.settings import UsercrmSettings
from shared.events import encode, registry
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned, ManagerChanged
from shared.events.crm_usercrm import OwnerChangeConfirmed, RequestAction
from shared.events.crm_usercrm import UserRequest as UserRequestContract
from shared.runtime.auth import mint_token
from shared.runtime.commands import OutgoingRejected
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-secret-of-at-least-32-bytes-long")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture()
async def api(tmp_path: Path):
    c = bootstrap(UsercrmSettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}",
                                  auth=AUTH))
    payloads = [
        up.CustomerRegistered(customer_id="C1", registered_at=T0, channel="organic", name="Wing Chan",
                              email="wing@example.com", phone_dialing_code="+852", phone_number="91234567"),
        CustomerAssigned(customer_id="C1", manager_id="M1", team_id="T1", reason="manual", assigned_at=T0),
        up.CustomerRegistered(customer_id="C2", registered_at=T0, channel="organic"),
        *[ManagerChanged(manager_id=m, name=m, team_id=team, status=status, changed_at=T0)
          for m, team, status in (("M1", "T1", "active"), ("M2", "T1", "active"), ("M3", "T2", "active"),
                                  ("M4", "T1", "resigned"))],
        up.AccountOpened(customer_id="C1", account_id="A1", opened_at=T0),
        uu.BankAccountSaved(customer_id="C1", saved_at=T0, bank_account=uu.BankAccountInfo(
            bank_account_id="B1", provider="HSBC", account_number="123456789012", holder_name="Wing Chan")),
        *[uu.LoginRecorded(customer_id="C1", login_id=f"L{i:03}", at=T0 + timedelta(minutes=i), ip="10.1.2.3",
                           source="web") for i in range(25)],
    ]
    with c.sessions.begin() as s:
        apply_info(s, [registry.decode(encode(registry.envelope(p, producer="platform"))) for p in payloads])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://uc")
    yield client, c
    await client.aclose()
    c.engine.dispose()
    c.app.close()


def h(user: str = "M1", role: str = "manager", team: str | None = "T1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


async def test_authentication_permissions_and_scope(api):
    client, _ = api
    assert (await client.get("/usercrm/customers/C1/profile")).status_code == 401
    assert (await client.get("/usercrm/customers/C1/profile", headers=h())).status_code == 200
    assert (await client.get("/usercrm/customers/C2/profile", headers=h())).status_code == 404  # not theirs
    assert (await client.get("/usercrm/customers/C9/profile", headers=h(role="admin"))).status_code == 404
    assert (await client.get("/usercrm/customers/C2/profile", headers=h("A", "admin", None))).status_code == 200
    assert (await client.get("/usercrm/customers/C1/profile", headers=h("L", "team_lead", "T2"))).status_code == 404
    r = await client.post("/usercrm/customers/C1/block", headers=h(), json={"reason": "fraud"})
    assert r.status_code == 403  # managers may not block
    assert (await client.get("/usercrm/customers/C1/info/banking", headers=h())).status_code == 403
    assert (await client.get("/usercrm/audit", headers=h())).status_code == 403
    r = await client.get("/usercrm/customers/C1/profile", headers=h("O", "operator", None))
    assert r.status_code == 403


async def test_validation_problems_name_the_field(api):
    client, _ = api
    lead = h("L1", "team_lead", "T1")
    r = await client.post("/usercrm/customers/C1/block", headers=lead, json={})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.post("/usercrm/customers/C1/block", headers=lead, json={"reason": "  "})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = await client.post("/usercrm/customers/C1/change-requests", headers=h(), json={})
    assert r.status_code == 422
    r = await client.post("/usercrm/customers/C1/change-requests", headers=h(),
                          json={"general": {"time_zone": "Asia/Hong_Kong", "shoe_size": 9}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.general.shoe_size"
    r = await client.post("/usercrm/customers/C1/accounts/A1/deposits", headers=h(),
                          json={"amount": 10.5, "currency": "USD"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    r = await client.post("/usercrm/customers/C1/accounts/A1/deposits", headers=h(),
                          json={"amount": "10", "currency": "usd"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "currency"
    r = await client.post("/usercrm/customers/C1/accounts/A9/deposits", headers=h(),
                          json={"amount": "10", "currency": "USD"})
    assert r.status_code == 404
    r = await client.post("/usercrm/customers/C1/messages", headers=h(), json={"channel": "sms", "template_id": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.template_id"
    r = await client.post("/usercrm/customers/C1/messages", headers=h(),
                          json={"channel": "sms", "template_id": "free_text", "variables": {"text": "hi"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.variables.subject"
    r = await client.put("/usercrm/customers/C1/social-links", headers=h(), json={"links": {"x": "http://x"}})
    assert r.status_code == 422
    r = await client.get("/usercrm/customers/C1/info/logs", headers=h(), params={"cursor": "!!"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor"


async def test_idempotency_key_and_maker_checker(api):
    client, c = api
    key = {"Idempotency-Key": "k-1"}
    body = {"amount": "20000", "currency": "USD"}
    first = await client.post("/usercrm/customers/C1/accounts/A1/deposits", headers=h() | key, json=body)
    again = await client.post("/usercrm/customers/C1/accounts/A1/deposits", headers=h() | key, json=body)
    assert first.status_code == again.status_code == 202
    assert first.json()["request_id"] == again.json()["request_id"]
    assert first.json()["state"] == "awaiting_approval"
    other = await client.post("/usercrm/customers/C1/accounts/A1/withdrawals", headers=h() | key, json=body)
    assert other.status_code == 422  # the kit's Idempotency-Key: reused with another request
    rid = first.json()["request_id"]
    assert (await client.post(f"/usercrm/requests/{rid}/approve", headers=h())).status_code == 403
    own = await client.post(f"/usercrm/requests/{rid}/approve", headers=h("M1", "admin", None))
    assert own.status_code == 403 and own.json()["type"].endswith("self_approval")
    assert (await client.post(f"/usercrm/requests/{rid}/approve", headers=h("L2", "team_lead", "T2"))).status_code \
        == 404  # out of the checker's scope
    ok = await client.post(f"/usercrm/requests/{rid}/approve", headers=h("L1", "team_lead", "T1"))
    assert ok.status_code == 200 and ok.json()["state"] == "submitted"
    page = (await client.get("/usercrm/customers/C1/requests", headers=h())).json()
    assert [i["request_id"] for i in page["items"]] == [rid] and page["items"][0]["approved_by"] == "L1"
    audit = (await client.get("/usercrm/audit", headers=h("Au", "auditor", None))).json()["items"]
    assert [(a["step"], a["actor_id"]) for a in audit] == [("approved", "L1"), ("requested", "M1")]


async def test_tabs_masking_and_login_paging(api):
    client, _ = api
    general = (await client.get("/usercrm/customers/C1/info/general", headers=h())).json()["data"]
    assert general["email"] == "w***@example.com" and general["name"] != "Wing Chan"
    admin = h("A", "admin", None)
    assert (await client.get("/usercrm/customers/C1/info/general", headers=admin)).json()["data"]["name"] == \
        "Wing Chan"
    bank = (await client.get("/usercrm/customers/C1/info/banking", headers=h("L1", "team_lead", "T1"))).json()
    assert bank["items"][0]["account_number"] == "********9012"
    seen, cursor = [], None
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/usercrm/customers/C1/info/logs", headers=h(), params=params)).json()
        seen += [i["login_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"L{i:03}" for i in reversed(range(25))]
    assert page["items"][0]["ip"] == "10.1.*.*"
    profile = (await client.get("/usercrm/customers/C1/profile", headers=h())).json()
    assert profile["completion_pct"] > 0 and profile["access"] == {"blocked": False, "since": None, "level": None}
    assert profile["owner"]["manager_id"] == "M1" and profile["owner"]["team_id"] == "T1"


async def test_a_request_that_could_not_be_published_is_never_stored(api):
    """The outgoing check (shared.runtime.commands.guard_outgoing) sees unsaved requests through the
    pending events: a contract-breaking reason is refused before anything is stored."""
    _, c = api
    bad = UserRequestContract.model_construct(
        request_id=str(uuid.uuid4()), customer_id="C1", action=RequestAction.block, requested_by="M1",
        requested_role=None, requested_at=datetime.now(UTC), reason="x" * 500, approved_by=None, message=None,
        money=None, stop_allocation=None, new_account=None, change=None)
    with pytest.raises(OutgoingRejected):
        c.app.request(bad, correlation_id=None)
    with pytest.raises(UnknownRequest):
        c.app.get_request(bad.request_id)


async def test_owner_change_who_may_and_to_whom(api):
    """A manager may not change owners; a team lead may give their team's customer to an active manager of
    their teams; an admin to any active manager. Unknown or resigned managers are 422 naming the field."""
    client, c = api
    path = "/usercrm/customers/C1/owner"
    lead, admin = h("L1", "team_lead", "T1"), h("A1", "admin", None)
    assert (await client.post(path, headers=h(), json={"owner_id": "M2", "reason": "rebalance"})).status_code == 403
    other = await client.post(path, headers=lead, json={"owner_id": "M3", "reason": "rebalance"})
    assert other.status_code == 403 and other.json()["type"].endswith("owner_out_of_scope")
    for owner, why in (("M9", "no account manager"), ("M4", "resigned")):
        r = await client.post(path, headers=lead, json={"owner_id": owner, "reason": "rebalance"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.owner_id" and why in r.text
    assert (await client.post(path, headers=lead, json={"owner_id": "M2"})).status_code == 422  # reason
    same = await client.post(path, headers=lead, json={"owner_id": "M1", "reason": "no change"})
    assert same.status_code == 409
    # a team lead of another team does not see the customer at all
    assert (await client.post(path, headers=h("L9", "team_lead", "T9"),
                              json={"owner_id": "M2", "reason": "rebalance"})).status_code == 404
    ok = await client.post(path, headers=lead, json={"owner_id": "M2", "reason": "M1 on leave"})
    assert ok.status_code == 202, ok.text
    body = ok.json()
    assert body["action"] == "change_owner" and body["state"] == "submitted" and body["reason"] == "M1 on leave"
    assert body["summary"] == {"owner_id": "M2", "team_id": "T1", "previous_owner_id": "M1"}
    stored = c.app.get_request(body["request_id"])
    assert stored.params == {"owner": {"owner_id": "M2", "team_id": "T1", "previous_owner_id": "M1"}}
    assert (await client.post(path, headers=admin, json={"owner_id": "M3", "reason": "move to T2"})).status_code == 202


async def test_access_level_change_is_for_admins_with_a_reason(api):
    client, c = api
    path = "/usercrm/customers/C1/access-level"
    body = {"access_level": "support", "reason": "joins the support desk"}
    assert (await client.post(path, headers=h(), json=body)).status_code == 403
    assert (await client.post(path, headers=h("L1", "team_lead", "T1"), json=body)).status_code == 403
    bad = await client.post(path, headers=h("A1", "admin", None), json={**body, "access_level": "root"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("access_level")
    assert (await client.post(path, headers=h("A1", "admin", None), json={"access_level": "admin"})).status_code == 422
    ok = await client.post(path, headers=h("A1", "admin", None), json=body)
    assert ok.status_code == 202 and ok.json()["action"] == "change_access_level"
    assert ok.json()["summary"] == {"access_level": "support"}
    assert c.app.get_request(ok.json()["request_id"]).reason == "joins the support desk"


async def test_a_completed_owner_change_is_published_for_the_assignment_to_follow(api):
    """The platform's completion of a change_owner request publishes `owner_change_confirmed` once (the
    assignment service makes the new owner the account manager); a failed one or another action does not."""
    client, c = api
    lead = h("L1", "team_lead", "T1")
    ok = (await client.post("/usercrm/customers/C1/owner", headers=lead,
                            json={"owner_id": "M2", "reason": "M1 on leave"})).json()
    failed = (await client.post("/usercrm/customers/C1/owner", headers=lead,
                                json={"owner_id": "M2", "reason": "again"})).json()
    other = (await client.post("/usercrm/customers/C1/password-reset", headers=lead)).json()
    done = datetime.now(UTC)

    def answer(payload):
        return registry.decode(encode(registry.envelope(payload, producer="platform")))

    answers = [answer(uu.RequestCompleted(request_id=ok["request_id"], customer_id="C1", completed_at=done)),
               answer(uu.RequestFailed(request_id=failed["request_id"], customer_id="C1", failed_at=done,
                                       reason_code="unknown_owner")),
               answer(uu.RequestCompleted(request_id=other["request_id"], customer_id="C1", completed_at=done))]
    c.app.record_processed(c.app.process_answers(answers), [])
    assert c.app.process_answers(answers[:1]).events == []  # a repeated answer: nothing new
    mapper = c.outbox_mapper()
    out = [o.payload for n in c.app.process_recorder.select_notifications(start=1, limit=1000)
           for o in mapper(c.app.mapper.to_domain_event(n))]
    confirmed = [p for p in out if isinstance(p, OwnerChangeConfirmed)]
    assert len(confirmed) == 1
    assert confirmed[0].model_dump(exclude={"requested_at"}) == {
        "request_id": ok["request_id"], "customer_id": "C1", "owner_id": "M2", "team_id": "T1",
        "previous_owner_id": "M1", "requested_by": "L1", "reason": "M1 on leave", "confirmed_at": done}
