"""Demo platform, User CRM part: profile sections, logins, bank accounts, charges, allocations and funds for
the simulated customers, and the platform's side of the CRM's requests — it consumes
`crm.usercrm.requests` and answers each (accepted, then completed or, now and then, failed), publishing
the effect of what it completed (a deposit, a new account, an allocation, the changed profile section) — and
of the campaigns' outreach messages (`crm.campaigns.requests`): sent, then delivered (and now and then
opened) or failed."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.events import Payload, registry, topics
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.runtime.kafka import EventProducer
from shared.runtime.logging import get_logger
from shared.runtime.settings import KafkaSettings

log = get_logger("demo.usercrm")

FUNDS = [("F-ASIA", "Asia Growth", "long equity"), ("F-TECH", "Global Tech Leaders", "momentum"),
         ("F-INC", "Steady Income", "dividends")]
SOURCES = list(uu.LoginSource)
QUESTIONS = [("q1", "Years trading shares", "3-5"), ("q2", "Traded derivatives before", "no"),
             ("q3", "Understands margin calls", "yes")]
FAIL_REASONS = {"send_message": "bounced", "withdraw": "insufficient_funds", "deposit": "payment_declined",
                "start_allocation": "insufficient_funds", "allocation_deposit": "insufficient_funds",
                "change_owner": "owner_not_admin", "change_access_level": "access_level_not_allowed"}


def fund_catalogue(now: datetime, rng: random.Random) -> list[Payload]:
    return [uu.FundUpdated(fund_id=fid, name=name, strategy=strategy, manager_name="Whale AM", currency="USD",
                           performance_pct=Decimal(rng.randint(-50, 300)) / 10, as_of=now)
            for fid, name, strategy in FUNDS]


def _id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


class UserTraffic:
    """Generates the User CRM's upstream events for a simulated customer (`devtools.demo.Sim`)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.allocations: dict[str, list[tuple[str, str]]] = {}  # customer -> [(allocation id, account id)]

    def events_for(self, s: Any, now: datetime) -> list[Payload]:
        rng, cid = self.rng, s.customer_id
        roll = rng.random()
        if roll < 0.35:
            return [uu.LoginRecorded(customer_id=cid, login_id=_id("L"), at=now, country=s.residence,
                                     ip=f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                     source=rng.choice(SOURCES), success=rng.random() > 0.05)]
        if roll < 0.55 or s.account_id is None:
            return [self.profile(cid, now)]
        if roll < 0.65:
            return [uu.ChargeApplied(customer_id=cid, account_id=s.account_id, charge_id=_id("CH"),
                                     kind=rng.choice(["commission", "custody_fee", "interest"]),
                                     amount=Decimal(rng.randint(1, 5000)) / 100, currency=s.currency,
                                     charged_at=now)]
        return self.allocation(s, now)

    def profile(self, cid: str, now: datetime) -> Payload:
        rng = self.rng
        pick = rng.randrange(6)
        if pick == 0:
            return uu.GeneralUpdated(customer_id=cid, updated_at=now, general=uu.GeneralInfo(
                address_line=f"{rng.randint(1, 300)} Queen's Road", city="Hong Kong", postal_code="000000",
                time_zone=rng.choice(["Asia/Hong_Kong", "Asia/Singapore", "Europe/London"])))
        if pick == 1:
            return uu.PersonalUpdated(customer_id=cid, updated_at=now, personal=uu.PersonalInfo(
                date_of_birth=f"{rng.randint(1950, 2004)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                citizenship=rng.choice(["HK", "SG", "CN", "GB"]),
                id_numbers=[uu.IdNumber(kind="national_id", number=f"X{rng.randint(10**6, 10**7)}")]))
        if pick == 2:
            return uu.FinancialStatusUpdated(customer_id=cid, updated_at=now, financial_status=uu.FinancialStatus(
                employment_status=rng.choice(["employed", "self_employed", "retired"]), occupation="engineer",
                income_source="salary", annual_income=Decimal(rng.choice([300_000, 800_000])), currency="HKD",
                tax_residence="HK", tax_id=f"T{rng.randint(10**7, 10**8)}"))
        if pick == 3:
            return uu.FinancialExperienceUpdated(customer_id=cid, updated_at=now, experience=uu.FinancialExperience(
                experience_years=rng.randint(0, 20),
                answers=[uu.QuestionAnswer(question_id=q, question=text, answer=a) for q, text, a in QUESTIONS]))
        if pick == 4:
            return uu.SocialLinksUpdated(customer_id=cid, updated_at=now, social=uu.SocialLinks(
                links={"linkedin": f"https://www.linkedin.com/in/{cid.lower()}"}))
        if rng.random() < 0.15:
            return uu.BankAccountRemoved(customer_id=cid, bank_account_id=f"{cid}-B1", removed_at=now)
        return uu.BankAccountSaved(customer_id=cid, saved_at=now, bank_account=uu.BankAccountInfo(
            bank_account_id=f"{cid}-B{rng.randint(1, 2)}", kind=rng.choice(list(uu.BankAccountKind)),
            provider=rng.choice(["HSBC", "DBS", "Skrill"]), holder_name="Account Holder",
            account_number=str(rng.randint(10**11, 10**12)), currency="HKD"))

    def allocation(self, s: Any, now: datetime) -> list[Payload]:
        rng, cid = self.rng, s.customer_id
        active = self.allocations.setdefault(cid, [])
        if not active or rng.random() < 0.3:
            fid, name, _ = rng.choice(FUNDS)
            alloc = _id("AL")
            active.append((alloc, s.account_id))
            return [uu.AllocationStarted(customer_id=cid, allocation_id=alloc, account_id=s.account_id, fund_id=fid,
                                         fund_name=name, amount=Decimal(rng.choice([1000, 5000, 20000])),
                                         currency="USD", started_at=now)]
        alloc, account = rng.choice(active)
        roll = rng.random()
        if roll < 0.5:
            return [uu.AllocationValued(customer_id=cid, allocation_id=alloc, value=Decimal(rng.randint(500, 30000)),
                                        currency="USD", performance_pct=Decimal(rng.randint(-200, 400)) / 10,
                                        as_of=now)]
        if roll < 0.75:
            return [uu.AllocationDeposited(customer_id=cid, allocation_id=alloc, account_id=account,
                                           transaction_id=_id("TX"), amount=Decimal(1000), currency="USD",
                                           deposited_at=now)]
        active.remove((alloc, account))
        return [uu.AllocationStopped(customer_id=cid, allocation_id=alloc, account_id=account,
                                     final_value=Decimal(rng.randint(500, 30000)), currency="USD",
                                     performance_pct=Decimal(rng.randint(-200, 400)) / 10, stopped_at=now)]


