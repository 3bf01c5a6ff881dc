"""A customer API that answers one write and is then killed (SIGKILL: no clean-up, its audit queue never
published), for `test_audit_kill_write_ahead.py`. The broker address answers nothing, so the record cannot leave
before the kill. Prints the answer's status and body, then dies.

Run: `python -m tests.integration.audit_kill_writer DATABASE_URL INSTITUTION_ID`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import httpx

from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuditEmitSettings, AuthSettings, KafkaSettings

SECRET = "audit-kill-writer-secret-0123456789abcdef"


async def main(url: str, institution_id: str) -> None:
    auth = AuthSettings(jwt_secret=SECRET)
    c = bootstrap(CustomerSettings(database_url=url, auth=auth, kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"),
                                   audit_emit=AuditEmitSettings(enabled=True, publish_timeout_s=60)))
    token = mint_token(auth, user_id="A-KILL", role="admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t") as client:
        r = await client.post("/institutions", json={"institution_id": institution_id, "name": "Killed Ltd"},
                              headers={"Authorization": f"Bearer {token}", "X-Request-ID": "kill-req-1"})
    sys.stdout.write(json.dumps({"status": r.status_code, "body": r.json()}) + "\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
