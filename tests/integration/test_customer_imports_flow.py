"""Manual import through the real broker and PostgreSQL: customer service (API + worker with its importer)
and assignment service (routing consumer + relay), each on its own database.

An import in two lanes (the default on PostgreSQL), whose first lane is interrupted after two committed chunks
(the process dies), resumes in the next worker, which starts the second import process for the other lane,
and ends with every row exactly once; an upload with an institution column → customers in the list with source
manual_import and their institution → the one with the institution is routed by the assignment rule on
that institution (visible in the customer list's manager filter); the same file again → the same job,
nothing stored, nothing published; `ops rebuild customer --verify` proves replay equal to the live rows."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter

import httpx
import pytest
from pydantic import SecretStr

from services.assignment.bootstrap import bootstrap as asg_bootstrap
from services.assignment.settings import AssignmentSettings
from services.customer.bootstrap import bootstrap
from services.customer.importer import ImportRunner
from services.customer.settings import CustomerSettings
from shared.events import topics
from shared.runtime.auth import mint_token
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("integration-secret-integration-secret"))
HEADER = ["customer_id", "name", "phone_dialing_code", "phone_number", "email", "id_type", "id_number",
          "date_of_birth", "institution_id"]


def people_csv(prefix: str, n: int, *, institution: dict[int, str] | None = None, bad: set[int] = frozenset()) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for i in range(n):
        w.writerow([f"{prefix}{i:04d}", f"Person {prefix}{i}", "+852", f"9{i:07d}",
                    "broken" if i in bad else f"{prefix.lower()}{i}@example.com", "national_id", f"{prefix}{i:06d}",
                    "1985-07-08", (institution or {}).get(i, "")])
    return buf.getvalue().encode()


def hdr(role: str, user: str = "admin-1") -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(AUTH, user_id=user, role=role)}


class Crash(Exception):
    pass


async def test_import_resumes_routes_by_institution_is_idempotent_and_replays(kafka_settings, pg_database, poll,
                                                                             tmp_path, monkeypatch):
    url = pg_database("cust")
    monkeypatch.setenv("CUSTOMER_MATCH_KEY", "import-flow-match-key")  # the same index key in `ops rebuild`
    settings = CustomerSettings(database_url=url, kafka=kafka_settings, auth=AUTH, relay_interval_ms=20,
                                import_dir=str(tmp_path / "imports"), import_chunk_rows=7, import_poll_s=0.2)
    asg = asg_bootstrap(AssignmentSettings(database_url=pg_database("asg"), kafka=kafka_settings, auth=AUTH,
                                           reclaim_interval_s=3600, relay_interval_ms=20))
    admin = hdr("admin")

    # 1. a process imports two chunks of file B and dies (no worker running yet)
    first = bootstrap(settings)
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=first.api), base_url="http://t", headers=admin)
    r = await api.post("/customer-imports", params={"filename": "b.csv"}, content=people_csv("B", 30),
                       headers={"content-type": "text/csv"})
    assert r.status_code == 201, r.text
    job_b = r.json()["job_id"]
    dying = ImportRunner(first.app, first.sessions, first.tables, directory=first.import_dir,
                         id_key=settings.import_id_key.get_secret_value().encode(), chunk_rows=7,
                         match=first.matcher)
    saved, real = [], dying._save_chunk

    def crash_after_two(job, chunk):
        if len(saved) == 2:
            raise Crash("killed")
        saved.append(chunk.rows[0][0])
        return real(job, chunk)

    dying._save_chunk = crash_after_two  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await asyncio.to_thread(dying.process, job_b)
    mid = (await api.get(f"/customer-imports/{job_b}")).json()
    assert (mid["state"], mid["rows_read"], mid["accepted"]) == ("running", 14, 14)
    await api.aclose()
    await first.stop()

    # 2. the services run: the worker resumes B; file A is routed by the institution rule
    svc = bootstrap(settings)
    async with running(asg), running(svc):
        a_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=asg.api), base_url="http://a", headers=admin)
        c_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://c", headers=admin)
        assert (await a_http.post("/teams", json={"team_id": "T-INST", "name": "Institutions"})).status_code == 201
        r = await a_http.post("/managers", json={"manager_id": "am-inst", "name": "AM", "team_id": "T-INST",
                                                 "capacity": 100})
        assert r.status_code == 201, r.text
        r = await a_http.put("/rules/harbour", json={"position": 1, "manager_id": "am-inst",
                                                     "institutions": ["inst-harbour"]})
        assert r.status_code == 200, r.text
        r = await c_http.post("/institutions", json={"institution_id": "inst-harbour", "name": "Harbour Bank",
                                                     "manager_id": "am-inst"})
        assert r.status_code == 201, r.text

        async def done(job_id):
            j = (await c_http.get(f"/customer-imports/{job_id}")).json()
            assert j["state"] == "done", j
            return j

        b = await poll(lambda: done(job_b), timeout=60)
        assert (b["rows_read"], b["accepted"], b["rejected"]) == (30, 30, 0)
        assert svc.import_lanes == 2 and svc.import_processes is not None  # lane 1: the process it started
        assert [p.is_alive() for p in svc.import_processes._procs.values()] == [True]

        file_a = people_csv("A", 12, institution={0: "inst-harbour", 1: "inst-harbour", 2: "inst-nobody"}, bad={5})
        r = await c_http.post("/customer-imports", params={"filename": "a.csv"}, content=file_a,
                              headers={"content-type": "text/csv"})
        assert r.status_code == 201
        job_a = r.json()["job_id"]
        a = await poll(lambda: done(job_a), timeout=60)
        assert (a["rows_read"], a["accepted"], a["rejected"]) == (12, 10, 2)
        report = (await c_http.get(f"/customer-imports/{job_a}/rejects")).text.splitlines()
        assert report == ["row,field,reason", "4,institution_id,unknown_value", "7,email,invalid_format"]

        items = (await c_http.get("/customers", params={"channel": "manual_import", "limit": 200})).json()["items"]
        assert len(items) == 40 and {i["channel"] for i in items} == {"manual_import"}
        inst = (await c_http.get("/customers", params={"institution_id": "inst-harbour"})).json()["items"]
        assert sorted(i["customer_id"] for i in inst) == ["A0000", "A0001"]

        async def routed():
            mine = (await c_http.get("/customers", params={"manager_id": "am-inst"})).json()["items"]
            assert sorted(i["customer_id"] for i in mine) == ["A0000", "A0001"]
            return mine

        await poll(routed, timeout=60)
        why = (await a_http.get("/customers/A0000/assignments")).json()
        assert "harbour" in json.dumps(why)

        # 3. the same file again: the same job, nothing stored
        stored = svc.app.recorder.max_notification_id()
        r = await c_http.post("/customer-imports", params={"filename": "again.csv"}, content=file_a,
                              headers={"content-type": "text/csv"})
        assert r.status_code == 200 and r.json()["job_id"] == job_a
        await asyncio.sleep(0.5)
        assert svc.app.recorder.max_notification_id() == stored
        assert (await c_http.get("/customers/counts")).json()["total"] == 40

        records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CUSTOMER), expect=10_000,
                                   timeout=5)
        onboarded = Counter(json.loads(r.value)["payload"]["customer_id"] for r in records
                            if json.loads(r.value)["event_type"] == "crm.customer.customer_registered")
        assert len(onboarded) == 40 and set(onboarded.values()) == {1}  # every row once, none twice
        await a_http.aclose()
        await c_http.aclose()

    report = await ops_rebuild_verified("customer", url)
    assert report["customer_import_job"]["rows_after"] == 2 and report["customer_import_reject"]["rows_after"] == 2
    assert report["customer"]["rows_after"] == 40 and report["customer_institution"]["rows_after"] == 1