def answer(request: dict[str, Any], rng: random.Random, now: datetime | None = None) -> list[Payload]:
    """The platform's answers to one `crm.usercrm.user_request` payload: accepted, then completed (with its
    effect) or failed (about one in eight)."""
    now = now or datetime.now(UTC)
    rid, cid, action = request["request_id"], request["customer_id"], request["action"]
    out: list[Payload] = [uu.RequestAccepted(request_id=rid, customer_id=cid, accepted_at=now)]
    if rng.random() < 0.125:
        return out + [uu.RequestFailed(request_id=rid, customer_id=cid, failed_at=now,
                                       reason_code=FAIL_REASONS.get(action, "rejected_by_platform"),
                                       reason="demo platform refused")]
    result, effects = _effects(request, now)
    return out + [uu.RequestCompleted(request_id=rid, customer_id=cid, completed_at=now, result=result)] + effects


def deliver(request: dict[str, Any], rng: random.Random, now: datetime | None = None) -> list[Payload]:
    """The platform's delivery results of one `crm.campaigns.outreach_request` payload: sent, then delivered
    (opened now and then, e-mail and in-app only) or failed (about one in ten)."""
    now = now or datetime.now(UTC)
    ids = {k: request[k] for k in ("request_id", "customer_id", "campaign_id", "channel")}
    out: list[Payload] = [uu.OutreachResult(**ids, status=uu.OutreachStatus.sent, at=now)]
    if rng.random() < 0.1:
        reason = "unreachable" if request["channel"] == "sms" else "bounced"
        return out + [uu.OutreachResult(**ids, status=uu.OutreachStatus.failed, at=now, reason_code=reason)]
    out.append(uu.OutreachResult(**ids, status=uu.OutreachStatus.delivered, at=now))
    if request["channel"] != "sms" and rng.random() < 0.4:
        out.append(uu.OutreachResult(**ids, status=uu.OutreachStatus.opened, at=now))
    return out


ANSWERS = {"crm.usercrm.user_request": answer, "crm.campaigns.outreach_request": deliver}


