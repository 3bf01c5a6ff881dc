"""The demo platform produces every upstream event type, each valid against its contract, in lifecycle order."""

import random
import uuid
from collections import Counter
from datetime import UTC, datetime

from devtools.demo import DEMO_STAFF, Platform
from devtools.demo_usercrm import answer, deliver, fund_catalogue
from shared.events import encode, registry, topics
from shared.events import upstream as up
from shared.events.crm_campaigns import OutreachRequest
from shared.events.crm_usercrm import UserRequest


def test_demo_traffic_covers_every_upstream_event_and_is_valid() -> None:
    # as `make run` plays it: calls, SMS, risk ratings, the wealth calendar's facts
    platform = Platform(seed=3, staff=DEMO_STAFF, risk=True, wealth=True)
    seen: Counter[str] = Counter()
    order: dict[str, list[str]] = {}
    for _ in range(4000):
        for payload in platform.next_events(400):
            env = registry.envelope(payload, producer="demo")
            decoded = registry.decode(encode(env))  # strict validation of every generated event
            seen[decoded.event_type] += 1
            if payload.KEY == "customer_id":  # (calls / SMS by call / SMS id, IPO windows and corporate actions not)
                order.setdefault(env.partition_key, []).append(decoded.event_type)
    seen.update(p.EVENT_TYPE for p in fund_catalogue(datetime.now(UTC), random.Random(1)))
    answers = _answer_types()
    assert answers["request.completed"] > 0 and answers["request.failed"] > 0  # the platform fails some
    seen.update(answers)
    upstream = {c.event_type for c in registry.contracts() if c.topic in topics.PLATFORM_TOPICS}
    assert upstream - {"account.closed"} <= set(seen)
    for types in order.values():
        assert types[0] == "registration.customer_registered"
        if "account.opened" in types and "funding.deposit_completed" in types:
            assert types.index("account.opened") < types.index("funding.deposit_completed")
    stages = Counter(s.stage for s in platform.customers)
    assert stages["registered"] > 0 and stages["applied"] > 0 and stages["trading"] > 0


def test_make_run_publishes_days_of_asset_snapshots_and_dates_of_birth() -> None:
    platform = Platform(seed=3, history_days=30)
    snaps: dict[str, list] = {}
    births = []
    for _ in range(3000):
        for payload in platform.next_events(300):
            registry.decode(encode(registry.envelope(payload, producer="demo")))
            if isinstance(payload, up.AssetSnapshotTaken):
                snaps.setdefault(payload.account_id, []).append(payload.as_of)
            elif isinstance(payload, up.IdentityVerified):
                births.append(payload.date_of_birth)
    assert births and all(b is not None and 1950 <= b.year <= 2004 for b in births)
    assert snaps
    today = datetime.now(UTC).date()
    for times in snaps.values():
        past = [t for t in times if t.date() < today]
        days = {t.date() for t in past}
        # one end-of-day snapshot per past weekday of the 30, published once per account, before today's
        assert len(past) == len(days) and 20 <= len(days) <= 22, times
        assert all(t.date().weekday() < 5 and (today - t.date()).days <= 30 for t in past)
        assert times.index(max(past)) < len(past)
    assert Platform(seed=3).history_days == 0  # the fault suite's workload: no history


def _answer_types() -> Counter[str]:
    """The demo platform's answers to the CRM's requests, each valid against its contract."""
    now, rng, seen = datetime.now(UTC), random.Random(5), Counter()
    money = {"account_id": "A1", "amount": "100", "currency": "USD"}
    requests = [("send_message", {"message": {"channel": "sms", "template_id": "t", "body": "hi"}}),
                ("add_account", {"new_account": {"account_type": "cash", "currency": "USD"}}),
                ("deposit", {"money": money}), ("withdraw", {"money": money}),
                ("start_allocation", {"money": {**money, "fund_id": "F-ASIA"}}),
                ("allocation_deposit", {"money": {**money, "allocation_id": "AL1"}}),
                ("stop_allocation", {"stop_allocation": {"account_id": "A1", "allocation_id": "AL1"}}),
                ("change_info", {"change": {"general": {"time_zone": "Asia/Hong_Kong"}}}),
                ("change_info", {"change": {"social": {"links": {"x": "https://x.com/ann"}}}}),
                ("reset_password", {}), ("block", {"reason": "suspicious"}),
                ("change_owner", {"owner": {"owner_id": "M2"}, "reason": "M1 on leave"}),
                ("change_access_level", {"access": {"access_level": "support"}, "reason": "desk"})]
    for action, params in requests * 20:
        request = UserRequest(request_id=str(uuid.uuid4()), customer_id="C1", action=action, requested_by="M1",
                              requested_at=now, **params).model_dump(mode="json")
        for payload in answer(request, rng, now):
            seen[registry.decode(encode(registry.envelope(payload, producer="demo"))).event_type] += 1
    statuses: Counter[str] = Counter()
    for channel in ("sms", "email", "in_app") * 20:  # the campaigns' outreach messages
        request = OutreachRequest(request_id=str(uuid.uuid4()), campaign_id="CP1", customer_id="C1", channel=channel,
                                  template_id="t", body="hi", requested_at=now).model_dump(mode="json")
        for payload in deliver(request, rng, now):
            decoded = registry.decode(encode(registry.envelope(payload, producer="demo"))).envelope.payload
            assert decoded["request_id"] == request["request_id"] and decoded["channel"] == channel
            seen[payload.EVENT_TYPE] += 1
            statuses[decoded["status"]] += 1
    assert statuses["sent"] == 60 and statuses["delivered"] > 0 and statuses["failed"] > 0 and statuses["opened"] > 0
    return seen


def test_the_demo_platform_answers_the_section_a_change_request_gives() -> None:
    """A change request carries every section, all but one null (as the CRM sends it): the answer updates
    the one given (the platform once read the first key, null, and its answering task died)."""
    now = datetime.now(UTC)
    for change, event_type in [({"social": {"links": {"x": "https://x.com/ann"}}}, "profile.social_links_updated"),
                               ({"financial_experience": {"experience_years": 4}},
                                "profile.financial_experience_updated")]:
        request = UserRequest(request_id=str(uuid.uuid4()), customer_id="C1", action="change_info", requested_by="M1",
                              requested_at=now, change=change).model_dump(mode="json")
        assert request["change"]["general"] is None
        for seed in range(40):  # about one request in eight fails: find one that the platform applies
            types = [p.EVENT_TYPE for p in answer(request, random.Random(seed), now)]
            if event_type in types:
                break
        else:
            raise AssertionError(f"no answer to {change} carried {event_type}")


def test_the_platform_now_and_then_registers_a_person_the_brokerage_already_has() -> None:
    platform = Platform(seed=5, duplicate_every=20)
    exact = probable = 0
    for _ in range(3000):
        events = platform.next_events(300)
        if events and events[0].customer_id.startswith("D"):
            reg, kyc = events
            original = next(s for s in platform.customers if s.name == reg.name and s.id_number)
            if kyc.id_number == original.id_number:
                exact += 1
            else:
                probable += 1  # same name (registration) and date of birth, another document
    assert exact > 0 and probable > 0
