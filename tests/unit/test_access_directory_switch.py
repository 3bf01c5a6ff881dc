"""`<NAME>_ACCESS_DIRECTORY` in every service (the kit's `ServiceSettings`, `AccessDirectoryWiring` and
`create_app(access_directory=)`): off by default (the token's claims decide, no directory, no extra topic or
component); shadow and enforce (a plain true too) give the API and the worker the same directory, its tables
created by `migrate`, its consumer among the worker's components. The access service decides from its own read
model (no consumer, no copy)."""

from __future__ import annotations

import importlib

import pytest

from shared.events import topics
from shared.runtime.settings import AuthSettings, KafkaSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
SERVICES = topics.SERVICES  # every service, the ones to come too


def build(name: str, tmp_path):
    settings_mod = importlib.import_module(f"services.{name}.settings")
    cls = next(v for k, v in vars(settings_mod).items() if k.endswith("Settings") and k.lower() == f"{name}settings")
    extra = {"faust_datadir": str(tmp_path / "faust")} if name == "tasks" else {}
    settings = cls(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", auth=AUTH,
                   kafka=KafkaSettings(topic_prefix="unit."), **extra)
    c = importlib.import_module(f"services.{name}.bootstrap").bootstrap(settings)
    c.migrate()
    return c


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize(("switch", "mode"), [(None, None), ("off", None), ("shadow", "shadow"),
                                               ("enforce", "enforce"), ("true", "enforce")])
def test_the_switch(tmp_path, monkeypatch, name, switch, mode):
    if switch is not None:
        monkeypatch.setenv(f"{name.upper()}_ACCESS_DIRECTORY", switch)
    c = build(name, tmp_path)
    try:
        directory = getattr(c.api.state, "access_directory", None)
        assert directory is c.access_directory
        consumes = mode is not None and name != "access"
        assert (c.directory_topics() == [f"unit.{topics.CRM_ACCESS}"]) == consumes
        components = c.directory_components(producer=object())
        assert len(components) == (1 if consumes else 0)
        assert c.directory_components(producer=object()) == components  # one consumer per container
        if consumes:
            assert components[0].group_id == f"unit.whale-{name}-access"
        if mode is None:
            assert directory is None
            return
        assert directory.shadow == (mode == "shadow")
        assert directory.bootstrap == (name == "access")
        assert directory.tables.staff.name == ("access_staff" if name == "access" else "access_dir_staff")
        with c.sessions() as s:  # migrated with the service
            assert s.execute(directory.tables.staff.select()).all() == []
    finally:
        c.engine.dispose()