def _effects(r: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[Payload]]:
    cid, action, rid = r["customer_id"], r["action"], r["request_id"]
    money = r.get("money") or {}
    if action == "send_message":
        return {"delivery": "delivered"}, []
    if action == "add_account":
        account = _id("A")
        return {"account_id": account}, [up.AccountOpened(customer_id=cid, account_id=account, opened_at=now,
                                                          account_type=r["new_account"]["account_type"])]
    if action in ("deposit", "withdraw"):
        tx = _id("TX")
        cls = up.DepositCompleted if action == "deposit" else up.WithdrawalCompleted
        return {"transaction_id": tx}, [cls(customer_id=cid, account_id=money["account_id"], transaction_id=tx,
                                            amount=money["amount"], currency=money["currency"], completed_at=now,
                                            method="crm_request")]
    if action == "start_allocation":
        alloc = _id("AL")
        name = next((n for f, n, _ in FUNDS if f == money["fund_id"]), money["fund_id"])
        return {"allocation_id": alloc}, [uu.AllocationStarted(
            customer_id=cid, allocation_id=alloc, account_id=money["account_id"], fund_id=money["fund_id"],
            fund_name=name, amount=money["amount"], currency=money["currency"], started_at=now, request_id=rid)]
    if action == "allocation_deposit":
        tx = _id("TX")
        return {"transaction_id": tx}, [uu.AllocationDeposited(
            customer_id=cid, allocation_id=money["allocation_id"], account_id=money["account_id"], transaction_id=tx,
            amount=money["amount"], currency=money["currency"], deposited_at=now, request_id=rid)]
    if action == "stop_allocation":
        stop = r["stop_allocation"]
        return {}, [uu.AllocationStopped(customer_id=cid, allocation_id=stop["allocation_id"],
                                         account_id=stop["account_id"], final_value="1000", currency="USD",
                                         performance_pct="0", stopped_at=now, request_id=rid)]
    if action == "change_info":
        return {}, [_section_update(cid, r["change"], now, rid)]
    return {}, []


def _section_update(cid: str, change: dict[str, Any], now: datetime, rid: str) -> Payload:
    # the request carries every section, all but one null: answer the one given
    section, data = next((k, v) for k, v in change.items() if v is not None)
    if section == "bank_account":
        return uu.BankAccountSaved(customer_id=cid, saved_at=now, bank_account=data, request_id=rid)
    cls, attr = {"general": (uu.GeneralUpdated, "general"), "personal": (uu.PersonalUpdated, "personal"),
                 "financial_status": (uu.FinancialStatusUpdated, "financial_status"),
                 "financial_experience": (uu.FinancialExperienceUpdated, "experience"),
                 "social": (uu.SocialLinksUpdated, "social")}[section]
    return cls(customer_id=cid, updated_at=now, request_id=rid, **{attr: data})


async def answer_requests(settings: KafkaSettings, producer: EventProducer, seed: int = 11) -> None:
    """Consume the CRM's requests (the User CRM's, the campaigns' outreach) and answer them, until cancelled."""
    rng = random.Random(seed)
    consumer = AIOKafkaConsumer(settings.topic(topics.CRM_USERCRM_REQUESTS),
                                settings.topic(topics.CRM_CAMPAIGNS_REQUESTS), **settings.client_kwargs(),
                                group_id=settings.topic_prefix + "demo-platform-requests",
                                auto_offset_reset="earliest", enable_auto_commit=True)
    await consumer.start()
    try:
        async for record in consumer:
            try:
                decoded = registry.decode(record.value)
                request, respond = decoded.envelope.payload, ANSWERS[decoded.event_type]
            except (ValueError, KeyError):
                log.warning("demo_request_undecodable", offset=record.offset)
                continue
            await asyncio.sleep(rng.uniform(0.2, 2.0))  # the platform takes a moment, as a real one would
            try:
                payloads = respond(request, rng)
            except (ValueError, KeyError, StopIteration) as exc:  # one bad request must not stop the platform
                log.warning("demo_request_unanswerable", action=request.get("action"), error=type(exc).__name__)
                continue
            for payload in payloads:
                env = registry.envelope(payload, producer="demo-platform", causation_id=request["request_id"])
                await producer.publish(env, topic=settings.topic(registry.latest(env.event_type).topic))
            log.info("demo_request_answered", action=request.get("action") or request.get("channel"))
    finally:
        await consumer.stop()

