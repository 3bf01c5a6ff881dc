"""The demo's manual import (`make run`): an institution, a routing rule on it, and a small file of existing
customers uploaded through the customer service's API at start — 40 rows, a few through the institution,
two of them invalid (the rejected-rows report has something to show). Deterministic: the same file every
start, so a second start changes nothing (the same content hash is the same job)."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import httpx

from shared.runtime.auth import mint_token
from shared.runtime.logging import get_logger
from shared.runtime.settings import AuthSettings

log = get_logger("devtools.seed_imports")
INSTITUTION = {"institution_id": "inst-harbour", "name": "Harbour Private Bank"}
HEADER = ["customer_id", "name", "phone_dialing_code", "phone_number", "email", "id_type", "id_number",
          "id_issuing_country", "date_of_birth", "institution_id", "source"]


def demo_file(rows: int = 40) -> bytes:
    rng = random.Random(19)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    for i in range(rows):
        inst = INSTITUTION["institution_id"] if i % 5 == 0 else ""
        email = f"imported{i}@example.com" if i != 17 else "imported17-at-example.com"  # rejected: e-mail
        dob = f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if i != 29 else "2999-01-01"
        w.writerow([f"IMP-{i:04d}", f"{rng.choice(['Chan', 'Lee', 'Wong', 'Ng'])} Tai Man {i}", "+852",
                    f"6{rng.randint(1000000, 9999999)}", email, "national_id", f"Z{rng.randint(100000, 999999)}{i}",
                    "HK", dob, inst, "institution" if inst else "manual_import"])
    return out.getvalue().encode()


async def seed_import(ports: dict[str, int], auth: AuthSettings, team_id: str | None) -> dict[str, Any] | None:
    """The institution (looked after by `team_id`), the rule routing its customers to that team, the file."""
    admin = {"Authorization": f"Bearer {mint_token(auth, user_id='admin-1', role='admin')}"}
    async with httpx.AsyncClient(headers=admin, timeout=30) as c:
        customer = f"http://127.0.0.1:{ports['customer']}"
        r = await c.post(f"{customer}/institutions", json={**INSTITUTION, "team_id": team_id})
        if r.status_code not in (201, 409):
            log.warning("seed_institution_failed", status=r.status_code)
        if team_id and "assignment" in ports:
            r = await c.put(f"http://127.0.0.1:{ports['assignment']}/rules/institution-harbour",
                            json={"position": 1, "name": "Harbour Private Bank's customers", "team_id": team_id,
                                  "institutions": [INSTITUTION["institution_id"]]})
            if r.status_code >= 400:
                log.warning("seed_institution_rule_failed", status=r.status_code)
        r = await c.post(f"{customer}/customer-imports", params={"filename": "demo-existing-customers.csv"},
                         content=demo_file(), headers={"content-type": "text/csv"})
        if r.status_code not in (200, 201):
            log.warning("seed_import_failed", status=r.status_code)
            return None
        job = r.json()
        log.info("seed_import_uploaded", job_id=job["job_id"], state=job["state"])
        return job
