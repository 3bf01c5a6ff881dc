"""Audience lists in-process on SQLite: upload a CSV of customer ids (streamed, stored in chunks), validation in
chunks of rows with a reject report (malformed, unknown customer, out of the uploader's scope, duplicate — row,
field, reason, never the value), idempotent by content, resumed after a failure from its checkpoint with the
same result, and a campaign whose audience is the list (preview, start: its targets)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from services.campaigns import lists
from services.campaigns.bootstrap import bootstrap
from services.campaigns.projections.audience import apply_audience_facts
from services.campaigns.projections.tables import list_member, list_reject
from services.campaigns.settings import CampaignsSettings
from tests.unit.test_campaigns_api import AUTH, LEAD_A, LEAD_B, facts, plan

pytestmark = pytest.mark.asyncio
CSV = "customer_id\r\nC1\r\nC2\r\nC1\r\nC5\r\nNOPE\r\nbad id!\r\n\r\nC3\r\n"


@pytest.fixture
def container(tmp_path):
    c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/campaigns.db", auth=AUTH,
                                    list_dir=str(tmp_path / "uploads"), list_chunk_rows=3))
    with c.sessions.begin() as s:
        apply_audience_facts(s, facts())
    yield c
    c.engine.dispose()
    c.app.close()


@pytest.fixture
async def client(container):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://t") as c:
        yield c


async def upload(api, body: str, headers=LEAD_A, filename="hk.csv"):
    return await api.post("/campaigns/audience-lists", params={"filename": filename}, content=body.encode(),
                          headers={**headers, "content-type": "text/csv"})


def rows_of(container, list_id):
    with container.sessions() as s:
        return (sorted(s.scalars(select(list_member.c.customer_id).where(list_member.c.list_id == list_id))),
                [tuple(r) for r in s.execute(select(list_reject.c.row_no, list_reject.c.reason)
                                             .where(list_reject.c.list_id == list_id).order_by(list_reject.c.row_no))])


async def test_upload_validate_report_and_target(client, container):
    r = await upload(client, CSV)
    assert r.status_code == 201, r.text
    body = r.json()
    lid = body["list_id"]
    assert body["state"] == "queued" and body["rows_estimate"] == 8
    assert (await upload(client, CSV)).status_code == 200  # the same content: the same list
    r = await client.post("/campaigns", json=plan(audience={"list_id": lid}), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "audience.list_id"  # not validated yet

    assert container.list_importer.run_once() == 1
    got = (await client.get(f"/campaigns/audience-lists/{lid}", headers=LEAD_A)).json()
    assert (got["state"], got["rows_read"], got["accepted"], got["rejected"]) == ("done", 8, 3, 5)
    assert rows_of(container, lid) == (["C1", "C2", "C3"], [(4, "duplicate"), (5, "out_of_scope"),
                                                          (6, "unknown_customer"), (7, "malformed"), (8, "malformed")])
    report = await client.get(f"/campaigns/audience-lists/{lid}/rejects", headers=LEAD_A)
    assert report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines() == ["row,field,reason", "4,customer_id,duplicate", "5,customer_id,out_of_scope",
                                        "6,customer_id,unknown_customer", "7,customer_id,malformed",
                                        "8,customer_id,malformed"]
    assert "NOPE" not in report.text  # no value of the file
    assert container.list_importer.run_once() == 0

    # another uploader: another list; nobody else sees it
    other = (await upload(client, CSV, LEAD_B)).json()["list_id"]
    assert other != lid
    assert (await client.get(f"/campaigns/audience-lists/{lid}", headers=LEAD_B)).status_code == 404
    r = await client.post("/campaigns", json=plan(audience={"list_id": lid}), headers=LEAD_B)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "audience.list_id"

    # a campaign targeting the list
    r = await client.post("/campaigns", json=plan(audience={"list_id": lid}, distribution="assigned_manager"),
                          headers=LEAD_A)
    assert r.status_code == 201, r.text
    cid = r.json()["campaign_id"]
    preview = (await client.get(f"/campaigns/{cid}/audience/preview", headers=LEAD_A)).json()
    assert preview["size"] == 3
    await client.post(f"/campaigns/{cid}/submit", headers=LEAD_A)
    await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=LEAD_B)
    started = (await client.post(f"/campaigns/{cid}/start", headers=LEAD_A)).json()
    assert started["audience_size"] == 3
    targets = (await client.get(f"/campaigns/{cid}/targets", headers=LEAD_A)).json()["items"]
    assert [t["customer_id"] for t in targets] == ["C1", "C2", "C3"]


async def test_bad_files_are_refused(client):
    r = await upload(client, "id\r\nC1\r\n")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await upload(client, "")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = await upload(client, CSV, filename="../x.csv")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.filename"
    r = await client.post("/campaigns/audience-lists", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 401
    assert (await client.get("/campaigns/audience-lists/lst_" + "0" * 32, headers=LEAD_A)).status_code == 404


async def test_a_failed_run_resumes_from_its_checkpoint(client, container, monkeypatch):
    lid = (await upload(client, CSV)).json()["list_id"]
    real, calls = lists.validate, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(lists, "validate", failing)
    with pytest.raises(RuntimeError):
        container.list_importer.run_once()
    got = (await client.get(f"/campaigns/audience-lists/{lid}", headers=LEAD_A)).json()
    assert (got["state"], got["rows_read"], got["accepted"]) == ("running", 3, 2)  # the first chunk committed
    monkeypatch.setattr(lists, "validate", real)
    assert container.list_importer.run_once() == 1
    got = (await client.get(f"/campaigns/audience-lists/{lid}", headers=LEAD_A)).json()
    assert (got["state"], got["rows_read"], got["accepted"], got["rejected"]) == ("done", 8, 3, 5)
    assert rows_of(container, lid)[0] == ["C1", "C2", "C3"] and len(rows_of(container, lid)[1]) == 5


async def test_an_upload_writes_its_audit_record_ahead_with_its_rows(tmp_path):
    """The list's rows are written directly (no event store): the upload's transaction carries its audit
    record ahead all the same (`shared.runtime.audit.write_ahead`), so a process killed before its queue left
    loses no upload's record."""
    from shared.runtime.audit import spool
    from shared.runtime.settings import AuditEmitSettings
    from tests.unit.test_audit_emit import FakeProducer

    c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/campaigns.db", auth=AUTH,
                                    list_dir=str(tmp_path / "uploads"), audit_emit=AuditEmitSettings(enabled=True)))
    emitter = c.api.state.audit
    emitter.producer = FakeProducer()
    emitter.producer.down = True

    async def never(envelopes) -> None:  # the process dies before spooling anything
        return None

    emitter._spool = never
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t") as api:
            r = await upload(api, CSV)
            assert r.status_code == 201, r.text
        with c.engine.connect() as conn:
            [row] = conn.execute(select(spool.c.record_id, spool.c.hold_until, spool.c.envelope)).all()
        record = json.loads(row.envelope)["payload"]
        assert row.hold_until is not None and record["record_id"] == row.record_id
        assert (record["kind"], record["method"], record["route"], record["staff_id"]) == (
            "write", "POST", "/campaigns/audience-lists", "LEAD-A")
    finally:
        c.engine.dispose()
        c.app.close()
