"""KYC API with an in-memory event store and a SQLite read model: permissions, problem+json statuses,
keyset queue, the whole review flow with four-eyes, history, completion, outbox mapping, no refs in logs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog

from services.kyc.bootstrap import bootstrap
from services.kyc.outbox import KycOutboxMapper
from services.kyc.settings import KycSettings
from shared.events import registry
from shared.events.crm_kyc import KycCaseDecided
from shared.events.upstream import AccountApplicationSubmitted, IdentityVerified
from shared.runtime.auth import mint_token
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.logging import configure_logging
from shared.runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.asyncio
KINDS = ("id_front", "id_back", "proof_of_address", "selfie", "financial_questionnaire")
AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def submission(
    customer: str,
    app_id: str,
    *,
    at: datetime = BASE,
    pep: bool = False,
    ref: str = "v1",
    kinds=KINDS,
    country: str = "HK",
):
    payload = AccountApplicationSubmitted(
        customer_id=customer,
        application_id=app_id,
        submitted_at=at,
        id_issuing_country=country,
        documents=[
            {
                "document_id": f"{app_id}-{k}",
                "kind": k,
                "storage_ref": f"s3://secret-bucket/{customer}/{k}/{ref}",
                "uploaded_at": at,
            }
            for k in kinds
        ],
        declarations={
            "is_pep": pep,
            "net_worth": "100000",
            "net_worth_currency": "USD",
            "annual_income": "50000",
            "investment_experience_years": 2,
            "employment_status": "employed",
        },
    )
    return registry.decode(registry.envelope(payload, producer="platform").model_dump(mode="json"))


class Harness:
    def __init__(self, tmp_path):
        self.settings = KycSettings(
            database_url=f"sqlite:///{tmp_path / 'kyc.db'}",
            auth=AUTH,
            kafka=KafkaSettings(topic_prefix="unit."),
        )
        self.c = bootstrap(self.settings)
        self.handler = EventSourcedBatchHandler(
            self.c.app, "kyc-upstream", self.c.app.process_upstream, ["unit.brokerage.account"]
        )
        self.offset = 0
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://kyc")

    def feed(self, *events) -> None:
        self.offset += len(events)
        self.handler.apply("unit.brokerage.account", 0, list(events), self.offset)

    def token(self, user: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role)}"}

    async def post(self, path: str, user: str, role: str = "kyc_reviewer", json=None) -> httpx.Response:
        r = await self.client.post(path, headers=self.token(user, role), json=json)
        return r

    async def get(self, path: str, user: str = "r1", role: str = "kyc_reviewer", **params) -> httpx.Response:
        return await self.client.get(path, headers=self.token(user, role), params=params)

    async def accept_all(self, case_id: str, user: str) -> None:
        detail = (await self.get(f"/kyc/cases/{case_id}", user)).json()
        for d in detail["documents"]:
            if d["status"] == "pending":
                r = await self.post(
                    f"/kyc/cases/{case_id}/documents/{d['document_id']}/decision",
                    user,
                    json={"decision": "accepted"},
                )
                assert r.status_code == 200, r.text


@pytest.fixture()
async def h(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    await harness.client.aclose()
    harness.c.engine.dispose()


async def open_one(h: Harness, customer: str = "c1", **kw) -> str:
    h.feed(submission(customer, f"app-{customer}", **kw))
    page = (await h.get("/kyc/queue", customer_id=customer)).json()
    assert len(page["items"]) == 1
    return page["items"][0]["case_id"]


async def test_auth_and_permissions(h):
    case_id = await open_one(h)
    assert (await h.client.get("/kyc/queue")).status_code == 401
    r = await h.get("/kyc/queue", user="m1", role="manager")
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "urn:whale-crm:problem:kyc:forbidden"  # the kit's require_any, KYC's problem type
    r = await h.post(f"/kyc/cases/{case_id}/assign", "r1", json={"reviewer_id": "r2"})
    assert r.status_code == 403  # assigning needs KycAdmin
    r = await h.post(f"/kyc/cases/{case_id}/claim", "a1", role="admin")
    assert r.status_code == 403  # an admin without KycReview cannot decide or claim
    r = await h.post(f"/kyc/cases/{case_id}/second-review", "r1", json={"decision": "approved"})
    assert r.status_code == 403  # plain reviewers lack KycSecondReview


async def test_unknown_case_404_invalid_payload_422_and_conflicts_409(h):
    case_id = await open_one(h)
    r = await h.get(f"/kyc/cases/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["status"] == 404
    assert (await h.get("/kyc/cases/not-a-uuid")).status_code == 404
    doc = f"/kyc/cases/{case_id}/documents/app-c1-selfie/decision"
    r = await h.post(doc, "r1", json={"decision": "accepted"})
    assert r.status_code == 409 and "not claimed" in r.json()["detail"]
    assert (await h.post(f"/kyc/cases/{case_id}/claim", "r1")).status_code == 200
    r = await h.post(f"/kyc/cases/{case_id}/claim", "r2")
    assert r.status_code == 409 and r.json()["type"].endswith("case_claimed_by_other")
    r = await h.post(doc, "r2", json={"decision": "accepted"})
    assert r.status_code == 409 and "another reviewer" in r.json()["detail"]
    r = await h.post(doc, "r1", json={"decision": "maybe"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decision"
    r = await h.post(doc, "r1", json={"decision": "rejected", "reason_code": "no_such_reason"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_code"
    r = await h.post(doc, "r1", json={"decision": "rejected"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_code"
    r = await h.post(doc, "r1", json={"decision": "accepted", "extra": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "extra"
    r = await h.post(f"/kyc/cases/{case_id}/documents/nope/decision", "r1", json={"decision": "accepted"})
    assert r.status_code == 404
    r = await h.post(doc, "r1", json={"decision": "rejected", "reason_code": "selfie_mismatch", "note": "x"})
    assert r.status_code == 200
    r = await h.post(doc, "r1", json={"decision": "accepted"})
    assert r.status_code == 409 and "resubmits" in r.json()["detail"]
    r = await h.post(f"/kyc/cases/{case_id}/submit", "r1")
    assert r.status_code == 409 and "no decision" in r.json()["detail"]
    r = await h.get("/kyc/queue", cursor="garbage!")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor"
    r = await h.post(f"/kyc/cases/{case_id}/request-info", "r1", json={"reasons": []})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reasons"


async def test_queue_oldest_first_keyset_pages_and_sla(h):
    now = datetime.now(UTC)
    for i in range(5):
        h.feed(submission(f"q{i}", f"app-q{i}", at=now - timedelta(hours=30 - i)))
    h.feed(submission("fresh", "app-fresh", at=now - timedelta(minutes=5)))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await h.get("/kyc/queue", **params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["customer_id"] for i in seen] == ["q0", "q1", "q2", "q3", "q4", "fresh"]
    assert all(i["overdue"] for i in seen[:5]) and not seen[5]["overdue"]
    assert seen[0]["time_in_queue_seconds"] >= 30 * 3600 - 5
    overdue = (await h.get("/kyc/queue", overdue="true", limit=50)).json()["items"]
    assert len(overdue) == 5
    fresh = (await h.get("/kyc/queue", overdue="false")).json()["items"]
    assert [i["customer_id"] for i in fresh] == ["fresh"]
    case_id = seen[0]["case_id"]
    await h.post(f"/kyc/cases/{case_id}/claim", "r1")
    mine = (await h.get("/kyc/queue", reviewer="me", state="in_review")).json()["items"]
    assert [i["case_id"] for i in mine] == [case_id] and mine[0]["time_in_queue_seconds"] >= 30 * 3600 - 5


async def test_full_flow_four_eyes_history_completion_and_refs_only_for_reviewers(h):
    case_id = await open_one(h, pep=True)
    detail = (await h.get(f"/kyc/cases/{case_id}")).json()
    assert detail["high_risk"] and detail["documents"][0]["storage_ref"].startswith("s3://")
    admin_view = (await h.get(f"/kyc/cases/{case_id}", user="a1", role="admin")).json()
    assert all("storage_ref" not in d for d in admin_view["documents"]) and "declarations" not in admin_view
    assert (
        await h.post(f"/kyc/cases/{case_id}/assign", "lead", role="kyc_senior", json={"reviewer_id": "r1"})
    ).status_code == 200
    await h.accept_all(case_id, "r1")
    r = await h.post(f"/kyc/cases/{case_id}/submit", "r1", json={"note": "all good"})
    assert r.status_code == 200 and r.json()["state"] == "awaiting_second_review"
    r = await h.post(
        f"/kyc/cases/{case_id}/second-review", "r1", role="kyc_senior", json={"decision": "approved"}
    )
    assert r.status_code == 403 and r.json()["type"].endswith("four_eyes_violation")
    r = await h.post(
        f"/kyc/cases/{case_id}/second-review", "s2", role="kyc_senior", json={"decision": "approved"}
    )
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert r.json()["last_decision"]["second_reviewer"] == "s2"
    history = (await h.get(f"/kyc/cases/{case_id}/history")).json()["items"]
    assert [e["action"] for e in history][:2] == ["submitted", "assigned"]
    assert history[-1]["action"] == "second_reviewed" and history[-1]["actor"] == "s2"
    assert history[-2]["action"] == "review_submitted" and history[-2]["note"] == "all good"
    assert sum(1 for e in history if e["action"] == "document_decided") == 5
    assert all("storage_ref" not in str(e) for e in history)
    comp = (await h.get("/kyc/customers/c1/completion", user="a1", role="admin")).json()
    assert comp["completion_pct"] == 100 and comp["latest_state"] == "approved"
    assert (await h.get("/kyc/customers/nobody/completion")).status_code == 404
    approved = (await h.get("/kyc/queue", state="approved")).json()["items"]
    assert approved[0]["case_id"] == case_id and approved[0]["time_in_review_seconds"] >= 0
    metrics = (await h.client.get("/metrics")).text
    assert 'whale_kyc_actions_total{action="second_review",outcome="approved"}' in metrics


async def test_more_info_resubmission_reopens_same_case_and_duplicates_are_ignored(h):
    case_id = await open_one(h)
    await h.post(f"/kyc/cases/{case_id}/claim", "r1")
    r = await h.post(
        f"/kyc/cases/{case_id}/request-info",
        "r1",
        json={
            "reasons": ["document_unreadable"],
            "document_ids": ["app-c1-id_back"],
            "fields": ["annual_income"],
        },
    )
    assert r.status_code == 200 and r.json()["state"] == "more_info_requested"
    again = submission("c1", "app-c1-second", at=BASE + timedelta(days=1), ref="v2")
    h.feed(again)
    h.feed(again)  # an upstream retry: same event id
    items = (await h.get("/kyc/queue", customer_id="c1")).json()["items"]
    assert [i["case_id"] for i in items] == [case_id] and items[0]["state"] == "resubmitted"
    assert items[0]["submission"] == 2
    detail = (await h.get(f"/kyc/cases/{case_id}")).json()
    assert detail["application_ids"] == ["app-c1", "app-c1-second"]
    assert {d["status"] for d in detail["documents"]} == {"pending", "superseded"}


async def test_identity_verification_before_application_counts_and_flags(h):
    ident = registry.decode(
        registry.envelope(
            IdentityVerified(customer_id="c9", verified_at=BASE, id_type="passport", id_issuing_country="KP"),
            producer="platform",
        ).model_dump(mode="json")
    )
    h.feed(ident)
    case_id = await open_one(h, customer="c9", country="HK")
    detail = (await h.get(f"/kyc/cases/{case_id}")).json()
    assert detail["high_risk"] and "id_country:KP" in detail["risk_reasons"] and detail["identity_verified"]


async def test_outbox_maps_decisions_without_notes_or_refs(h):
    case_id = await open_one(h)
    await h.post(f"/kyc/cases/{case_id}/claim", "r1")
    await h.accept_all(case_id, "r1")
    await h.post(
        f"/kyc/cases/{case_id}/documents/app-c1-selfie/decision",
        "r1",
        json={"decision": "rejected", "reason_code": "selfie_mismatch", "note": "private note"},
    )
    await h.post(f"/kyc/cases/{case_id}/submit", "r1")
    mapper = KycOutboxMapper(h.c.case_at)
    app = h.c.app
    out = [
        o
        for n in app.process_recorder.select_notifications(start=1, limit=100)
        for o in mapper(app.mapper.to_domain_event(n))
    ]
    kinds = [type(o.payload).__name__ for o in out]
    assert kinds.count("KycCaseStateChanged") == 3 and kinds.count("KycCaseDecided") == 1
    decided = next(o.payload for o in out if isinstance(o.payload, KycCaseDecided))
    assert (
        decided.decision == "rejected"
        and decided.reasons == ["selfie_mismatch"]
        and decided.decided_by == "r1"
    )
    assert {d.document_id: d.decision for d in decided.documents}["app-c1-selfie"] == "rejected"
    wire = str([registry.envelope(o.payload, producer="t").model_dump(mode="json") for o in out])
    assert "private note" not in wire and "secret-bucket" not in wire


async def test_document_references_never_logged(h, capsys):
    saved = structlog.get_config()
    configure_logging("DEBUG")  # the real JSON pipeline, to this test's captured stdout
    try:
        case_id = await open_one(h)
        await h.post(f"/kyc/cases/{case_id}/claim", "r1")
        await h.accept_all(case_id, "r1")
        await h.post(f"/kyc/cases/{case_id}/submit", "r1")
        out = capsys.readouterr().out
    finally:
        structlog.configure(**saved)  # back to the session's logger (not bound to this test's stdout)
    logs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {"kyc_case_opened", "kyc_case_claimed", "kyc_document_decided", "kyc_review_submitted"} <= {
        e["event"] for e in logs
    }
    assert all(e.get("case_id") == case_id for e in logs if e["event"] == "kyc_document_decided")
    assert "secret-bucket" not in out


async def test_concurrent_claims_one_wins_the_other_gets_409(h):
    from services.kyc.domain.errors import ClaimedByOther

    case_id = await open_one(h)
    app = h.c.app
    stale = app.get_case(case_id)  # r2 loaded the case before r1's claim was stored
    assert (await h.post(f"/kyc/cases/{case_id}/claim", "r1")).status_code == 200
    fresh_loader = app.get_case
    loads = iter([stale])
    app.get_case = lambda cid: next(loads, None) or fresh_loader(cid)
    try:
        with pytest.raises(ClaimedByOther):
            app.claim(case_id, "r2", datetime.now(UTC))  # conflict on save -> reload -> rule re-checked
    finally:
        app.get_case = fresh_loader
    assert app.get_case(case_id).reviewer_id == "r1"
