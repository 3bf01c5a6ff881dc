"""Which handler errors the pipeline retries and which make a record poison."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import InterfaceError as EsInterfaceError
from eventsourcing.persistence import OperationalError as EsOperationalError
from eventsourcing.persistence import RecordConflictError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as SaOperationalError
from sqlalchemy.exc import TimeoutError as SaPoolTimeout

from shared.events import ContractError


class PermanentError(Exception):
    """A handler error that will not go away on retry (the event is poison for this handler)."""


class DomainError(Exception):
    """Base of the services' domain errors: a stable machine-readable `code`, the HTTP `status` the API
    answers with (`shared.runtime.api.domain_problem`; the domain never imports the web layer), a message,
    and context such as the `field` a 422 names."""

    status = 409
    code = "domain_error"

    def __init__(self, message: str, **context: str):
        super().__init__(message)
        self.message = message
        self.context = context

    @property
    def field(self) -> str | None:
        """The input field the error is about (a 422 names it)."""
        return self.context.get("field")


class InvalidTransition(DomainError):
    """The command is not allowed in the current state -> 409."""

    code = "invalid_transition"


_TRANSIENT: tuple[type[BaseException], ...] = (
    SaOperationalError, SaPoolTimeout,  # SQLAlchemy: connection lost, pool exhausted
    psycopg.OperationalError,  # psycopg, and psycopg_pool's PoolTimeout (a subclass)
    sqlite3.OperationalError,  # database locked
    EsOperationalError, EsInterfaceError,  # eventsourcing's wrappers of the drivers' errors
    ConnectionError, TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """Infrastructure errors that a retry can fix (database down, pool exhausted): never dead-letter these."""
    if isinstance(exc, PermanentError | ContractError):
        return False
    if isinstance(exc, _TRANSIENT):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_conflict(exc: BaseException) -> bool:
    """Another writer (an API command, another replica after a rebalance) stored first: the handler is
    called again on the state as it is now, after checking that its position was not stored meanwhile.
    Contention, not poison: retried like a transient error."""
    return isinstance(exc, RecordConflictError)
