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
from .tables import campaign, customer, customer_tag, manager, owner, target

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

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "user_id": self.user_id, "teams": list(self.teams), "team": self.team}


def _audience_select(audience: Mapping[str, Any], scopes: Sequence[DataScope], *columns: Any) -> Select[Any]:
    """The customers of `audience` within every one of `scopes`."""
    q = select(*columns).select_from(customer.outerjoin(owner, owner.c.customer_id == customer.c.customer_id))
    ids = audience.get("customer_ids") or []
    if ids:
        q = q.where(customer.c.customer_id.in_(sorted(set(ids))))
    else:
        for key, column in ATTRIBUTE_FILTERS:
            if values := audience.get(key):
                q = q.where(column.in_([str(v) for v in values]))
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
