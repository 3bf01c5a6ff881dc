"""Reads of the read model: audiences (within a data scope), the managers a team distributes to, the campaign
list, the campaigns the scheduler must start or close, and a campaign's targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ..domain.campaign import APPROVED, RUNNING
from ..domain.distribution import Candidate, ManagerLoad
from .tables import (
    TARGET_STATUSES,
    campaign,
    customer,
    customer_tag,
    indicator,
    list_member,
    manager,
    outreach,
    owner,
    segment_member,
    target,
    target_log,
    target_status,
)

ATTRIBUTE_FILTERS = (("stages", customer.c.stage), ("user_regions", customer.c.user_region),
                     ("active_regions", customer.c.active_region), ("channels", customer.c.channel),
                     ("languages", customer.c.language), ("team_ids", owner.c.team_id),
                     ("manager_ids", owner.c.manager_id))


@dataclass(frozen=True)
class DataScope:
    """A principal's data scope as the campaign keeps it: `own` (customers followed up by `user_id`), `team`
    (customers of `teams`) or `all`."""

    scope: str
    user_id: str
    teams: tuple[str, ...] = ()
    team: str | None = None  # the principal's own team

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> DataScope:
        return cls(str(stored["scope"]), str(stored["user_id"]), tuple(stored.get("teams", ())), stored.get("team"))

    def holds(self, manager_id: str | None, team_id: str | None) -> bool:
        """Whether a customer followed up by `manager_id` in `team_id` is within the scope (as `_audience_select`)."""
        if self.scope == "own":
            return manager_id == self.user_id
        if self.scope == "team":
            return team_id in self.teams
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "user_id": self.user_id, "teams": list(self.teams), "team": self.team}


def _audience_select(audience: Mapping[str, Any], scopes: Sequence[DataScope], *columns: Any) -> Select[Any]:
    """The customers of `audience` within every one of `scopes`."""
    q = select(*columns).select_from(customer.outerjoin(owner, owner.c.customer_id == customer.c.customer_id))
    ids = audience.get("customer_ids") or []
    if audience.get("list_id"):
        q = q.where(customer.c.customer_id.in_(select(list_member.c.customer_id)
                                               .where(list_member.c.list_id == audience["list_id"])))
    elif ids:
        q = q.where(customer.c.customer_id.in_(sorted(set(ids))))
    else:
        for key, column in ATTRIBUTE_FILTERS:
            if values := audience.get(key):
                q = q.where(column.in_([str(v) for v in values]))
        if sid := audience.get("segment_id"):  # its members now (crm.customer.segment_membership_changed)
            q = q.where(customer.c.customer_id.in_(select(segment_member.c.customer_id).where(
                segment_member.c.segment_id == str(sid), segment_member.c.member.is_(True))))
        if tags := audience.get("tags"):  # any of them
            q = q.where(customer.c.customer_id.in_(
                select(customer_tag.c.customer_id).where(customer_tag.c.tag.in_([str(t) for t in tags]))))
        if audience.get("assigned") is True:
            q = q.where(owner.c.manager_id.is_not(None))
        elif audience.get("assigned") is False:
            q = q.where(owner.c.manager_id.is_(None))
    for scope in scopes:
        if scope.scope == "own":
            q = q.where(owner.c.manager_id == scope.user_id)
        elif scope.scope == "team":
            q = q.where(owner.c.team_id.in_(scope.teams or ("",)))
    return q


audience_select = _audience_select  # the evaluation's control group: the same filter


def audience_size(session: Session, audience: Mapping[str, Any], scope: DataScope) -> int:
    return int(session.scalar(_audience_select(audience, [scope], func.count())) or 0)


def audience_sample(session: Session, audience: Mapping[str, Any], scopes: Sequence[DataScope],
                    limit: int) -> list[dict[str, Any]]:
    q = _audience_select(audience, scopes, customer.c.customer_id, customer.c.stage, customer.c.user_region,
                         customer.c.channel, owner.c.manager_id, owner.c.team_id)
    return [dict(r) for r in session.execute(q.order_by(customer.c.customer_id).limit(limit)).mappings()]


def audience(session: Session, plan_audience: Mapping[str, Any], scope: DataScope) -> list[Candidate]:
    q = _audience_select(plan_audience, [scope], customer.c.customer_id, owner.c.manager_id, owner.c.team_id)
    return [Candidate(c, m, t) for c, m, t in session.execute(q.order_by(customer.c.customer_id))]


def team_managers(session: Session, team_id: str) -> list[ManagerLoad]:
    """The team's active managers with the customers each follows up now."""
    load = (select(owner.c.manager_id, func.count().label("n")).group_by(owner.c.manager_id).subquery())
    q = (select(manager.c.manager_id, func.coalesce(load.c.n, 0))
         .select_from(manager.outerjoin(load, load.c.manager_id == manager.c.manager_id))
         .where(manager.c.team_id == team_id, manager.c.status == "active").order_by(manager.c.manager_id))
    return [ManagerLoad(m, int(n)) for m, n in session.execute(q)]


