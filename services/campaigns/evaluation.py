"""Evaluation: a campaign's indicators, computed from the facts the service consumes (`projections/facts.py`)
into `cp_indicator`, on demand (`POST /campaigns/{id}/indicators/refresh`) and by the scheduler at least daily
(`Evaluator.run_due`, in the leader's scheduler tick).

The attribution window of a started campaign runs from its start for `attribution_window_days`. For its
targets: targeted; converted per stage (account opened, funded, first trade: the first time the customer
reached the stage falls in the window) and converted at all; net deposits (deposits − withdrawals in the
window); incremental assets (total assets at the window's end, or now, minus at its start: each account's
latest snapshot at or before the bound). The same figures by the target's manager, team and segment (the
customer's lifecycle stage when the campaign started, from the milestones before it).

Control group: with a hold-out (`control_pct`), the customers of the audience held out at the start (fixed then,
`Campaign.ControlFrozen`, whatever they have done since): comparable with the targets by construction. Without
one, the untargeted customers matching the campaign's audience filter now, within its creator's data scope (none
for an audience of listed ids: nobody comparable is defined) — customers the filter has let in since the start,
and it has let out those who moved on (a stage filter loses the control's converts), so that comparison is
indicative only: its `kind` says which. Lift = the targets' per-customer
figure minus the control's. The input-output ratio is the incremental assets attributable to the campaign (the
targets' minus what the control's per-customer figure predicts for as many customers, or the targets' own
without a control) per unit of the cost entered (`PUT /campaigns/{id}/cost`).

Currencies are never converted. The amounts (net deposits, incremental assets, lift, attributable assets) are
those in the brokerage's reporting currency (`BROKERAGE_CURRENCY`, `figures.currency`); what moved in other
currencies is listed per currency beside them (`other_currencies`, per group and for the control) and never
added in. The input-output ratio needs the cost in the reporting currency (else null).

Contacted and reached come from per-target execution tracking: `tracking` is the seam (None: not tracked yet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import upsert

from .domain.campaign import CLOSED, RUNNING
from .projections import queries as q
from .projections.facts import MILESTONES
from .projections.tables import asset, campaign, cost, customer, funds, holdout, indicator, milestone, target

log = get_logger("campaigns.evaluation")
KINDS = tuple(MILESTONES)  # account_opened, funded, first_trade
DIMENSIONS = ("manager", "team", "segment")
NO_KEY = "(none)"
ZERO = Decimal(0)
# a campaign's per-target execution figures (contacted, reached, …), None while nobody tracks them
Tracking = Callable[[Session, str], Mapping[str, int] | None]


def no_tracking(session: Session, campaign_id: str) -> Mapping[str, int] | None:
    return None


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def window(row: Mapping[str, Any]) -> tuple[datetime, datetime]:
    start = _utc(row["started_at"])
    return start, start + timedelta(days=int(row["plan"]["attribution_window_days"]))


def _at_bound(population: Select[Any], bound: datetime) -> tuple[Any, Any]:
    """Each account's latest snapshot at or before `bound` of the customers of `population`: (from, on)."""
    latest = (select(asset.c.customer_id, asset.c.account_id, func.max(asset.c.as_of).label("as_of"))
              .where(asset.c.as_of <= bound, asset.c.customer_id.in_(population))
              .group_by(asset.c.customer_id, asset.c.account_id).subquery())
    return latest, and_(latest.c.customer_id == asset.c.customer_id, latest.c.account_id == asset.c.account_id,
                        latest.c.as_of == asset.c.as_of)


Amounts = dict[str, Decimal]  # currency -> amount (never converted, never added across currencies)
MONEY = ("net_deposits", "incremental_assets")


def _latest_assets(session: Session, population: Select[Any], bound: datetime) -> dict[str, Amounts]:
    """Each customer's total assets at `bound` per currency: the sum of each account's latest snapshot at or
    before it (an account valued in another currency adds to that currency's total)."""
    latest, on = _at_bound(population, bound)
    out: dict[str, Amounts] = defaultdict(dict)
    for c, ccy, v in session.execute(select(asset.c.customer_id, asset.c.currency, func.sum(asset.c.total_assets))
                                     .join(latest, on).group_by(asset.c.customer_id, asset.c.currency)):
        out[c][ccy] = Decimal(v)
    return out


