"""Demo traffic: plays the brokerage platform, publishing realistic upstream events.

Customers register (channels, countries, phones, languages, referral codes), verify their identity,
submit account-opening applications with KYC documents, get accounts opened or rejected, deposit,
withdraw, trade, receive asset snapshots and refer friends — each at its own pace, so every lifecycle
stage is populated and keeps moving. The wealth calendar's facts come with the valuations: the positions
held, IPO windows and subscriptions, dividends and splits on the listed symbols, maturing notes.

    python -m devtools.demo --rate 5 --customers 300      # 5 events/s until 300 customers exist
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.events import Payload, registry, topics
from shared.events import upstream as up
from shared.events import upstream_capture as cap
from shared.events import upstream_wealth as wl
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.settings import KafkaSettings

from .demo_usercrm import UserTraffic, answer_requests, fund_catalogue

log = get_logger("demo")

# (residence country, dialing code, language, weight)
MARKETS = [
    ("HK", "+852", "zh-HK", 30), ("SG", "+65", "en", 15), ("MY", "+60", "ms", 10), ("CN", "+86", "zh", 12),
    ("AU", "+61", "en", 8), ("GB", "+44", "en", 6), ("US", "+1", "en", 6), ("TW", "+886", "zh-TW", 8),
    ("JP", "+81", "ja", 5),
]
CHANNELS = [(up.Channel.organic, 35), (up.Channel.referral, 20), (up.Channel.manager_qr, 10),
            (up.Channel.external_channel, 15), (up.Channel.campaign, 15), (up.Channel.institution, 5)]
FIRST = ["Wing", "Mei", "Jia", "Arun", "Siti", "Oliver", "Chloe", "Hiro", "Yuki", "Ming", "Priya", "Lucas",
         "Ahmad", "Grace", "Kai", "Nora"]
LAST = ["Chan", "Wong", "Lee", "Tan", "Lim", "Ng", "Smith", "Sato", "Kumar", "Abdullah", "Lau", "Cheung"]
SYMBOLS = [("0700", "HK", "HKD"), ("9988", "HK", "HKD"), ("AAPL", "US", "USD"), ("NVDA", "US", "USD"),
           ("D05", "SG", "SGD"), ("TSLA", "US", "USD"), ("2800", "HK", "HKD")]


def pick(rng: random.Random, weighted):
    return rng.choices([w[:-1] if len(w) > 2 else w[0] for w in weighted], weights=[w[-1] for w in weighted])[0]


@dataclass
class Sim:
    customer_id: str
    stage: str = "registered"
    account_id: str | None = None
    application_id: str | None = None
    currency: str = "HKD"
    cash: Decimal = Decimal(0)
    positions: dict[str, Decimal] = field(default_factory=dict)
    attempts: int = 0
    goal: str = "trading"  # how far this customer will go: not everyone converts
    residence: str = "HK"
    id_country: str | None = None
    name: str | None = None  # kept for the duplicates the platform publishes now and then (`Platform.duplicate`)
    id_type: up.IdType | None = None
    id_number: str | None = None
    phone: str | None = None  # as registered: the number the staff's calls and SMS name (captures)


# the seeded account managers (devtools/seed.py) whose calls and SMS the demo's telephony and SMS systems capture
DEMO_STAFF = ["M-HK-1", "M-HK-2", "M-SG-1", "M-MY-1"]
HISTORY_DAYS = 120  # past end-of-day snapshots per account in `make run` (the ADA trend chart, 90-day ADA)
GOALS = [("registered", 22), ("verified", 10), ("applied", 10), ("opened", 10), ("funded", 15), ("trading", 33)]
ORDER = ["registered", "verified", "applied", "opened", "funded", "trading"]


def birth_date(customer_id: str) -> date:
    """A date of birth (1950–2004) from the customer id: no draw from the platform's generator, so a seeded
    workload stays the sequence it was."""
    h = int(hashlib.sha256(customer_id.encode()).hexdigest()[:12], 16)
    return date(1950 + h % 55, 1 + (h // 55) % 12, 1 + (h // 660) % 28)


class Platform:
    """Generates the next upstream event for a random customer, with plausible conversion rates."""

    def __init__(self, seed: int = 7, manager_codes: list[str] | None = None, history_days: int = 0,
                 duplicate_every: int = 0, staff: list[str] | None = None, risk: bool = False,
                 wealth: bool = False):
        """`history_days`: with a customer's first asset snapshot, also publish the end-of-day snapshots of
        that many past days (what a platform's T+1 history would hold), so the daily asset series and ADA
        have something to show from the start (`make run`; the fault suite's workload leaves it at 0)."""
        self.rng = random.Random(seed)
        self.history_days = history_days
        self.with_history: set[str] = set()
        self.customers: list[Sim] = []
        self.manager_codes = manager_codes or []
        self.counter = 0
        self.user = UserTraffic(self.rng)  # logins, profile sections, banking, charges, allocations
        # every `duplicate_every` steps (0: never), a registration of a person the brokerage already has (the
        # match review queue in `make run`); its own generator, so a seeded workload stays the sequence it was
        self.duplicate_every, self.steps = duplicate_every, 0
        self.dup_rng = random.Random(seed + 1)
        self.staff = staff or []  # with staff ids: their calls and SMS with customers (`capture`)
        self.risk = risk  # risk assessments with the applications (`risk_assessment`)
        # the wealth calendar's facts (`wealth_events`): its own generator, like the duplicates
        self.wealth, self.wealth_rng, self.wealth_day = wealth, random.Random(seed + 2), None

    def now(self) -> datetime:
        return datetime.now(UTC)

    def register(self) -> Payload:
        rng = self.rng
        self.counter += 1
        cid = f"C{uuid.uuid4().hex[:10].upper()}"
        country, code, lang = pick(rng, MARKETS)
        channel = pick(rng, CHANNELS)
        referral = None
        if channel == up.Channel.referral and self.customers:
            referral = f"REF-{rng.choice(self.customers).customer_id}"
        elif channel == up.Channel.manager_qr and self.manager_codes:
            referral = rng.choice(self.manager_codes)
        sim = Sim(cid, goal=pick(rng, GOALS), residence=country, currency={"HK": "HKD", "SG": "SGD", "US": "USD", "AU": "AUD"}.get(country, "USD"))
        self.customers.append(sim)
        has_residence = rng.random() < 0.7
        sim.name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        number = str(rng.randint(10_000_000, 99_999_999))  # (the draws in the order they always had)
        sim.phone = f"{code} {number}"
        return up.CustomerRegistered(
            customer_id=cid, registered_at=self.now(), channel=channel, referral_code=referral,
            campaign="double-11" if channel == up.Channel.campaign else None,
            name=sim.name,
            phone_dialing_code=code, phone_number=number,
            email=f"user{self.counter}@example.com",
            residence_country=country if has_residence else None,
            registration_ip_country=country if rng.random() < 0.8 else rng.choice(MARKETS)[0],
            language=lang,
        )

    def advance(self, s: Sim) -> list[Payload]:
        rng, now = self.rng, self.now()
        if s.stage in ORDER and ORDER.index(s.stage) >= ORDER.index(s.goal) and s.stage not in ("funded", "trading"):
            return []
        if s.stage == "funded" and s.goal == "funded" and rng.random() < 0.7:
            return []
        if s.stage == "registered":
            roll = rng.random()
            if roll < 0.08:
                return [up.ProfileUpdated(customer_id=s.customer_id, updated_at=now,
                                          residence_country=rng.choice(MARKETS)[0], language="en")]
            if roll < 0.3:
                return []
            s.stage = "verified"
            s.id_country = rng.choice(MARKETS)[0] if rng.random() < 0.15 else s.residence
            s.id_type = rng.choice(list(up.IdType)[:3])
            s.id_number = f"X{rng.randint(1, 10**7)}"
            return [up.IdentityVerified(customer_id=s.customer_id, verified_at=now, id_type=s.id_type,
                                        id_issuing_country=s.id_country, id_number=s.id_number,
                                        date_of_birth=birth_date(s.customer_id))]
        if s.stage == "verified":
            s.stage, s.attempts = "applied", s.attempts + 1
            s.application_id = s.application_id or f"APP{uuid.uuid4().hex[:8].upper()}"
            docs = [up.SubmittedDocument(document_id=f"D{uuid.uuid4().hex[:8]}", kind=k,
                                         storage_ref=f"s3://kyc-docs/{s.customer_id}/{k}.jpg", uploaded_at=now)
                    for k in (up.DocumentKind.id_front, up.DocumentKind.id_back, up.DocumentKind.proof_of_address,
                              up.DocumentKind.selfie, up.DocumentKind.financial_questionnaire)]
            wealthy = rng.random() < 0.1
            complete = rng.random() < 0.9  # some applicants leave questionnaire fields empty
            return [up.AccountApplicationSubmitted(
                customer_id=s.customer_id, application_id=s.application_id, submitted_at=now, documents=docs,
                id_issuing_country=s.id_country,
                declarations=up.Declarations(
                    is_pep=rng.random() < 0.03,
                    net_worth=Decimal(rng.choice([50_000, 200_000, 800_000]) * (20 if wealthy else 1)),
                    net_worth_currency=s.currency, investment_experience_years=rng.randint(0, 20),
                    annual_income=Decimal(rng.choice([240_000, 480_000, 1_200_000])) if complete else None,
                    employment_status=rng.choice(["employed", "self_employed", "retired"]) if complete else None)),
                *self.risk_assessment(s, now)]
        if s.stage == "applied":
            if rng.random() < 0.12:
                s.stage = "verified" if s.attempts < 2 else "rejected"
                return [up.AccountRejected(customer_id=s.customer_id, application_id=s.application_id or "",
                                           rejected_at=now, reason="proof of address unclear")]
            s.stage, s.account_id = "opened", f"A{uuid.uuid4().hex[:8].upper()}"
            return [up.AccountOpened(customer_id=s.customer_id, application_id=s.application_id,
                                     account_id=s.account_id, opened_at=now)]
        if s.stage in ("opened", "funded", "trading"):
            assert s.account_id
            roll = rng.random()
            if s.stage == "opened" or roll < 0.3:
                amount = Decimal(rng.choice([1_000, 5_000, 20_000, 100_000, 500_000]))
                s.cash += amount
                s.stage = "funded" if s.stage == "opened" else s.stage
                return [up.DepositCompleted(customer_id=s.customer_id, account_id=s.account_id,
                                            transaction_id=f"TX{uuid.uuid4().hex[:12]}", amount=amount,
                                            currency=s.currency, completed_at=now, method="bank_transfer")]
            if roll < 0.75 and s.cash > 0:
                symbol, market, ccy = rng.choice(SYMBOLS)
                qty = Decimal(rng.choice([10, 100, 200, 500]))
                price = Decimal(rng.randint(50, 900)) + Decimal("0.25")
                s.positions[symbol] = s.positions.get(symbol, Decimal(0)) + qty
                s.stage = "trading"
                return [up.TradeExecuted(customer_id=s.customer_id, account_id=s.account_id,
                                         trade_id=f"TR{uuid.uuid4().hex[:12]}", symbol=symbol, market=market,
                                         side=up.Side.buy, quantity=qty, price=price, currency=ccy, executed_at=now)]
            if roll < 0.85 and s.cash > 1000:
                amount = (s.cash * Decimal(rng.choice(["0.1", "0.5", "0.9"]))).quantize(Decimal("0.01"))
                s.cash -= amount
                return [up.WithdrawalCompleted(customer_id=s.customer_id, account_id=s.account_id,
                                               transaction_id=f"TX{uuid.uuid4().hex[:12]}", amount=amount,
                                               currency=s.currency, completed_at=now)]
            positions = [up.Position(symbol=k, market="HK", quantity=v, market_value=v * 100, currency=s.currency)
                         for k, v in s.positions.items()]
            total = s.cash + sum((p.market_value for p in positions), Decimal(0))
            out: list[Payload] = self.history(s, total, now)
            out.append(up.AssetSnapshotTaken(customer_id=s.customer_id, account_id=s.account_id, as_of=now,
                                             currency=s.currency, total_assets=total, cash=s.cash,
                                             positions=positions))
            out += self.wealth_events(s, now)
            if rng.random() < 0.2 and len(self.customers) > 2:
                referee = rng.choice(self.customers)
                if referee.customer_id != s.customer_id:
                    out.append(up.ReferralLinked(customer_id=referee.customer_id, referrer_customer_id=s.customer_id,
                                                 referral_code=f"REF-{s.customer_id}", linked_at=now))
            return out
        return []

    def history(self, s: Sim, total: Decimal, now: datetime) -> list[Payload]:
        """The past days' end-of-day snapshots (08:00 UTC: after the close in Hong Kong and Singapore) of an
        account seen for the first time, a random walk ending near today's value; weekends carried forward."""
        if not self.history_days or s.customer_id in self.with_history or s.account_id is None:
            return []
        self.with_history.add(s.customer_id)
        value, out = max(total, Decimal(1000)) * Decimal(self.rng.randint(60, 140)) / 100, []
        for back in range(self.history_days, 0, -1):
            day = (now - timedelta(days=back)).date()
            if day.weekday() >= 5:
                continue
            value = (value * Decimal(self.rng.randint(970, 1035)) / 1000).quantize(Decimal("0.01"))
            out.append(up.AssetSnapshotTaken(customer_id=s.customer_id, account_id=s.account_id,
                                             as_of=datetime(day.year, day.month, day.day, 8, tzinfo=UTC),
                                             currency=s.currency, total_assets=value, cash=value))
        return out

    def wealth_calendar(self, now: datetime) -> list[Payload]:
        """Once a day: the brokerage-wide facts of the coming weeks — two IPO windows (one open now, one opening
        in a few days) and a dividend or split on each listed symbol, dated from today."""
        today = now.date()
        if not self.wealth or self.wealth_day == today:
            return []
        self.wealth_day, rng = today, self.wealth_rng
        day = lambda n: today + timedelta(days=n)  # noqa: E731
        out: list[Payload] = [
            wl.IpoWindowAnnounced(ipo_id=f"IPO-{today:%Y%m%d}-A", security="6618.HK", name="JD Health Demo",
                                  open_date=day(-1), close_date=day(3), listing_date=day(8), announced_at=now),
            wl.IpoWindowAnnounced(ipo_id=f"IPO-{today:%Y%m%d}-B", security="2259.HK", name="Zijin Gold Demo",
                                  open_date=day(4), close_date=day(9), listing_date=day(14), announced_at=now)]
        for symbol, market, ccy in SYMBOLS:
            ex = day(rng.randint(1, 20))
            split = rng.random() < 0.15
            out.append(wl.CorporateActionAnnounced(
                action_id=f"CA-{symbol}-{today:%Y%m%d}", security=f"{symbol}.{market}",
                kind=wl.CorporateActionKind.split if split else wl.CorporateActionKind.dividend,
                ex_date=ex, record_date=ex + timedelta(days=1), pay_date=ex + timedelta(days=15),
                amount_per_share=None if split else Decimal(rng.randint(5, 300)) / 100,
                currency=None if split else ccy, ratio="2:1" if split else None, announced_at=now))
        return out

    def wealth_events(self, s: Sim, now: datetime) -> list[Payload]:
        """With an account's valuation: the positions it holds (`wealth`), now and then an IPO subscription or
        a maturing note, and the day's brokerage-wide calendar the first time it is needed."""
        if not self.wealth or s.account_id is None:
            return []
        rng = self.wealth_rng
        market = {k: m for k, m, _ in SYMBOLS}
        out = self.wealth_calendar(now)
        out.append(wl.PositionsReported(customer_id=s.customer_id, account_id=s.account_id, as_of=now, positions=[
            wl.Holding(security=f"{k}.{market.get(k, 'HK')}", quantity=v) for k, v in sorted(s.positions.items())]))
        roll = rng.random()
        if roll < 0.15:
            out.append(wl.IpoSubscribed(customer_id=s.customer_id, ipo_id=f"IPO-{now.date():%Y%m%d}-A",
                                        account_id=s.account_id, quantity=Decimal(rng.choice([500, 1000, 2000])),
                                        updated_at=now))
        elif roll < 0.25:
            out.append(wl.MaturityScheduled(
                customer_id=s.customer_id, maturity_id=f"MAT-{s.account_id}-{now.date():%Y%m%d}",
                account_id=s.account_id, product=rng.choice(["HKGB 2.5% note", "USD fixed deposit 3M", "SGS bond"]),
                maturity_date=now.date() + timedelta(days=rng.randint(2, 30)),
                amount=Decimal(rng.choice([10_000, 50_000, 100_000])), currency=s.currency, scheduled_at=now))
        return out

    def duplicate(self) -> list[Payload]:
        """A new registration of a verified customer: half the time with the same ID document (an exact
        match: the customer service merges it), else the same name and date of birth with another document
        (a probable match: the review queue)."""
        verified = [s for s in self.customers if s.id_number]
        if not verified:
            return []
        rng, now = self.dup_rng, self.now()
        s = rng.choice(verified)
        cid = f"D{uuid.uuid4().hex[:10].upper()}"
        exact = rng.random() < 0.5
        return [up.CustomerRegistered(customer_id=cid, registered_at=now, channel=up.Channel.organic, name=s.name),
                up.IdentityVerified(customer_id=cid, verified_at=now, id_type=s.id_type or up.IdType.passport,
                                    id_issuing_country=s.id_country,
                                    id_number=s.id_number if exact else f"Y{rng.randint(1, 10**7)}",
                                    date_of_birth=birth_date(s.customer_id))]

    def risk_assessment(self, s: Sim, now: datetime) -> list[Payload]:
        """The suitability questionnaire's result with the application (`risk`): the rating from the customer id
        (no draw from the platform's generator, like the date of birth)."""
        if not self.risk:
            return []
        h = int(hashlib.sha256(f"risk:{s.customer_id}".encode()).hexdigest()[:8], 16)
        rating = list(up.RiskRating)[min(h % 7, 4)]  # balanced and above most often
        return [up.RiskAssessed(customer_id=s.customer_id, assessment_id=f"RA-{s.application_id}-{s.attempts}",
                                risk_rating=rating, score=h % 101, assessed_at=now,
                                valid_until=now + timedelta(days=730))]

    def capture(self, s: Sim) -> list[Payload]:
        """A staff member's call with (or SMS to) the customer, as the telephony / SMS system captures it: by
        phone number mostly, by customer id sometimes, now and then a number no customer has (unmatched)."""
        rng, now = self.rng, self.now()
        roll = rng.random()
        who: dict[str, str | None] = ({"customer_id": s.customer_id} if roll < 0.15
                                      else {"customer_phone": f"+44 20 7946 {rng.randint(1000, 9999)}"} if roll < 0.2
                                      else {"customer_phone": s.phone})
        staff = rng.choice(self.staff)
        if rng.random() < 0.7:
            answered = rng.random() < 0.75
            return [cap.CallCaptured(call_id=f"CALL-{uuid.uuid4().hex[:12]}", staff_id=staff,
                                     direction="outbound" if rng.random() < 0.8 else "inbound",
                                     started_at=now - timedelta(minutes=5),
                                     duration_s=rng.randint(20, 900) if answered else 0,
                                     outcome="answered" if answered else rng.choice(["no_answer", "busy", "voicemail"]),
                                     recording_ref=f"rec/{uuid.uuid4().hex[:8]}" if answered else None, **who)]
        return [cap.SmsCaptured(message_id=f"SMS-{uuid.uuid4().hex[:12]}", staff_id=staff, sent_at=now,
                                status="delivered" if rng.random() < 0.9 else "failed",
                                delivered_at=now if rng.random() < 0.9 else None, **who)]

    def next_events(self, max_customers: int) -> list[Payload]:
        self.steps += 1
        if self.duplicate_every and self.steps % self.duplicate_every == 0:
            dup = self.duplicate()
            if dup:
                return dup
        if len(self.customers) < max_customers and (not self.customers or self.rng.random() < 0.35):
            return [self.register()]
        s = self.rng.choice(self.customers)
        if self.staff and s.phone and self.rng.random() < 0.05:
            return self.capture(s)
        if self.rng.random() < 0.25:
            return self.user.events_for(s, self.now())
        return self.advance(s)


async def run(settings: KafkaSettings, *, rate: float, customers: int, total: int | None, seed: int,
              manager_codes: list[str] | None = None, duplicate_every: int = 40) -> int:
    await ensure_topics(settings, [settings.topic(t) for t in (*topics.PLATFORM_TOPICS, topics.CRM_USERCRM_REQUESTS,
                                                                  topics.CRM_CAMPAIGNS_REQUESTS)])
    producer = EventProducer(settings, client_id="demo-platform")
    await producer.start()
    platform = Platform(seed=seed, manager_codes=manager_codes, history_days=HISTORY_DAYS,
                        duplicate_every=duplicate_every, staff=DEMO_STAFF, risk=True, wealth=True)
    sent = 0
    answers = asyncio.create_task(answer_requests(settings, producer, seed=seed))  # the CRM's requests
    try:
        for payload in fund_catalogue(platform.now(), platform.rng):
            await producer.publish(registry.envelope(payload, producer="demo-platform"),
                                   topic=settings.topic(registry.latest(payload.EVENT_TYPE).topic))
        while total is None or sent < total:
            for payload in platform.next_events(customers):
                env = registry.envelope(payload, producer="demo-platform", correlation_id=str(uuid.uuid4()))
                await producer.publish(env, topic=settings.topic(registry.latest(env.event_type).topic))
                sent += 1
                if sent % 500 == 0:
                    log.info("demo_progress", events=sent, customers=len(platform.customers))
            await asyncio.sleep(1.0 / rate)  # pacing of the simulated platform, not a test wait
    finally:
        answers.cancel()
        await asyncio.gather(answers, return_exceptions=True)
        await producer.stop()
    return sent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=5.0, help="events per second")
    p.add_argument("--customers", type=int, default=500)
    p.add_argument("--total", type=int, default=None, help="stop after this many events")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--manager-codes", default="", help="comma-separated manager referral (QR) codes")
    args = p.parse_args()
    configure_logging("INFO", service="demo")
    codes = [c for c in args.manager_codes.split(",") if c]
    asyncio.run(run(KafkaSettings(), rate=args.rate, customers=args.customers, total=args.total, seed=args.seed,
                    manager_codes=codes))


if __name__ == "__main__":
    main()
