"""Masked personal data stays masked however it is queried: search (`q`) on names, phones and e-mails
only for callers with CustomerPiiRead, on the list, the stage counts and the export; every other caller
matches a customer id exactly. A matrix over every role that may read customers."""

from __future__ import annotations

import csv
import io

import pytest

from shared.runtime.auth import ROLES, Perm
from tests.unit.test_customer_api import assigned, registered, world  # noqa: F401 - fixture

READERS = sorted(r for r, spec in ROLES.items() if Perm.ClientProfileReadOnly in spec["perms"])
PII_PROBES = ["Name c0", "name c07", "c07@exa", "C07@EXAMPLE.COM", "9000", "+852900", "90000007", "c0"]


def _headers(token, role):  # type: ignore[no-untyped-def]
    # every reader sees c07: own scope through its assignment to m1, team scope through team T1
    return token(role, user="m1", team_id="T1", teams=["T1"])


@pytest.mark.parametrize("role", READERS)
async def test_prefix_search_on_personal_data_only_with_pii_permission(world, role):  # noqa: F811
    c, feed, feed_assign, token, client = world
    feed(*[registered(f"c{i:02d}", i) for i in range(12)])
    feed_assign(assigned("c07", "m1", "T1"))
    headers = _headers(token, role)
    pii = Perm.CustomerPiiRead in ROLES[role]["perms"]
    for probe in PII_PROBES:
        r = await client.get("/customers", params={"q": probe}, headers=headers)
        assert r.status_code == 200, r.text
        found = {i["customer_id"] for i in r.json()["items"]}
        assert ("c07" in found) is pii, (role, probe, found)
        counts = (await client.get("/customers/counts", params={"q": probe}, headers=headers)).json()
        assert (counts["total"] > 0) is pii, (role, probe, counts)
    # the exact id is found by everyone whose scope covers the customer
    r = await client.get("/customers", params={"q": "c07"}, headers=headers)
    assert [i["customer_id"] for i in r.json()["items"]] == ["c07"]
    item = r.json()["items"][0]
    if not pii:
        assert item["email"] != "c07@example.com" and "90000007" not in (item["phone_number"] or "")


@pytest.mark.parametrize("role", sorted(r for r, s in ROLES.items() if Perm.CustomerExport in s["perms"]))
async def test_export_search_and_masking_follow_the_same_rule(world, role):  # noqa: F811
    c, feed, feed_assign, token, client = world
    feed(*[registered(f"c{i:02d}", i) for i in range(5)])
    feed_assign(assigned("c03", "m1", "T1"))
    headers = _headers(token, role)
    pii = Perm.CustomerPiiRead in ROLES[role]["perms"]
    r = await client.get("/customers/export", params={"q": "c03@example"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.status_code == 200 and [x["customer_id"] for x in rows] == (["c03"] if pii else [])
    rows = list(csv.DictReader(io.StringIO((await client.get("/customers/export", params={"q": "c03"},
                                                              headers=headers)).text)))
    assert [x["customer_id"] for x in rows] == ["c03"]
    assert (rows[0]["email"] == "c03@example.com") is pii
