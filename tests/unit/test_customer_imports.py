"""Manual import (customer service) on SQLite, no broker: row validation, the streaming CSV and XLSX reader,
the deterministic ids, and the API + worker end to end in-process (upload, progress, rejected-rows report,
customers in the list with source manual_import and their institution, the same file twice, a resume), a job
in two lanes worked by two workers, and a job stored before lanes."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from datetime import UTC, datetime

import httpx
import pytest
from openpyxl import Workbook

from services.customer.bootstrap import bootstrap
from services.customer.domain.imports import (
    ImportJob,
    RowRejected,
    derived_customer_id,
    fact_id,
    job_id_of,
    lane_of,
    validate_row,
)
from services.customer.import_files import BadFile, check_header, detect_format, iter_rows
from services.customer.importer import ImportProcesses, ImportRunner
from services.customer.settings import CustomerSettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.asyncio
AT = datetime(2026, 1, 1, tzinfo=UTC)
KEY = b"k"
HEADER = ["customer_id", "name", "phone_dialing_code", "phone_number", "email", "id_type", "id_number",
          "date_of_birth", "institution_id"]


def ok(**kw):
    row = {"name": "Ann Lee", "phone_dialing_code": "+852", "phone_number": "91234567", "email": "ann@example.com",
           "id_type": "passport", "id_number": "K1234567", "date_of_birth": "1980-02-03"}
    row.update(kw)
    return row


def check(row, institutions=frozenset()):
    return validate_row(row, job_id="imp_x", row_no=2, at=AT, key=KEY, institutions=institutions)


@pytest.mark.parametrize(("row", "field", "reason"), [
    (ok(name=" "), "name", "missing"),
    (ok(phone_number="12ab"), "phone_number", "invalid_format"),
    (ok(phone_dialing_code=None), "phone_dialing_code", "missing"),
    (ok(email="not-an-email"), "email", "invalid_format"),
    (ok(id_type="library_card"), "id_type", "unknown_value"),
    (ok(id_number=None), "id_number", "missing"),
    (ok(date_of_birth="1980-13-01"), "date_of_birth", "invalid_format"),
    (ok(date_of_birth="2030-01-01"), "date_of_birth", "out_of_range"),
    (ok(source="carrier_pigeon"), "source", "unknown_value"),
    (ok(institution_id="inst-9"), "institution_id", "unknown_value"),
    (ok(registered_at="2027-01-01T00:00:00+00:00"), "registered_at", "out_of_range"),
    ({"name": "No One"}, "customer_id", "no_identity"),
])
async def test_a_bad_row_is_rejected_naming_the_field_and_reason(row, field, reason):
    with pytest.raises(RowRejected) as exc:
        check(row)
    assert (exc.value.field, exc.value.reason) == (field, reason)


async def test_a_good_row_gives_a_fact_with_deterministic_ids():
    cid, fact = check(ok(institution_id="inst-1", source="institution"), {"inst-1"})
    cid2, fact2 = check(ok(institution_id="inst-1", source="institution", email="other@example.com"), {"inst-1"})
    assert cid == cid2 == derived_customer_id(KEY, "id", "passport::K1234567")  # the ID document is the identity
    assert cid.startswith("imp-") and "K1234567" not in cid
    assert fact["id"] == fact2["id"] == fact_id("imp_x", 2)
    assert fact["data"]["institution_id"] == "inst-1" and fact["at"] == AT
    assert check(ok(customer_id="C-77"))[0] == "C-77"
    assert check(ok(id_type=None, id_number=None))[0] == derived_customer_id(KEY, "email", "ann@example.com")
    assert derived_customer_id(b"other", "id", "passport::K1234567") != cid  # keyed


def csv_bytes(rows, header=HEADER):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return buf.getvalue().encode()


def people(n, bad=()):
    out = []
    for i in range(n):
        r = {"customer_id": f"IMP{i:04d}", "name": f"Person {i}", "phone_dialing_code": "+852",
             "phone_number": f"9{i:07d}", "email": f"p{i}@example.com", "id_type": "national_id",
             "id_number": f"ID{i:06d}", "date_of_birth": "1990-05-06", "institution_id": ""}
        if i in bad:
            r["email"] = "broken"
        out.append(r)
    return out


async def test_the_reader_streams_csv_and_xlsx_rows_from_a_checkpoint(tmp_path):
    rows = people(5)
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbf" + csv_bytes(rows))
    assert detect_format(p, "a.csv") == "csv"
    got = list(iter_rows(p, "csv", start=3))
    assert [n for n, _ in got] == [5, 6] and got[0][1]["customer_id"] == "IMP0003"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for r in rows:
        ws.append([r[h] or None for h in HEADER])
    x = tmp_path / "a.xlsx"
    wb.save(x)
    assert detect_format(x, "a.xlsx") == "xlsx"
    got = list(iter_rows(x, "xlsx", start=1))
    assert [n for n, _ in got] == [3, 4, 5, 6] and got[-1][1]["name"] == "Person 4"
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"foo,bar\n1,2\n")
    with pytest.raises(BadFile):
        check_header(bad, "csv")


@pytest.fixture()
def world(tmp_path):
    auth = AuthSettings(jwt_secret="unit-secret-0123456789-abcdefghijklmnop")
    settings = CustomerSettings(database_url=f"sqlite:///{tmp_path}/customer.db", auth=auth,
                                kafka=KafkaSettings(topic_prefix="unit."), import_dir=str(tmp_path / "imports"),
                                import_chunk_rows=7)
    c = bootstrap(settings)
    runner = ImportRunner(c.app, c.sessions, c.tables, directory=c.import_dir, id_key=b"k", chunk_rows=7,
                          match=c.matcher)
    admin = {"Authorization": f"Bearer {mint_token(auth, user_id='admin-1', role='admin')}"}
    manager = {"Authorization": f"Bearer {mint_token(auth, user_id='m-1', role='manager')}"}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t", headers=admin)
    yield c, runner, client, manager
    c.engine.dispose()


async def upload(client, body, name="people.csv", headers=None):
    return await client.post("/customer-imports", params={"filename": name}, content=body,
                             headers={"content-type": "text/csv", **(headers or {})})


async def test_upload_import_report_and_the_same_file_twice(world):
    c, runner, client, manager = world
    r = await client.post("/institutions", json={"institution_id": "inst-1", "name": "Harbour Bank",
                                                 "team_id": "team-a"})
    assert r.status_code == 201, r.text
    rows = people(20, bad={4, 11})
    rows[0]["institution_id"] = "inst-1"
    rows[1]["institution_id"] = "inst-unknown"
    body = csv_bytes(rows)
    assert (await upload(client, body, headers=manager)).status_code == 403
    r = await upload(client, body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "queued" and job["job_id"].startswith("imp_") and job["rows_estimate"] == 20
    runner.process(job["job_id"])
    r = await client.get(f"/customer-imports/{job['job_id']}")
    assert (r.json()["state"], r.json()["rows_read"], r.json()["accepted"],
                              r.json()["rejected"]) == ("done", 20, 17, 3)
    report = (await client.get(f"/customer-imports/{job['job_id']}/rejects")).text.splitlines()
    assert report == ["row,field,reason", "3,institution_id,unknown_value", "6,email,invalid_format",
                      "13,email,invalid_format"]
    assert "example.com" not in "".join(report)
    page = (await client.get("/customers", params={"channel": "manual_import", "limit": 200})).json()
    assert len(page["items"]) == 17 and {i["channel"] for i in page["items"]} == {"manual_import"}
    inst = (await client.get("/customers", params={"institution_id": "inst-1"})).json()["items"]
    assert [i["customer_id"] for i in inst] == ["IMP0000"] and inst[0]["institution_id"] == "inst-1"
    counts_before = (await client.get("/customers/counts")).json()
    assert counts_before["total"] == 17
    stored_before = c.app.recorder.max_notification_id()
    r = await upload(client, body)  # the same file again: the same job, nothing changes
    assert r.status_code == 200 and r.json()["job_id"] == job["job_id"] and r.json()["state"] == "done"
    assert runner.next_job() is None
    assert (await client.get("/customers/counts")).json() == counts_before
    assert c.app.recorder.max_notification_id() == stored_before  # no event stored by the second upload
    listed = (await client.get("/customer-imports")).json()["items"]
    assert [j["job_id"] for j in listed] == [job["job_id"]]


async def test_an_interrupted_import_resumes_from_its_checkpoint_and_imports_each_row_once(world):
    c, runner, client, _ = world
    job = (await upload(client, csv_bytes(people(30)))).json()

    saves = {"n": 0}
    real = runner._save_chunk

    def stop_after_two(j, chunk):
        saves["n"] += 1
        if saves["n"] == 2:
            runner._stopping.set()  # a stop (SIGTERM) after the second chunk committed
        return real(j, chunk)

    runner._save_chunk = stop_after_two  # type: ignore[method-assign]
    runner.process(job["job_id"])
    mid = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    assert (mid["state"], mid["rows_read"], mid["accepted"]) == ("running", 14, 14)
    fresh = ImportRunner(c.app, c.sessions, c.tables, directory=c.import_dir, id_key=b"k", chunk_rows=7,
                         match=c.matcher)
    assert fresh.next_job() == job["job_id"]
    fresh.process(job["job_id"])
    done = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    assert (done["state"], done["rows_read"], done["accepted"], done["rejected"]) == ("done", 30, 30, 0)
    items = (await client.get("/customers", params={"limit": 200})).json()["items"]
    assert sorted(i["customer_id"] for i in items) == [f"IMP{i:04d}" for i in range(30)]
    assert (await client.get("/customers/counts")).json()["total"] == 30


async def test_bad_uploads_are_refused_naming_the_field(world):
    _, _, client, _ = world
    r = await upload(client, b"foo,bar\n1,2\n")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await upload(client, b"name\nx\n", name="people.pdf")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "filename"
    r = await upload(client, b"")
    assert r.status_code == 422
    assert (await client.get("/customer-imports/imp_" + "0" * 32)).status_code == 404


async def test_an_imported_row_with_a_known_id_number_is_linked_to_the_existing_customer(world):
    c, runner, client, _ = world
    first = people(3)
    job = (await upload(client, csv_bytes(first))).json()
    runner.process(job["job_id"])
    again = [{**first[1], "customer_id": "OTHER-1", "name": "Another Name", "email": "x1@example.com",
              "phone_number": "98765432"}]
    job2 = (await upload(client, csv_bytes(again), name="second.csv")).json()
    runner.process(job2["job_id"])
    assert (await client.get(f"/customer-imports/{job2['job_id']}")).json()["accepted"] == 1
    ids = sorted(i["customer_id"] for i in (await client.get("/customers", params={"limit": 200})).json()["items"])
    assert ids == ["IMP0000", "IMP0001", "IMP0002"]  # the same ID document: merged into the one already known
    r = await client.get("/customers/OTHER-1", follow_redirects=False)
    assert r.status_code == 301 and r.json()["survivor_id"] == "IMP0001"


async def test_the_demo_file_has_two_rows_to_reject_and_the_rest_imports(tmp_path):
    from devtools.seed_imports import INSTITUTION, demo_file

    p = tmp_path / "demo.csv"
    p.write_bytes(demo_file())
    assert demo_file() == p.read_bytes()  # deterministic: a second start is the same job
    outcomes = []
    for row_no, row in iter_rows(p, "csv"):
        try:
            validate_row(row, job_id="imp_demo", row_no=row_no, at=AT, key=KEY,
                         institutions={INSTITUTION["institution_id"]})
            outcomes.append("ok")
        except RowRejected as exc:
            outcomes.append(exc.field)
    assert outcomes.count("ok") == 38 and sorted(o for o in outcomes if o != "ok") == ["date_of_birth", "email"]


async def test_a_job_that_keeps_failing_is_given_up_loudly_and_a_database_outage_is_retried(world, monkeypatch):
    from sqlalchemy.exc import OperationalError as SqlOperationalError

    from services.customer import importer as importer_mod
    from shared.runtime import health

    c, runner, client, _ = world
    monkeypatch.setattr(runner, "poll_s", 0.01)
    job = (await upload(client, csv_bytes(people(5)))).json()

    def outage(_job_id):
        raise SqlOperationalError("SELECT 1", {}, ConnectionError("database away"))

    monkeypatch.setattr(runner, "process", outage)
    for _ in range(importer_mod.GIVE_UP_AFTER + 2):
        assert await runner._step() is False
    state = (await client.get(f"/customer-imports/{job['job_id']}")).json()["state"]
    assert state == "queued"  # a database outage never fails the job: it is retried for as long as it lasts
    assert runner.health.stalled and runner.health.failures == importer_mod.GIVE_UP_AFTER + 2
    with runner.health:
        with pytest.raises(health.Stalled):  # the worker reports unready while it cannot get on
            await health.components()

    def bug(_job_id):
        raise ValueError("a bug, not the file")

    monkeypatch.setattr(runner, "process", bug)
    runner.health.progressed()
    for _ in range(importer_mod.GIVE_UP_AFTER):
        assert await runner._step() is False
    got = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    assert got["state"] == "failed" and got["error"] == "internal_error:ValueError"
    assert runner.next_job() is None
    assert await runner._step() is False and not runner.health.stalled  # nothing left: healthy again


def lane_runners(c, workers=2):
    return [ImportRunner(c.app, c.sessions, c.tables, directory=c.import_dir, id_key=b"k", chunk_rows=7,
                         match=c.matcher, worker=w, workers=workers) for w in range(workers)]


async def test_a_job_in_two_lanes_each_worker_its_own_rows_the_last_one_finishes_it(world, monkeypatch):
    c, _, client, _ = world
    monkeypatch.setattr(type(c), "import_lanes", property(lambda _self: 2))  # as on PostgreSQL
    rows = people(40, bad={5, 30})
    # the same person under another ID document: a probable duplicate, which must be in one lane with its pair
    rows.append({**rows[3], "customer_id": "IMP9003", "id_number": "ID999003", "email": "other@example.com",
                 "phone_number": "98889003", "name": "person 3"})
    job = (await upload(client, csv_bytes(rows))).json()
    lanes = [lane_of(r, 2) for _, r in iter_rows(c.import_dir / f"{job['job_id']}.csv", "csv")]
    assert set(lanes) == {0, 1} and lanes[3] == lanes[40]
    w0, w1 = lane_runners(c)
    assert w0.next_job() == w1.next_job() == job["job_id"]
    w0.process(job["job_id"])
    mid = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    mine = lanes.count(0)
    assert (mid["state"], mid["rows_read"]) == ("running", mine)  # lane 1 not yet read: not done
    assert w0.next_job() is None and w1.next_job() == job["job_id"]
    w1.process(job["job_id"])
    done = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    assert (done["state"], done["rows_read"], done["accepted"], done["rejected"]) == ("done", 41, 39, 2)
    report = (await client.get(f"/customer-imports/{job['job_id']}/rejects")).text.splitlines()
    assert report == ["row,field,reason", "7,email,invalid_format", "32,email,invalid_format"]
    assert (await client.get("/customers/counts")).json()["total"] == 39
    queue = (await client.get("/customer-matches")).json()["items"]
    assert [(m["customer_id"], m["candidate_id"]) for m in queue] == [("IMP9003", "IMP0003")]
    assert w0.next_job() is None and w1.next_job() is None
    with c.engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(c.tables.import_job.select())]
    c.rebuild_read_model()  # the lanes' chunks add up to the same job row when replayed
    with c.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(c.tables.import_job.select())] == before


async def test_a_lane_taken_over_mid_file_is_imported_once(world, monkeypatch):
    c, _, client, _ = world
    monkeypatch.setattr(type(c), "import_lanes", property(lambda _self: 2))
    job = (await upload(client, csv_bytes(people(60)))).json()
    w0, w1 = lane_runners(c)
    real, saves = w1._save_chunk, {"n": 0}

    def stop_after_one(lane, chunk):
        saves["n"] += 1
        if saves["n"] == 1:
            w1._stopping.set()  # worker 1 stops (SIGTERM) after its first chunk committed
        return real(lane, chunk)

    w1._save_chunk = stop_after_one  # type: ignore[method-assign]
    w1.process(job["job_id"])
    alone = ImportRunner(c.app, c.sessions, c.tables, directory=c.import_dir, id_key=b"k", chunk_rows=7,
                         match=c.matcher)  # one worker now (the service restarted with one process): both lanes
    alone.process(job["job_id"])
    done = (await client.get(f"/customer-imports/{job['job_id']}")).json()
    assert (done["state"], done["rows_read"], done["accepted"]) == ("done", 60, 60)
    items = (await client.get("/customers", params={"limit": 200})).json()["items"]
    assert sorted(i["customer_id"] for i in items) == [f"IMP{i:04d}" for i in range(60)]


async def test_a_job_stored_before_lanes_resumes_from_its_own_checkpoint(world):
    c, runner, client, _ = world
    body = csv_bytes(people(30))
    job_id = job_id_of(hashlib.sha256(body).hexdigest())
    (c.import_dir / f"{job_id}.csv").write_bytes(body)
    job = ImportJob(job_id=job_id, filename="old.csv", file_format="csv", sha256=hashlib.sha256(body).hexdigest(),
                    size=len(body), created_by="admin-1", created_at=AT, rows_estimate=30)  # no lanes: older
    job._chunk_processed(job_id=job_id, offset=14, accepted_total=13, rejected_total=1,  # as then recorded
                         rejects=[{"row": 5, "field": "email", "reason": "invalid_format"}], at=AT)
    c.app.save(job)
    assert runner.next_job() == job_id
    runner.process(job_id)
    done = (await client.get(f"/customer-imports/{job_id}")).json()
    assert (done["state"], done["rows_read"], done["accepted"], done["rejected"]) == ("done", 30, 29, 1)
    items = (await client.get("/customers", params={"limit": 200})).json()["items"]
    assert sorted(i["customer_id"] for i in items) == [f"IMP{i:04d}" for i in range(14, 30)]  # rows 16..31


class FakeProcess:
    def __init__(self, alive=True, exitcode=None):
        self.alive, self.exitcode = alive, exitcode

    def is_alive(self):
        return self.alive


async def test_the_import_processes_are_restarted_and_their_stall_counts_for_readiness(world, monkeypatch):
    from services.customer import importer as importer_mod
    from shared.runtime import health

    c, *_ = world
    procs = ImportProcesses(c.settings, 2, lambda: True)
    started = []
    def start(i):
        started.append(i)
        procs._procs[i], procs._started[i] = FakeProcess(), time.monotonic()

    monkeypatch.setattr(procs, "_start", start)
    procs._procs, procs._started = {1: FakeProcess(alive=False, exitcode=-9)}, {1: 0.0}
    with procs.health:
        for _ in range(health.STALL_AFTER):  # a process that keeps dying: restarted, then a stall (one ERROR)
            procs._procs[1] = FakeProcess(alive=False, exitcode=-9)
            procs._started[1] -= importer_mod.ImportProcesses.RESTART_AFTER_S  # (no sooner than that after a start)
            procs._watch()
        assert started == [1] * health.STALL_AFTER and procs.health.stalled
        with pytest.raises(health.Stalled):
            await health.components()
        procs._started[1] -= importer_mod.ImportProcesses.STEADY_AFTER_S  # up long enough: forgiven
        procs._watch()
        assert not procs.health.stalled
        procs._flags[1].value = 1  # the process's own importer is stalled (it logged it): readiness follows
        procs._watch()
        assert procs.health.stalled
        with pytest.raises(health.Stalled):
            await health.components()
        procs._flags[1].value = 0
        procs._watch()
        assert not procs.health.stalled
