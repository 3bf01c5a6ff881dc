"""Access control through the real broker and PostgreSQL: the access service (event store + read model in one
PostgreSQL database) publishes crm.access.events through its outbox; another service's AccessDirectory (its
own PostgreSQL database) consumes them and answers with the same rights the access service computes; a staff
exit is refused by that directory within seconds; a poison record is dead-lettered and the directory goes on;
replaying the topic into a fresh directory, rebuilding the directory, and `ops rebuild access --verify` all
give the same rows."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from services.access.bootstrap import bootstrap
from services.access.projections.tables import tables as access_tables
from services.access.settings import AccessSettings
from shared.events import topics
from shared.runtime.access_directory import AccessDirectory
from shared.runtime.auth import mint_token
from shared.runtime.db import make_engine, session_factory
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
ADMIN = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin')}"}


class AccessService:
    def __init__(self, kafka_settings, url: str):
        self.settings = AccessSettings(database_url=url, kafka=kafka_settings, auth=AUTH, relay_interval_ms=50)
        self.c = bootstrap(self.settings)
        self.stack = contextlib.AsyncExitStack()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://access")

    async def start(self) -> None:
        await self.stack.enter_async_context(running(self.c))  # the kit's worker run, as tests and benches do

    async def stop(self) -> None:
        await self.stack.aclose()
        await self.client.aclose()

    async def ok(self, method: str, path: str, body=None, status: int = 200):
        r = await self.client.request(method, path, json=body, headers=ADMIN)
        assert r.status_code == status, r.text
        return r.json() if r.content else None


class Directory:
    """A consuming service's directory (named `kyc` here: its dead letters go to that service's topic)."""

    def __init__(self, kafka_settings, url: str):
        self.engine = make_engine(url)
        self.d = AccessDirectory(service="kyc", kafka=kafka_settings, engine=self.engine,
                                 sessions=session_factory(self.engine), refresh_s=0.2)
        self.d.migrate()
        self.producer = EventProducer(kafka_settings, client_id="kyc")

    async def start(self) -> None:
        await self.producer.start()
        self.consumer = self.d.consumer(self.producer)
        await self.consumer.start()
        self.task = asyncio.create_task(self.consumer.run())

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.task
        await self.producer.stop()

    def rows(self) -> dict[str, list]:
        with self.d.sessions() as s:
            return {t.name.removeprefix("access_dir_"): sorted(map(tuple, s.execute(select(t)).all()), key=repr)
                    for t in self.d.tables.all}


def service_rows(svc: AccessService) -> dict[str, list]:
    with svc.c.sessions() as s:
        return {t.name.removeprefix("access_"): sorted(map(tuple, s.execute(select(t)).all()), key=repr)
                for t in access_tables.all}


async def dead_letters(kafka_settings, count: int, timeout: float = 30.0) -> list[dict]:
    consumer = AIOKafkaConsumer(kafka_settings.topic(topics.dead_letter_topic("kyc")),
                                bootstrap_servers=kafka_settings.bootstrap_servers, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    out: list[dict] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < count and asyncio.get_running_loop().time() < deadline:
            for recs in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(json.loads(r.value) for r in recs)
    finally:
        await consumer.stop()
    return out


async def test_directory_follows_the_access_service_and_replays_to_the_same_rows(kafka_settings, pg_database,
                                                                                  poll):
    svc = AccessService(kafka_settings, pg_database("access"))
    await ensure_topics(kafka_settings, [kafka_settings.topic(topics.CRM_ACCESS),
                                         kafka_settings.topic(topics.dead_letter_topic("kyc"))])
    await svc.start()
    directory = Directory(kafka_settings, pg_database("kyc"))
    await directory.start()
    try:
        for node_id, kind, parent in [("whale", "company", None), ("R-APAC", "region", "whale"),
                                      ("B-HK", "branch", "R-APAC"), ("T-HK", "team", "B-HK"),
                                      ("T-HK2", "team", "B-HK"), ("T-OLD", "team", "B-HK")]:
            await svc.ok("POST", "/access/org/nodes", {"node_id": node_id, "kind": kind, "parent_id": parent,
                                                       "name": node_id}, 201)
        await svc.ok("DELETE", "/access/org/nodes/T-OLD", status=204)
        await svc.ok("POST", "/access/roles", {"role_id": "rm", "name": "RM", "scope": "own",
                                               "permissions": ["ClientProfileReadOnly", "CustomerWrite"]}, 201)
        await svc.ok("POST", "/access/roles", {"role_id": "bm", "name": "Branch Manager", "scope": "node",
                                               "permissions": ["CustomerExport"], "node_id": "B-HK"}, 201)
        for staff_id in ("M-1", "M-2"):
            await svc.ok("POST", "/access/staff", {"staff_id": staff_id, "display_name": f"Name {staff_id}",
                                                   "node_id": "T-HK"}, 201)
            await svc.ok("POST", f"/access/staff/{staff_id}/roles", {"role_id": "rm"}, 201)
        await svc.ok("POST", "/access/staff/M-1/roles", {"role_id": "bm"}, 201)
        expected = await svc.ok("GET", "/access/staff/M-1/effective")

        def directory_agrees():
            acc = directory.d.access("M-1")
            return acc.active and sorted(acc.permissions) == expected["permissions"] and \
                list(acc.teams) == expected["teams"] == ["T-HK", "T-HK2"]

        await poll(directory_agrees, timeout=30, message="the directory gives M-1 the access service's answer")

        # a poison record on the access topic: dead-lettered with its reason; the directory goes on
        await directory.producer.send_raw(kafka_settings.topic(topics.CRM_ACCESS), b"\x00not json", key=b"M-9")
        # exit: every service's directory refuses M-2 within seconds, whatever token M-2 holds
        assert directory.d.access("M-2").active
        await svc.ok("POST", "/access/staff/M-2/exit")
        await poll(lambda: not directory.d.access("M-2").active, timeout=30, message="M-2 refused after exit")
        dlq = await dead_letters(kafka_settings, 1)
        assert [d["error"]["reason"] for d in dlq] == ["invalid_json"]
        # a role change reaches the holders without new tokens
        await svc.ok("PUT", "/access/roles/rm", {"name": "RM", "scope": "own", "permissions": ["TaskWrite"]})
        await poll(lambda: "TaskWrite" in directory.d.access("M-1").permissions, timeout=30,
                   message="role change applied")

        # the directory's tables are the access service's own rows (same shape, same versions)
        await poll(lambda: directory.rows() == service_rows(svc), timeout=30, message="directory == service")
        live = directory.rows()
        assert len(live["staff"]) == 2 and len(live["assignment"]) == 2 and len(live["org_node"]) == 6

        # replay from offset 0 into a fresh database, and rebuild the live directory: the same rows
        fresh = Directory(kafka_settings, pg_database("kyc2"))
        await fresh.producer.start()
        try:
            assert await fresh.d.rebuild(fresh.producer) >= 15
            assert fresh.rows() == live
        finally:
            await fresh.producer.stop()
            fresh.engine.dispose()
        await directory.stop()
        producer = EventProducer(kafka_settings, client_id="kyc-rebuild")
        await producer.start()
        try:
            await directory.d.rebuild(producer)
        finally:
            await producer.stop()
        assert directory.rows() == live
    finally:
        await svc.stop()
        directory.engine.dispose()
    tables = await ops_rebuild_verified("access", svc.settings.database_url)
    assert tables["access_assignment"]["rows_after"] == 2 and tables["access_staff_profile"]["rows_after"] == 2