def _sum_assets(session: Session, population: Select[Any], bound: datetime) -> Amounts:
    latest, on = _at_bound(population, bound)
    return {ccy: Decimal(v) for ccy, v in session.execute(
        select(asset.c.currency, func.sum(asset.c.total_assets)).join(latest, on).group_by(asset.c.currency))}


def _delta(end: Amounts, start: Amounts) -> Amounts:
    return {ccy: end.get(ccy, ZERO) - start.get(ccy, ZERO) for ccy in end.keys() | start.keys()}


def _by_currency() -> defaultdict[str, dict[str, Decimal]]:
    """currency -> {net_deposits, incremental_assets}, zero until added to."""
    return defaultdict(lambda: dict.fromkeys(MONEY, ZERO))


def _blank() -> dict[str, Any]:
    return {"targeted": 0, **{k: 0 for k in KINDS}, "converted": 0, "money": _by_currency()}


def in_currency(figures: dict[str, Any], currency: str) -> dict[str, Any]:
    """A group's figures with its amounts split: `net_deposits` and `incremental_assets` in `currency`, and
    `other_currencies` {currency: {net_deposits, incremental_assets}} (as text) for the others that moved."""
    money = figures.pop("money", None) or {}
    own = money.get(currency) or dict.fromkeys(MONEY, ZERO)
    figures.update({k: own[k] for k in MONEY})
    figures["other_currencies"] = {
        ccy: {k: _plain(v[k]) for k in MONEY} for ccy, v in sorted(money.items())
        if ccy != currency and any(v[k] for k in MONEY)}
    return figures


def _plain(value: Decimal) -> str:
    """An amount as text without padding zeros or exponent: 5000.00000000 → 5000, 0E-8 → 0."""
    return format(value.quantize(Decimal("0.00000001")).normalize(), "f")


def segment_of(before: Iterable[str]) -> str:
    """The lifecycle stage a target was in when the campaign started, from the milestones reached before."""
    reached = set(before)
    for kind, stage in reversed(MILESTONES.items()):
        if kind in reached:
            return str(stage.value)
    return "not_opened"


def target_figures(session: Session, campaign_id: str, start: datetime, end: datetime) -> dict[tuple[str, str],
                                                                                                dict[str, Any]]:
    """The targets' figures, whole ("campaign", "") and by manager, team and segment."""
    population = select(target.c.customer_id).where(target.c.campaign_id == campaign_id)
    in_window: dict[str, set[str]] = defaultdict(set)
    before: dict[str, set[str]] = defaultdict(set)
    for c, kind, at in session.execute(select(milestone.c.customer_id, milestone.c.kind, milestone.c.at)
                                       .where(milestone.c.customer_id.in_(population), milestone.c.at <= end)):
        (in_window if _utc(at) >= start else before)[c].add(kind)
    net: dict[str, Amounts] = defaultdict(dict)
    for c, ccy, v in session.execute(
            select(funds.c.customer_id, funds.c.currency, func.sum(funds.c.amount))
            .where(funds.c.customer_id.in_(population), funds.c.occurred_at >= start, funds.c.occurred_at <= end)
            .group_by(funds.c.customer_id, funds.c.currency)):
        net[c][ccy] = Decimal(v)
    at_start, at_end = _latest_assets(session, population, start), _latest_assets(session, population, end)
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(_blank)
    for c, manager_id, team_id in session.execute(
            select(target.c.customer_id, target.c.manager_id, target.c.team_id)
            .where(target.c.campaign_id == campaign_id)):
        reached = in_window.get(c, set())
        delta = _delta(at_end.get(c, {}), at_start.get(c, {}))
        for key in (("campaign", ""), ("manager", manager_id or NO_KEY), ("team", team_id or NO_KEY),
                    ("segment", segment_of(before.get(c, ())))):
            g = groups[key]
            g["targeted"] += 1
            for kind in reached:
                g[kind] += 1
            g["converted"] += bool(reached)
            for ccy, v in net.get(c, {}).items():
                g["money"][ccy]["net_deposits"] += v
            for ccy, v in delta.items():
                g["money"][ccy]["incremental_assets"] += v
    groups[("campaign", "")]  # noqa: B018 - a campaign without targets still has its row
    return groups