def visible(scope: DataScope) -> Any:
    """Campaigns a principal sees: all; those created in their teams (team scope) or in their own team (own
    scope: a manager's peers review each other's campaigns); always their own."""
    if scope.scope == "all":
        return campaign.c.campaign_id.is_not(None)
    teams = scope.teams if scope.scope == "team" else ((scope.team,) if scope.team else ())
    return or_(campaign.c.created_by == scope.user_id, campaign.c.creator_team.in_(teams or ("",)))


def campaign_page(session: Session, scope: DataScope, *, status: str | None, limit: int,
                  after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
    """Newest change first, keyset on (updated_at, campaign_id)."""
    q = select(campaign).where(visible(scope))
    if status:
        q = q.where(campaign.c.status == status)
    if after:
        q = q.where(tuple_(campaign.c.updated_at, campaign.c.campaign_id) < tuple_(*after))
    q = q.order_by(campaign.c.updated_at.desc(), campaign.c.campaign_id.desc()).limit(limit)
    return [dict(r) for r in session.execute(q).mappings()]


def campaign_row(session: Session, campaign_id: str) -> dict[str, Any] | None:
    r = session.execute(select(campaign).where(campaign.c.campaign_id == campaign_id)).mappings().first()
    return dict(r) if r else None


def due_to_start(session: Session, now: datetime, limit: int = 100) -> list[str]:
    q = (select(campaign.c.campaign_id).where(campaign.c.status == APPROVED, campaign.c.start_at <= now,
                                              campaign.c.end_at > now)
         .order_by(campaign.c.start_at, campaign.c.campaign_id).limit(limit))
    return list(session.scalars(q))


def due_to_close(session: Session, now: datetime, limit: int = 100) -> list[str]:
    q = (select(campaign.c.campaign_id).where(campaign.c.status.in_((APPROVED, RUNNING)), campaign.c.end_at <= now)
         .order_by(campaign.c.end_at, campaign.c.campaign_id).limit(limit))
    return list(session.scalars(q))


def target_page(session: Session, campaign_id: str, *, limit: int, after: str | None) -> list[dict[str, Any]]:
    q = select(target).where(target.c.campaign_id == campaign_id)
    if after:
        q = q.where(target.c.customer_id > after)
    return [dict(r) for r in session.execute(q.order_by(target.c.customer_id).limit(limit)).mappings()]


FIGURES = ("targeted", "account_opened", "funded", "first_trade", "converted", "net_deposits", "incremental_assets")


def indicators(session: Session, campaign_id: str) -> dict[str, Any] | None:
    """A campaign's last computed indicators: the campaign row's figures and its groups."""
    rows = [dict(r) for r in session.execute(
        select(indicator).where(indicator.c.campaign_id == campaign_id)
        .order_by(indicator.c.dimension, indicator.c.key)).mappings()]
    whole = next((r for r in rows if r["dimension"] == "campaign"), None)
    if whole is None:
        return None
    head = session.execute(select(campaign.c.name, campaign.c.status).where(
        campaign.c.campaign_id == campaign_id)).one()
    return {**{k: whole[k] for k in FIGURES}, "campaign_id": campaign_id, "name": head.name, "status": head.status,
            "computed_at": whole["computed_at"], "figures": whole["figures"],
            "currency": (whole["figures"] or {}).get("currency"),
            "other_currencies": (whole["figures"] or {}).get("other_currencies", {}),
            "groups": [{**{k: r[k] for k in ("dimension", "key", *FIGURES)},
                        "other_currencies": (r["figures"] or {}).get("other_currencies", {})}
                       for r in rows if r is not whole]}


def report(session: Session, scope: DataScope, dimension: str, status: str | None) -> list[dict[str, Any]]:
    """The visible campaigns' indicators summed by `dimension`; an own scope sees its own manager row only,
    a team scope its teams' rows (by manager: every manager's row of a visible campaign)."""
    cond = [visible(scope)]
    if status:
        cond.append(campaign.c.status == status)
    if dimension == "channel":  # a campaign's figures under each of its channels
        rows = session.execute(select(indicator, campaign.c.plan).join(
            campaign, campaign.c.campaign_id == indicator.c.campaign_id)
            .where(indicator.c.dimension == "campaign", *cond)).mappings()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            for channel in r["plan"]["channels"]:
                acc = out.setdefault(channel, {"key": channel, "campaigns": 0, **{k: 0 for k in FIGURES}})
                acc["campaigns"] += 1
                for k in FIGURES:
                    acc[k] += r[k]
        return [out[k] for k in sorted(out)]
    cond.append(indicator.c.dimension == dimension)
    if dimension == "manager" and scope.scope == "own":
        cond.append(indicator.c.key == scope.user_id)
    elif dimension == "team" and scope.scope != "all":
        cond.append(indicator.c.key.in_((scope.teams if scope.scope == "team" else (scope.team,)) or ("",)))
    q = (select(indicator.c.key, func.count(func.distinct(indicator.c.campaign_id)).label("campaigns"),
                *[func.sum(indicator.c[k]).label(k) for k in FIGURES])
         .join(campaign, campaign.c.campaign_id == indicator.c.campaign_id).where(*cond)
         .group_by(indicator.c.key).order_by(indicator.c.key))
    return [dict(r) for r in session.execute(q).mappings()]


# ---------------------------------------------------------------------------------- execution tracking
def outreach_due(session: Session, limit: int = 1000) -> list[str]:
    """Running campaigns with messages to send whose outreach has not reached every target yet."""
    sent = (select(outreach.c.campaign_id, func.count(func.distinct(outreach.c.customer_id)).label("n"))
            .group_by(outreach.c.campaign_id).subquery())
    q = (select(campaign.c.campaign_id, campaign.c.plan)
         .select_from(campaign.outerjoin(sent, sent.c.campaign_id == campaign.c.campaign_id))
         .where(campaign.c.status == RUNNING, func.coalesce(sent.c.n, 0) < campaign.c.audience_size)
         .order_by(campaign.c.campaign_id).limit(limit))
    return [cid for cid, plan in session.execute(q) if (plan or {}).get("messages")]


def targets_after(session: Session, campaign_id: str, after: str | None, limit: int) -> list[str]:
    """The next frozen targets of a campaign by customer id (the outreach's order)."""
    q = select(target.c.customer_id).where(target.c.campaign_id == campaign_id)
    if after is not None:
        q = q.where(target.c.customer_id > after)
    return list(session.scalars(q.order_by(target.c.customer_id).limit(limit)))


def status_counts(session: Session, campaign_id: str) -> dict[str, int]:
    """Targets per execution status, every status present (0 when none)."""
    q = (select(target_status.c.status, func.count()).where(target_status.c.campaign_id == campaign_id)
         .group_by(target_status.c.status))
    found = {s: int(n) for s, n in session.execute(q)}
    return {s: found.get(s, 0) for s in TARGET_STATUSES}


def funnel(session: Session, campaign_id: str) -> dict[str, int] | None:
    """A campaign's execution funnel for its indicators (`Evaluator(tracking=…)`): targets contacted, reached
    (at any time, whatever their status now), interested and declined; None before it started."""
    q = select(func.count(), func.count(target_status.c.contacted_key), func.count(target_status.c.reached_key),
               func.count().filter(target_status.c.response == "interested"),
               func.count().filter(target_status.c.response == "declined")).where(
        target_status.c.campaign_id == campaign_id)
    total, contacted, reached, interested, declined = session.execute(q).one()
    if not total:
        return None
    return {"contacted": int(contacted), "reached": int(reached), "interested": int(interested),
            "declined": int(declined)}


def target_tracking(session: Session, campaign_id: str, customers: Sequence[str]) -> tuple[dict[str, dict[str, Any]],
                                                                                              dict[str, list[dict[str, Any]]]]:
    """The status rows and outreach rows of these targets."""
    if not customers:
        return {}, {}
    statuses = {r["customer_id"]: dict(r) for r in session.execute(select(target_status).where(
        target_status.c.campaign_id == campaign_id, target_status.c.customer_id.in_(list(customers)))).mappings()}
    sends: dict[str, list[dict[str, Any]]] = {}
    for r in session.execute(select(outreach).where(outreach.c.campaign_id == campaign_id,
                                                    outreach.c.customer_id.in_(list(customers)))
                             .order_by(outreach.c.customer_id, outreach.c.channel)).mappings():
        sends.setdefault(r["customer_id"], []).append(dict(r))
    return statuses, sends


def target_log_rows(session: Session, campaign_id: str, *, limit: int | None = None,
                    after: tuple[str, str, str] | None = None) -> list[dict[str, Any]]:
    """The facts about a campaign's targets, oldest first (key order: business time, then id); `after`: those
    past a row's (key, customer_id, action), a keyset page of its primary key."""
    q = select(target_log).where(target_log.c.campaign_id == campaign_id)
    if after is not None:
        q = q.where(tuple_(target_log.c.key, target_log.c.customer_id, target_log.c.action) > tuple_(*after))
    q = q.order_by(target_log.c.key, target_log.c.customer_id, target_log.c.action)
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in session.execute(q).mappings()]
