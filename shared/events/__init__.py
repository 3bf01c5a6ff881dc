"""Event contracts shared by every service: the envelope, payload models, topic names, upcasters.

Importing this package registers every contract in `registry`.
"""

from . import (  # noqa: F401  (registration)
    crm_access,
    crm_assignment,
    crm_audit,
    crm_campaigns,
    crm_customer,
    crm_kyc,
    crm_tasks,
    crm_usercrm,
    topics,
    upstream,
    upstream_capture,
    upstream_user,
    upstream_wealth,
)
from .envelope import Envelope, new_event_id, utcnow
from .registry import Contract, ContractError, Event, Payload, Registry, encode, registry

__all__ = [
    "Contract",
    "ContractError",
    "Envelope",
    "Event",
    "Payload",
    "Registry",
    "encode",
    "new_event_id",
    "registry",
    "topics",
    "utcnow",
]
