"""Campaign outreach and execution tracking through the real broker and PostgreSQL: a running campaign with SMS
and e-mail messages sends one request per target per channel on crm.campaigns.requests (ids derived from
campaign, customer and channel; at most `outreach_per_tick` targets per tick) → the platform's delivery results
(re-delivered, out of order, one failure), a follow-up with the intent `interested`, one `declined`, a captured
call, and a stage change to funded within the window are consumed into each target's status → the campaign view
counts them, `GET /targets` shows them with each channel's result, `GET /log` and its CSV hold every step and
fact → closing freezes the figures and sends no more outreach → `ops rebuild campaigns --verify` gives the same
tables."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from ops.kafka_ops import read_topic
from services.campaigns.api import routes as campaign_routes
from services.campaigns.bootstrap import bootstrap
from services.campaigns.consumers import apply_platform_facts
from services.campaigns.domain.campaign import outreach_request_id
from services.campaigns.projections.tables import intake_journal, outreach
from services.campaigns.settings import CampaignsSettings
from shared.events import registry, topics
from shared.events.crm_assignment import CustomerAssigned, ManagerChanged
from shared.events.crm_customer import CustomerOnboarded, StageChanged
from shared.events.crm_tasks import FollowUpRecorded
from shared.events.upstream_user import OutreachResult
from shared.runtime import journal
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.projection import rebuild_from_store
from shared.runtime.service import running
from shared.runtime.settings import AuditEmitSettings, AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
CUSTOMERS = [f"C{i}" for i in range(6)]
MESSAGES = [{"channel": "sms", "template_id": "tpl-sms-1", "body": "Fund your account this week"},
            {"channel": "email", "template_id": "tpl-mail-1", "subject": "Your first deposit",
             "body": "Fund your account this week"}]


def headers(user: str, role: str = "team_lead") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id='T-HK')}"}


def audience_facts() -> list:
    out = [registry.envelope(ManagerChanged(manager_id="M-1", name="M-1", team_id="T-HK", status="active",
                                            changed_at=T0), producer="whale-crm/assignment")]
    for cid in CUSTOMERS:
        out.append(registry.envelope(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="web",
                                                       user_region="HK", active_region="HK"),
                                     producer="whale-crm/customer"))
        out.append(registry.envelope(StageChanged(customer_id=cid, from_stage=None, to_stage="pending_funding",
                                                  changed_at=T0, cause_event_id=f"e-{cid}", cause_event_type="x"),
                                     producer="whale-crm/customer"))
        out.append(registry.envelope(CustomerAssigned(customer_id=cid, manager_id="M-1", team_id="T-HK",
                                                      reason="rule", assigned_at=T0), producer="whale-crm/assignment"))
    return out


async def publish(producer: EventProducer, kafka_settings, envs: list) -> None:
    by_topic: dict[str, list] = {}
    for env in envs:
        by_topic.setdefault(registry.latest(env.event_type).topic, []).append(env)
    for topic, group in by_topic.items():
        await producer.publish_many(group, topic=kafka_settings.topic(topic))


async def requests_on_topic(kafka_settings) -> list[dict]:
    return [json.loads(r.value) for r in await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CAMPAIGNS_REQUESTS))]


async def test_outreach_results_follow_ups_conversions_close_and_replay(kafka_settings, pg_database, poll, monkeypatch):
    settings = CampaignsSettings(database_url=pg_database("campaigns"), kafka=kafka_settings, auth=AUTH,
                                 relay_interval_ms=50, scheduler_interval_s=3600, outreach_per_tick=4,
                                 audit_emit=AuditEmitSettings(enabled=True))  # the log's export is audited
    c = bootstrap(settings)
    producer = EventProducer(kafka_settings, client_id="crm-sim")
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://campaigns")
    lead_a, lead_b = headers("LEAD-A"), headers("LEAD-B")
    async with running(c):
        await producer.start()
        try:
            await publish(producer, kafka_settings, audience_facts())
            audience = {"customer_ids": CUSTOMERS}

            async def previewed():
                r = (await api.post("/campaigns/audience/preview", json=audience, headers=lead_a)).json()
                return r if r["size"] == len(CUSTOMERS) else None

            await poll(previewed, timeout=60, message="the audience facts consumed")
            now = datetime.now(UTC)
            plan = {"name": "First deposit", "start_at": (now - timedelta(minutes=5)).isoformat(),
                    "end_at": (now + timedelta(days=3)).isoformat(), "audience": audience,
                    "distribution": "assigned_manager", "channels": ["phone", "sms", "email"],
                    "metrics": ["funded"], "attribution_window_days": 14, "messages": MESSAGES}
            bad = await api.post("/campaigns", json={**plan, "messages": [{**MESSAGES[0], "channel": "in_app"}]},
                                 headers=lead_a)
            assert bad.status_code == 422 and "messages" in bad.text  # a message for a channel not planned
            r = await api.post("/campaigns", json=plan, headers=lead_a)
            assert r.status_code == 201, r.text
            cid = r.json()["campaign_id"]
            assert (await api.post(f"/campaigns/{cid}/submit", headers=lead_a)).status_code == 200
            r = await api.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=lead_b)
            assert r.status_code == 200, r.text
            r = await api.post(f"/campaigns/{cid}/start", headers=lead_a)
            assert r.status_code == 200 and r.json()["status"] == "running", r.text
            view = (await api.get(f"/campaigns/{cid}", headers=lead_a)).json()
            assert view["execution"] == {"counts": {"targeted": 6, "contacted": 0, "reached": 0, "interested": 0,
                                                    "declined": 0, "converted": 0}, "final": False}

            # one tick: the first four targets (by customer id), two channels each
            await asyncio.to_thread(c.executor.run_once)
            sent = await poll(lambda: _at_least(kafka_settings, 8), timeout=30, message="8 outreach requests")
            assert sorted((m["payload"]["customer_id"], m["payload"]["channel"]) for m in sent) == sorted(
                (x, ch) for x in CUSTOMERS[:4] for ch in ("sms", "email"))
            assert {m["payload"]["request_id"] for m in sent} == {
                outreach_request_id(cid, x, ch) for x in CUSTOMERS[:4] for ch in ("sms", "email")}
            mail = next(m["payload"] for m in sent if m["payload"]["channel"] == "email")
            assert mail["template_id"] == "tpl-mail-1" and mail["subject"] == "Your first deposit"

            at = datetime.now(UTC)

            def result(x: str, ch: str, status: str, dt: int, reason: str | None = None):
                return registry.envelope(OutreachResult(request_id=outreach_request_id(cid, x, ch), customer_id=x,
                                                        campaign_id=cid, channel=ch, status=status,
                                                        at=at + timedelta(seconds=dt), reason_code=reason),
                                         producer="brokerage/outreach")

            opened = result("C0", "email", "opened", 3)
            results = [opened, result("C0", "email", "delivered", 2), result("C0", "email", "sent", 1),  # out of order
                       result("C1", "sms", "sent", 1), result("C1", "sms", "delivered", 2),
                       result("C2", "sms", "failed", 1, "unreachable"), opened,  # a re-delivery: one effect
                       registry.envelope(OutreachResult(request_id="not-ours", customer_id="C3", campaign_id=cid,
                                                        channel="sms", status="sent", at=at),
                                         producer="brokerage/outreach")]

            def follow_up(x: str, dt: int, **kw):
                return registry.envelope(FollowUpRecorded(follow_up_id=f"fu-{x}-{dt}", customer_id=x, manager_id="M-1",
                                                          recorded_at=at + timedelta(seconds=dt), **kw),
                                         producer="whale-crm/tasks")

            follow_ups = [follow_up("C1", 5, intent="Interested"), follow_up("C3", 5, intent="declined"),
                          follow_up("C4", 5, source="call", duration_s=95),
                          follow_up("C5", -86400 * 3, intent="interested")]  # before the start: not the campaign's
            funded = registry.envelope(StageChanged(customer_id="C2", from_stage="pending_funding", to_stage="funded",
                                                    changed_at=at + timedelta(seconds=7), cause_event_id="dep-1",
                                                    cause_event_type="deposit"), producer="whale-crm/customer")
            await publish(producer, kafka_settings, [*results, *follow_ups, funded])

            want = {"targeted": 1, "contacted": 0, "reached": 2, "interested": 1, "declined": 1, "converted": 1}

            async def counted():
                body = (await api.get(f"/campaigns/{cid}", headers=lead_a)).json()
                return body if body["execution"]["counts"] == want else None

            await poll(counted, timeout=60, message="the execution counts")
            page = (await api.get(f"/campaigns/{cid}/targets", headers=lead_b)).json()["items"]
            by = {t["customer_id"]: t for t in page}
            assert {x: t["status"] for x, t in by.items()} == {"C0": "reached", "C1": "interested", "C2": "converted",
                                                              "C3": "declined", "C4": "reached", "C5": "targeted"}
            assert [(ch["channel"], ch["status"]) for ch in by["C0"]["channels"]] == [("email", "opened"),
                                                                                     ("sms", "requested")]
            assert by["C2"]["channels"][1]["status"] == "failed" and by["C2"]["channels"][1]["reason_code"] == "unreachable"
            assert by["C2"]["conversion"] == "funded" and by["C2"]["converted_at"] is not None
            assert by["C1"]["contacted_at"] is not None and by["C1"]["response"] == "interested"
            assert by["C5"]["channels"] == [] and by["C5"]["contacted_at"] is None
            r = await api.post(f"/campaigns/{cid}/indicators/refresh", headers=lead_a)  # the evaluation's funnel
            assert r.status_code == 200, r.text
            assert r.json()["figures"]["tracking"] == {"contacted": 4, "reached": 4, "interested": 1, "declined": 1}

            r = await api.post(f"/campaigns/{cid}/close", headers=lead_a)
            assert r.status_code == 200 and r.json()["status"] == "closed"
            # a result after the close still tracks, but the figures stay as frozen
            await publish(producer, kafka_settings, [result("C1", "email", "delivered", 9)])
            await asyncio.to_thread(c.executor.run_once)  # nothing to the two targets never messaged
            await poll(lambda: _outreach_row(c, outreach_request_id(cid, "C1", "email"), "delivered"), timeout=30,
                       message="the late result consumed")
            view = (await api.get(f"/campaigns/{cid}", headers=lead_a)).json()
            assert view["execution"] == {"counts": want, "final": True}
            await asyncio.sleep(1.0)
            assert len(await requests_on_topic(kafka_settings)) == 8

            log = (await api.get(f"/campaigns/{cid}/log", headers=lead_b)).json()
            actions = [e["action"] for e in log["items"]]
            assert actions[:5] == ["created", "submitted", "approved", "started", "targets_frozen"]
            assert actions.count("outreach_requested") == 9  # the step (4 targets) and its 8 requests
            assert {"outreach_sent", "outreach_delivered", "outreach_opened", "outreach_failed", "follow_up_recorded",
                    "converted", "closed"} <= set(actions)
            assert not log["truncated"] and all("Fund" not in json.dumps(e) for e in log["items"])
            monkeypatch.setattr(campaign_routes, "LOG_PAGE", 4)  # the export reads the facts in several pages
            r = await api.get(f"/campaigns/{cid}/log.csv", headers=lead_b)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(r.text)))
            assert rows[0] == ["at", "action", "by", "customer_id", "detail"]
            assert rows[1:] == [[datetime.fromisoformat(e["at"]).isoformat(), e["action"], e["by"] or "",
                                 e["customer_id"] or "", e["detail"] or ""] for e in log["items"]]
            outsider = {"Authorization": f"Bearer {mint_token(AUTH, user_id='K-1', role='kyc_reviewer')}"}
            assert (await api.get(f"/campaigns/{cid}/log.csv", headers=outsider)).status_code == 403
            exported = await poll(lambda: _audit(kafka_settings, "campaigns.log.export"), timeout=30,
                                  message="the export's audit record")
            assert exported["kind"] == "export" and exported["staff_id"] == "LEAD-B"
        finally:
            await producer.stop()
    await api.aclose()

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
    tables = await ops_rebuild_verified("campaigns", settings.database_url)
    assert tables["cp_target_status"]["rows_after"] == 6 and tables["cp_outreach"]["rows_after"] == 8
    assert tables["cp_target_log"]["rows_after"] > 8
    # the outreach results are journaled (7 before the close, one re-delivered, and the late one): without the
    # topic (it keeps 30 days), the store's fold and the journal give the same delivery rows
    c = bootstrap(settings, migrate=False)  # a fresh container: the first one's store is closed
    with c.sessions() as s:
        assert s.scalar(select(func.count()).select_from(intake_journal)) == 8
        delivered = [dict(r) for r in s.execute(select(outreach).order_by(outreach.c.request_id)).mappings()]
    rebuild_from_store(c.app, c.sessions, [outreach], c.app.read_model)
    with c.sessions() as s:
        assert {r.status for r in s.execute(select(outreach))} == {"requested"}
    assert journal.replay(c.sessions, apply_platform_facts, intake_journal) == 8
    with c.sessions() as s:
        assert [dict(r) for r in s.execute(select(outreach).order_by(outreach.c.request_id)).mappings()] == delivered


async def _at_least(kafka_settings, n: int) -> list[dict] | None:
    found = await requests_on_topic(kafka_settings)
    return found if len(found) >= n else None


async def _outreach_row(c, request_id: str, status: str) -> bool:
    with c.sessions() as s:
        return s.scalar(select(outreach.c.status).where(outreach.c.request_id == request_id)) == status


async def _audit(kafka_settings, action: str) -> dict | None:
    records = [json.loads(r.value)["payload"]
               for r in await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_AUDIT))]
    return next((p for p in records if p["action"] == action and p["outcome"] == "allowed"), None)