def control_figures(session: Session, campaign_id: str, plan: Mapping[str, Any], scope: q.DataScope,
                    start: datetime, end: datetime, currency: str) -> dict[str, Any] | None:
    """The hold-out frozen at the start (`control_pct`), else the untargeted customers matching the audience
    filter now, within the creator's scope (None for a list without a hold-out)."""
    audience = plan["audience"]
    if plan.get("control_pct"):
        kind = "holdout"
        population = select(holdout.c.customer_id).where(holdout.c.campaign_id == campaign_id)
    elif audience.get("customer_ids") or audience.get("list_id"):
        return None
    else:
        kind = "untargeted_audience"
        population = q.audience_select(audience, [scope], customer.c.customer_id).where(
            customer.c.customer_id.not_in(select(target.c.customer_id).where(target.c.campaign_id == campaign_id)))
    size = int(session.scalar(select(func.count()).select_from(population.subquery())) or 0)
    hit = and_(milestone.c.customer_id.in_(population), milestone.c.at >= start, milestone.c.at <= end)
    per_kind = dict(session.execute(select(milestone.c.kind, func.count()).where(hit).group_by(milestone.c.kind))
                    .tuples().all())
    converted = session.scalar(select(func.count(func.distinct(milestone.c.customer_id))).where(hit)) or 0
    money = _by_currency()
    for ccy, v in session.execute(select(funds.c.currency, func.sum(funds.c.amount)).where(
            funds.c.customer_id.in_(population), funds.c.occurred_at >= start, funds.c.occurred_at <= end)
            .group_by(funds.c.currency)):
        money[ccy]["net_deposits"] = Decimal(v or 0)
    for ccy, v in _delta(_sum_assets(session, population, end), _sum_assets(session, population, start)).items():
        money[ccy]["incremental_assets"] = v
    return in_currency({"kind": kind, "size": size, **{k: int(per_kind.get(k, 0)) for k in KINDS},
                        "converted": int(converted), "money": money}, currency)


def _per_customer(figures: Mapping[str, Any], n: int) -> dict[str, Decimal]:
    d = Decimal(n or 1)
    return {"conversion_rate": Decimal(figures["converted"]) / d, "net_deposits": figures["net_deposits"] / d,
            "incremental_assets": figures["incremental_assets"] / d}


def _q(value: Decimal, places: str = "0.0001") -> str:
    return str(value.quantize(Decimal(places)))


def summary(whole: Mapping[str, Any], control: Mapping[str, Any] | None, tracked: Mapping[str, int] | None,
            spent: Mapping[str, Any] | None, currency: str) -> dict[str, Any]:
    """The campaign-level figures beyond the counts: control group, lift, tracking, cost and ratio (JSON); the
    amounts in `currency` (the figures' `net_deposits` and `incremental_assets` are)."""
    out: dict[str, Any] = {"currency": currency, "control": None, "lift": None,
                           "tracking": dict(tracked) if tracked is not None else None,
                           "cost": None, "input_output_ratio": None, "cost_per_conversion": None}
    attributable = whole["incremental_assets"]
    if control is not None:
        mine, theirs = _per_customer(whole, whole["targeted"]), _per_customer(control, control["size"])
        out["control"] = {**control, "net_deposits": _q(control["net_deposits"], "0.00000001"),
                          "incremental_assets": _q(control["incremental_assets"], "0.00000001")}
        out["lift"] = {k: _q(mine[k] - theirs[k]) for k in mine} if control["size"] else None
        if control["size"]:
            attributable = whole["incremental_assets"] - theirs["incremental_assets"] * whole["targeted"]
    out["attributable_assets"] = _q(attributable)
    if spent is not None:
        amount = Decimal(spent["amount"])
        out["cost"] = {"amount": _q(amount, "0.01"), "currency": spent["currency"], "note": spent.get("note")}
        if amount > 0:
            # assets per unit of cost: only in one currency (nothing is converted)
            out["input_output_ratio"] = _q(attributable / amount) if spent["currency"] == currency else None
            out["cost_per_conversion"] = _q(amount / whole["converted"], "0.01") if whole["converted"] else None
    return out


