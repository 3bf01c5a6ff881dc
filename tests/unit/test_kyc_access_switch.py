"""`KYC_ACCESS_DIRECTORY`: off by default (the token's claims decide, no directory, no extra topic); shadow and
enforce (a plain true too) give the API and the worker an access directory, in shadow mode one that lets the
token decide."""

from __future__ import annotations

import pytest

from services.kyc.bootstrap import bootstrap
from services.kyc.settings import KycSettings
from shared.runtime.settings import AuthSettings, KafkaSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")


@pytest.mark.parametrize(("switch", "mode"), [(None, None), ("off", None), ("shadow", "shadow"),
                                               ("enforce", "enforce"), ("true", "enforce")])
def test_the_switch(tmp_path, monkeypatch, switch, mode):
    if switch is not None:
        monkeypatch.setenv("KYC_ACCESS_DIRECTORY", switch)
    c = bootstrap(KycSettings(database_url=f"sqlite:///{tmp_path / 'kyc.db'}", auth=AUTH,
                              kafka=KafkaSettings(topic_prefix="unit.")))
    try:
        directory = getattr(c.api.state, "access_directory", None)
        assert directory is c.directory
        assert ("unit.crm.access.events" in c.topics()) == (mode is not None)
        assert (c.directory_consumer in c.worker_components()) == (mode is not None)
        if mode is None:
            assert directory is None
        else:
            assert directory.shadow == (mode == "shadow")
            with c.sessions() as s:  # migrated with the service
                assert s.execute(directory.tables.staff.select()).all() == []
    finally:
        c.engine.dispose()
