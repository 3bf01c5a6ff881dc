"""Which handler errors are retried (transient) and which are dead-lettered."""

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.events import ContractError
from shared.runtime.errors import PermanentError, is_transient


@pytest.mark.parametrize("exc", [
    OperationalError("select 1", {}, Exception("server closed the connection")),
    psycopg.OperationalError("connection refused"),
    sqlite3.OperationalError("database is locked"),
    ConnectionError("reset"),
    TimeoutError(),
])
def test_infrastructure_errors_are_transient(exc: BaseException) -> None:
    assert is_transient(exc) is True


@pytest.mark.parametrize("exc", [
    PermanentError("bad"), ContractError("payload.x", "invalid"), ValueError("bug"), KeyError("k"),
    IntegrityError("insert", {}, Exception("duplicate key")),
])
def test_other_errors_are_not_transient(exc: BaseException) -> None:
    assert is_transient(exc) is False