class Evaluator:
    """Computes and stores indicators (`refresh`); `run_due` refreshes the campaigns whose window is open (or
    closed since the last computation) once per `interval_s`."""

    def __init__(self, sessions: sessionmaker[Session], scope_of: Callable[[str], Mapping[str, Any]], *,
                 tracking: Tracking = no_tracking, interval_s: float = 86_400.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), currency: str = "USD"):
        self.sessions, self.scope_of, self.tracking = sessions, scope_of, tracking
        self.interval_s, self.clock, self.currency = interval_s, clock, currency

    def refresh(self, campaign_id: str, now: datetime | None = None) -> bool:
        """Recompute one campaign's indicators; False if it never started (nothing to evaluate)."""
        now = now or self.clock()
        with self.sessions() as s:
            row = q.campaign_row(s, campaign_id)
        if row is None or row["started_at"] is None:
            return False
        scope = q.DataScope.of(self.scope_of(campaign_id))
        start, end = window(row)
        bound = min(end, now)
        with self.sessions.begin() as s:
            groups = {key: in_currency(g, self.currency)
                      for key, g in target_figures(s, campaign_id, start, bound).items()}
            control = control_figures(s, campaign_id, row["plan"], scope, start, bound, self.currency)
            spent = s.execute(select(cost).where(cost.c.campaign_id == campaign_id)).mappings().first()
            extra = {"window_start": start.isoformat(), "window_end": end.isoformat(),
                     **summary(groups[("campaign", "")], control, self.tracking(s, campaign_id), spent,
                               self.currency)}
            s.execute(delete(indicator).where(indicator.c.campaign_id == campaign_id))
            rows = []
            for (d, k), g in sorted(groups.items()):
                others = g.pop("other_currencies")
                figures = {**extra, "other_currencies": others} if d == "campaign" else (
                    {"other_currencies": others} if others else {})
                rows.append({"campaign_id": campaign_id, "dimension": d, "key": k, **g, "figures": figures,
                             "computed_at": now})
            upsert(s, indicator, rows, ["campaign_id", "dimension", "key"])
        log.info("campaign_indicators_computed", campaign_id=campaign_id, targeted=groups[("campaign", "")]["targeted"])
        return True

    def due(self, session: Session, now: datetime) -> list[str]:
        """Started campaigns whose indicators are older than the interval, while their window may still move."""
        last = (select(indicator.c.campaign_id, indicator.c.computed_at)
                .where(indicator.c.dimension == "campaign").subquery())
        rows = session.execute(
            select(campaign.c.campaign_id, campaign.c.started_at, campaign.c.plan, last.c.computed_at)
            .outerjoin(last, last.c.campaign_id == campaign.c.campaign_id)
            .where(campaign.c.status.in_((RUNNING, CLOSED)), campaign.c.started_at.is_not(None))
            .order_by(campaign.c.campaign_id))
        stale = now - timedelta(seconds=self.interval_s)
        out = []
        for cid, started_at, plan, computed_at in rows:
            _, end = window({"started_at": started_at, "plan": plan})
            if computed_at is None or (_utc(computed_at) <= stale and _utc(computed_at) <= end):
                out.append(cid)
        return out

    def run_due(self, now: datetime | None = None) -> int:
        now = now or self.clock()
        with self.sessions() as s:
            due = self.due(s, now)
        done = 0
        for cid in due:
            try:
                done += self.refresh(cid, now)
            except Exception as exc:  # noqa: BLE001 - one campaign's failure never stops the others
                log.warning("campaign_indicators_failed", campaign_id=cid, error=type(exc).__name__)
        return done
