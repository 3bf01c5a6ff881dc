"""Topic names. Upstream topics are published by the brokerage platforms; `crm.<service>.*` by our services."""

# Upstream (brokerage platform) topics: one per domain, keyed by customer id.
REGISTRATION = "brokerage.registration"
KYC = "brokerage.kyc"
ACCOUNT = "brokerage.account"
FUNDING = "brokerage.funding"
TRADING = "brokerage.trading"
REFERRAL = "brokerage.referral"

UPSTREAM_TOPICS = (REGISTRATION, KYC, ACCOUNT, FUNDING, TRADING, REFERRAL)

# CRM topics: each service publishes its events on its own topic, keyed by customer id
# (or by manager / case / ticket id for events about those).
CRM_CUSTOMER = "crm.customer.events"
CRM_ASSIGNMENT = "crm.assignment.events"
CRM_TASKS = "crm.tasks.events"
CRM_KYC = "crm.kyc.events"
CRM_SUMMARY = "crm.summary.events"

CRM_TOPICS = (CRM_CUSTOMER, CRM_ASSIGNMENT, CRM_TASKS, CRM_KYC, CRM_SUMMARY)


def dead_letter_topic(service: str) -> str:
    """Dead-letter topic of one service's consumers: `crm.<service>.dlq`."""
    return f"crm.{service}.dlq"


SERVICES = ("customer", "assignment", "tasks", "summary", "kyc")
DEAD_LETTER_TOPICS = tuple(dead_letter_topic(s) for s in SERVICES)
ALL_TOPICS = UPSTREAM_TOPICS + CRM_TOPICS + DEAD_LETTER_TOPICS
