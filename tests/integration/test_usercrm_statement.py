"""The statement over 100,000 entries on PostgreSQL: keyset pages through the API cover every entry once, in
order, whatever the page size; filters agree with SQL; the CSV export streams the whole history."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from bench.bench_usercrm import T0, load_customers, load_statement
from services.usercrm.bootstrap import bootstrap
from services.usercrm.settings import UsercrmSettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("statement-secret-statement-secret"))
N = 100_000


async def test_statement_keyset_pages_over_100k_entries(pg_database):
    url = pg_database("uc_statement")
    c = bootstrap(UsercrmSettings(database_url=url, auth=AUTH))
    load_statement(url, "C1", N, others=50, per_other=100)
    load_customers(url, ["C1"], "M1", "T1")
    h = {"Authorization": f"Bearer {mint_token(AUTH, user_id='M1', role='manager', team_id='T1')}"}
    base = "/usercrm/customers/C1/statement"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://uc",
                                     timeout=120) as client:
            seen: list[tuple[str, str]] = []
            cursor = None
            while True:
                params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
                r = await client.get(base, params=params, headers=h)
                assert r.status_code == 200, r.text
                body = r.json()
                seen += [(i["at"], i["entry_id"]) for i in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == N and len(set(seen)) == N
            keys = [(datetime.fromisoformat(a), e) for a, e in seen]
            assert keys == sorted(keys, reverse=True)  # newest first, ties broken by entry id

            since, until = T0.replace(day=20), T0.replace(month=2)
            params = {"account_id": "C1-A1", "kind": ["trade", "charge"], "since": since.isoformat(),
                      "until": until.isoformat(), "limit": 1000}
            got = (await client.get(base, params=params, headers=h)).json()["items"]
            with psycopg.connect(url) as conn:
                want = conn.execute("SELECT count(*) FROM uc_statement WHERE customer_id = 'C1' AND account_id = "
                                    "'C1-A1' AND kind IN ('trade', 'charge') AND at >= %s AND at < %s",
                                    (since, until)).fetchone()[0]
            assert 0 < len(got) == want and {i["kind"] for i in got} == {"trade", "charge"}
            found = (await client.get(base, params={"q": "C1-0004242"}, headers=h)).json()["items"]
            assert [i["reference"] for i in found] == ["C1-0004242"]

            r = await client.get(f"{base}.csv", headers=h)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            lines = list(csv.reader(io.StringIO(r.text)))
            assert lines[0][0] == "entry_id" and len(lines) == N + 1
            assert {row[0] for row in lines[1:]} == {e for _, e in seen}
            other = {"Authorization": f"Bearer {mint_token(AUTH, user_id='M2', role='manager')}"}
            assert (await client.get(f"{base}.csv", headers=other)).status_code == 404
    finally:
        await c.stop()
