"""The intake journal: what the info consumer applies is journaled in the same transaction, only events the
User CRM uses; the rebuild replays the journal (not the topics) into rows identical to the live ones; a
person's journaled events can be erased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from ops.rebuild import table_digests
from services.usercrm.bootstrap import bootstrap
from services.usercrm.projections import journal
from services.usercrm.projections import tables as t
from services.usercrm.settings import UsercrmSettings
from shared.events import encode, registry
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned, TeamChanged

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def events(cid: str) -> list:
    payloads = [
        up.CustomerRegistered(customer_id=cid, registered_at=T0, channel="organic", name="Wing Chan"),
        CustomerAssigned(customer_id=cid, manager_id="M1", team_id="T1", reason="manual", assigned_at=T0),
        TeamChanged(team_id="T1", name="Hong Kong", changed_at=T0),  # not used by the User CRM: not journaled
        up.AccountOpened(customer_id=cid, account_id=f"{cid}-A1", opened_at=T0),
        *[up.DepositCompleted(customer_id=cid, account_id=f"{cid}-A1", transaction_id=f"{cid}-D{i}", amount="10",
                              currency="USD", completed_at=T0 + timedelta(hours=i)) for i in range(5)],
        uu.LoginRecorded(customer_id=cid, login_id=f"{cid}-L1", at=T0, ip="203.0.113.7", source="web"),
    ]
    return [registry.decode(encode(registry.envelope(p, producer="platform"))) for p in payloads]


def test_rebuild_replays_the_journal_into_identical_rows_and_erasure_forgets_a_person(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'rm.db'}"
    c = bootstrap(UsercrmSettings(database_url=url))
    try:
        one, two = events("C1"), events("C2")
        for batch in (one, two, one):  # the repeat is a re-delivery
            c.info_handler.apply("brokerage.any", 0, batch, 1)
        with c.sessions() as s:
            assert s.scalar(select(func.count()).select_from(t.journal)) == 2 * 9
            assert s.scalar(select(func.count()).select_from(t.statement)) == 10
        before = table_digests(url)
        assert c.rebuild_read_model() == 18
        assert table_digests(url) == before
        with c.sessions.begin() as s:
            assert journal.erase(s, "C2") == 9
        c.rebuild_read_model()
        with c.sessions() as s:
            assert set(s.scalars(select(t.statement.c.customer_id))) == {"C1"}
    finally:
        c.engine.dispose()
        c.app.close()
