"""One cursor key for every replica: `<NAME>_CURSOR_SECRET` signs the cursors; with production (RS256) tokens
a served API refuses to start without it (one ERROR naming the variable), instead of signing with a random
key of its own process that another replica, or the same one after a restart, would reject."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from services.customer.settings import CustomerSettings
from services.usercrm.settings import UsercrmSettings
from shared.runtime import service
from shared.runtime.cursor import BadCursor, codec_for, missing_cursor_secret
from shared.runtime.settings import AuthSettings

RS256 = AuthSettings(jwt_algorithm="RS256")
HS256 = AuthSettings(jwt_secret="dev-secret-dev-secret-dev-secret")


def _replicas(**kw: Any) -> tuple[Any, Any]:
    """Two replicas' codecs: settings built separately, from the same configuration."""
    return codec_for(CustomerSettings(**kw)), codec_for(CustomerSettings(**kw))


@pytest.mark.parametrize("kw", [dict(auth=RS256, cursor_secret="shared-cursor-key-0123456789"), dict(auth=HS256)],
                         ids=["rs256-cursor-secret", "hs256-derived"])
def test_a_cursor_issued_by_one_replica_is_accepted_by_another(kw: dict[str, Any]) -> None:
    a, b = _replicas(**kw)
    cursor = a.encode("customers", ["2026-01-05T09:00:00+00:00", "c-1"])
    assert b.decode(cursor, "customers", [str, str]) == ["2026-01-05T09:00:00+00:00", "c-1"]
    assert missing_cursor_secret(CustomerSettings(**kw)) is None


def test_another_services_secret_does_not_verify() -> None:
    cursor = codec_for(CustomerSettings(auth=RS256, cursor_secret="customer-cursor-key-012345")).encode("l", ["x"])
    other = codec_for(CustomerSettings(auth=RS256, cursor_secret="usercrm-cursor-key-0123456"))
    with pytest.raises(BadCursor):
        other.decode(cursor, "l", [str])


def test_production_tokens_need_the_services_own_cursor_secret() -> None:
    assert missing_cursor_secret(CustomerSettings(auth=RS256)) == "CUSTOMER_CURSOR_SECRET"
    assert missing_cursor_secret(UsercrmSettings(auth=RS256)) == "USERCRM_CURSOR_SECRET"
    # an HS256 secret left in a production configuration is not a cursor key
    stray = AuthSettings(jwt_algorithm="RS256", jwt_secret="left-over-left-over-left-over")
    assert missing_cursor_secret(CustomerSettings(auth=stray)) == "CUSTOMER_CURSOR_SECRET"


def test_a_short_cursor_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="cursor_secret"):
        CustomerSettings(auth=RS256, cursor_secret="short")


@pytest.mark.parametrize("mode", ["api", "all"])
def test_a_served_api_without_a_cursor_secret_refuses_to_start(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "configure_logging", lambda *a, **k: None)
    built: list[Any] = []
    with capture_logs() as logs:
        code = service.main([mode], service="customer", settings=lambda: CustomerSettings(auth=RS256),
                            bootstrap=built.append)
    assert code == 2 and built == [], "nothing is built, migrated or served"
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [(e["event"], e["variable"]) for e in errors] == [("cursor_secret_missing", "CUSTOMER_CURSOR_SECRET")]


def test_a_worker_does_not_need_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers sign no cursors: the check is not theirs (it would otherwise stop the migrate Job too)."""
    monkeypatch.setattr(service, "configure_logging", lambda *a, **k: None)

    class Built(Exception):
        pass

    def bootstrap(settings: Any) -> Any:
        raise Built

    for mode in ("worker", "migrate"):
        with pytest.raises(Built):
            service.main([mode], service="customer", settings=lambda: CustomerSettings(auth=RS256),
                         bootstrap=bootstrap)
