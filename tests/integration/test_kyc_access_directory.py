"""KYC with `KYC_ACCESS_DIRECTORY` on, through the real broker and PostgreSQL: its worker consumes
crm.access.events into its own database and its API decides from them, not from the token's claims — a member
whose token says `manager` but who holds a KYC reviewer role reviews; one whose token says `kyc_senior` but who
holds no KYC role is refused; a stranger's admin token is refused; and a staff exit is refused within seconds,
whatever token is still held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.kyc.bootstrap import bootstrap
from services.kyc.settings import KycSettings
from shared.events import registry
from shared.events.crm_access import AccessRoleChanged, AccessStaffChanged, RoleAssignment
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.service import rebuild_directory, running
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
T0 = datetime.now(UTC) - timedelta(days=1)


def envelope(payload):
    return registry.envelope(payload, producer="whale-crm/access")


def staff(staff_id: str, version: int, *roles: str, status: str = "active", change: str = "role_assigned"):
    return envelope(AccessStaffChanged(
        staff_id=staff_id, status=status, change=change, version=version, changed_at=T0,
        assignments=[RoleAssignment(assignment_id=f"{staff_id}-{r}", role_id=r, effective_from=T0) for r in roles]))


def directory_rows(c) -> dict[str, list[tuple]]:
    with c.sessions() as s:
        return {t.name: sorted(tuple(str(v) for v in row) for row in s.execute(t.select()))
                for t in c.access_directory.tables.all}


async def test_kyc_takes_the_rights_from_the_access_directory(kafka_settings, pg_database, poll):
    settings = KycSettings(database_url=pg_database("kyc"), kafka=kafka_settings, auth=AUTH, relay_interval_ms=50,
                           access_directory=True, access_refresh_s=0.2)
    c = bootstrap(settings)
    producer = EventProducer(kafka_settings, client_id="access-sim")
    await producer.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://kyc")

    async def queue(user: str, role: str) -> int:
        token = mint_token(AUTH, user_id=user, role=role)
        return (await client.get("/kyc/queue", headers={"Authorization": f"Bearer {token}"})).status_code

    try:
        async with running(c):
            await producer.publish_many([
                envelope(AccessRoleChanged(role_id="kyc-reviewer", name="KYC reviewer", scope="all", version=1,
                                           permissions=["ClientProfileReadOnly", "KycReview"], changed_at=T0)),
                envelope(AccessRoleChanged(role_id="rm", name="Relationship Manager", scope="own", version=1,
                                           permissions=["ClientProfileReadOnly", "CustomerWrite"], changed_at=T0)),
                staff("kyc-ann", 1, "kyc-reviewer", change="registered"),
                staff("M-HK-1", 1, "rm", change="registered"),
            ])
            await poll(lambda: c.access_directory.access("M-HK-1").active, timeout=30, message="directory filled")
            assert await queue("kyc-ann", "manager") == 200  # the token says manager; the directory, reviewer
            assert await queue("M-HK-1", "kyc_senior") == 403  # the token says kyc_senior; the directory, rm
            assert await queue("stranger", "admin") == 401  # not a staff member
            await producer.publish(staff("kyc-ann", 2, status="exited", change="exited"))

            async def refused() -> bool:
                return await queue("kyc-ann", "manager") == 401

            await poll(refused, timeout=30, message="kyc-ann refused after the exit")
        # `python -m services.kyc rebuild` (so `ops rebuild kyc --verify`) replays the topic into the emptied
        # directory: the same rows
        before = directory_rows(c)
        await rebuild_directory(c, "kyc")
        assert directory_rows(c) == before and before["access_dir_staff"]
    finally:
        await client.aclose()
        await producer.stop()
