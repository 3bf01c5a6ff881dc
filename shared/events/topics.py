"""Topic names. Upstream topics are published by the brokerage platforms; `crm.<service>.*` by our services."""

# Upstream (brokerage platform) topics: one per domain, keyed by customer id.
REGISTRATION = "brokerage.registration"
KYC = "brokerage.kyc"
ACCOUNT = "brokerage.account"
FUNDING = "brokerage.funding"
TRADING = "brokerage.trading"
REFERRAL = "brokerage.referral"
SUITABILITY = "brokerage.suitability"  # suitability / risk assessment results (the customer's risk rating)
# The wealth calendar's facts: IPO windows and subscriptions, corporate actions, positions held, maturities
# (consumed by the customer service; keyed by customer id, or IPO id / security for brokerage-wide ones).
WEALTH = "brokerage.wealth"

UPSTREAM_TOPICS = (REGISTRATION, KYC, ACCOUNT, FUNDING, TRADING, REFERRAL, SUITABILITY)

# What the platform publishes for the User CRM (consumed by the usercrm service only): profile sections,
# logins, banking details, allocations and funds, charges, and its answers to the CRM's requests.
PROFILE = "brokerage.profile"
SECURITY = "brokerage.security"
BANKING = "brokerage.banking"
ALLOCATION = "brokerage.allocation"
CHARGES = "brokerage.charges"
REQUEST_RESULTS = "brokerage.request_results"

USER_UPSTREAM_TOPICS = (PROFILE, SECURITY, BANKING, ALLOCATION, CHARGES, REQUEST_RESULTS)
# The brokerage's telephony and SMS systems: staff calls and text messages with customers (consumed by the
# tasks service, which records them as follow-ups), keyed by call / message id.
TELEPHONY = "brokerage.telephony"
SMS = "brokerage.sms"
CAPTURE_TOPICS = (TELEPHONY, SMS)
WEALTH_TOPICS = (WEALTH,)
# The platform's delivery results of campaign outreach messages (answers to CRM_CAMPAIGNS_REQUESTS, consumed by
# the campaigns service), keyed by customer id.
OUTREACH_RESULTS = "brokerage.outreach_results"
OUTREACH_TOPICS = (OUTREACH_RESULTS,)
PLATFORM_TOPICS = UPSTREAM_TOPICS + USER_UPSTREAM_TOPICS + CAPTURE_TOPICS + WEALTH_TOPICS + OUTREACH_TOPICS

# CRM topics: each service publishes its events on its own topic, keyed by customer id
# (or by manager / case / ticket id for events about those).
CRM_CUSTOMER = "crm.customer.events"
CRM_ASSIGNMENT = "crm.assignment.events"
CRM_TASKS = "crm.tasks.events"
CRM_KYC = "crm.kyc.events"
CRM_SUMMARY = "crm.summary.events"
CRM_USERCRM = "crm.usercrm.events"
CRM_CAMPAIGNS = "crm.campaigns.events"
# Access control (staff, roles, the organisation tree, role assignments), keyed by role / node / staff id;
# every service's access directory (`shared.runtime.access_directory`) reads it.
CRM_ACCESS = "crm.access.events"
# Command topic: the User CRM's requests to the platform (messages, block, password, info changes, money,
# allocations), keyed by customer id; the platform answers on REQUEST_RESULTS.
CRM_USERCRM_REQUESTS = "crm.usercrm.requests"
# Command topic: campaign outreach messages (SMS, e-mail, in-app) to the platform, keyed by customer id; the
# platform answers with delivery results on OUTREACH_RESULTS.
CRM_CAMPAIGNS_REQUESTS = "crm.campaigns.requests"
# Audit records of every service's API (shared.runtime.audit), keyed by service; the audit service keeps them.
CRM_AUDIT = "crm.audit.records"
# The audit chain's head, published now and then by the audit service (`crm.audit.chain_anchored`): a copy of
# it outside the audit database, against which a rewritten chain no longer verifies.
CRM_AUDIT_ANCHORS = "crm.audit.anchors"

CRM_TOPICS = (CRM_CUSTOMER, CRM_ASSIGNMENT, CRM_TASKS, CRM_KYC, CRM_SUMMARY, CRM_USERCRM, CRM_USERCRM_REQUESTS,
              CRM_CAMPAIGNS, CRM_CAMPAIGNS_REQUESTS, CRM_ACCESS, CRM_AUDIT, CRM_AUDIT_ANCHORS)


def dead_letter_topic(service: str) -> str:
    """Dead-letter topic of one service's consumers: `crm.<service>.dlq`."""
    return f"crm.{service}.dlq"


SERVICES = ("customer", "assignment", "tasks", "summary", "kyc", "usercrm", "campaigns", "access", "audit")
DEAD_LETTER_TOPICS = tuple(dead_letter_topic(s) for s in SERVICES)
ALL_TOPICS = PLATFORM_TOPICS + CRM_TOPICS + DEAD_LETTER_TOPICS

# Retention per topic (ms; -1 keeps forever): the one policy the KafkaTopic manifests (deploy/k8s/base/kafka,
# checked by tests/unit/test_k8s_manifests.py) and the local topic creation (shared.runtime.kafka.ensure_topics)
# follow. See docs/retention.md.
# - The platform's topics keep 30 days: enough to re-read a month after a consumer bug, and no personal data
#   kept for ever in a log nobody can erase per person. A read model that must outlive that (the User CRM's
#   statement and login log over the whole history) is rebuilt from its service's own store, never from them.
# - CRM topics are kept forever: they are small, and consumer-fed read models (summary) are rebuilt by
#   replaying them from offset 0.
# - Dead letters keep 90 days, longer than their sources, so a poison record can be redriven after its source
#   expired it.
DAY_MS = 86_400_000
FOREVER = -1
PLATFORM_RETENTION_MS = 30 * DAY_MS
DEAD_LETTER_RETENTION_MS = 90 * DAY_MS


def retention_ms(name: str) -> int | None:
    """The retention of one of our topics (None for a name that is not one)."""
    if name in DEAD_LETTER_TOPICS:
        return DEAD_LETTER_RETENTION_MS
    if name in CRM_TOPICS:
        return FOREVER
    if name in PLATFORM_TOPICS:
        return PLATFORM_RETENTION_MS
    return None


# Partitions of a topic that needs a fixed number (others: the cluster's / ensure_topics' default). The audit
# records have one: the audit store's hash chain follows the topic's order, which a replay then gives again.
PARTITIONS = {CRM_AUDIT: 1, CRM_AUDIT_ANCHORS: 1}


def partitions(name: str, default: int) -> int:
    """How many partitions one of our topics is created with."""
    return PARTITIONS.get(name, default)
