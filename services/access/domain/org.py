"""The organisation tree (company → region → branch → team), one aggregate: small, changed rarely, and its
rules (one company, each node one level below its parent, no cycles) are about the whole tree.
Team node ids are the team ids the other services know (`T-HK`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.runtime.access import KINDS

from .errors import AlreadyExists, InvalidInput, NotFound, StillInUse

ORG_ID = uuid.UUID("8a3f0c6e-1d2b-4e7a-9f5c-2b6d8e4a1c07")


def parent_kind(kind: str) -> str | None:
    i = KINDS.index(kind)
    return KINDS[i - 1] if i else None


class OrgTree(Aggregate):
    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return ORG_ID

    @event("Started")
    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}  # node id -> {kind, parent_id, name}

    def node(self, node_id: str) -> dict[str, Any]:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise NotFound(f"organisation node {node_id!r} not found", field="node_id") from None

    def has(self, node_id: str | None) -> bool:
        return node_id is not None and node_id in self.nodes

    def _check_parent(self, kind: str, parent_id: str | None) -> None:
        expected = parent_kind(kind)
        if expected is None:
            if parent_id is not None:
                raise InvalidInput("the company is the root: it has no parent", field="parent_id")
            if any(n["kind"] == "company" for n in self.nodes.values()):
                raise InvalidInput("the tree has a company already", field="kind")
            return
        if parent_id is None or parent_id not in self.nodes:
            raise InvalidInput(f"a {kind} needs an existing {expected} as parent", field="parent_id")
        if self.nodes[parent_id]["kind"] != expected:
            raise InvalidInput(f"a {kind}'s parent must be a {expected}", field="parent_id")

    def add(self, *, node_id: str, kind: str, parent_id: str | None, name: str, at: datetime, by: str) -> None:
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}", field="kind")
        if node_id in self.nodes:
            raise AlreadyExists(f"organisation node {node_id!r} exists already", field="node_id")
        self._check_parent(kind, parent_id)
        self._added(node_id=node_id, kind=kind, parent_id=parent_id, name=name, at=at, by=by)

    @event("NodeAdded")
    def _added(self, *, node_id: str, kind: str, parent_id: str | None, name: str, at: datetime, by: str) -> None:
        self.nodes = {**self.nodes, node_id: {"kind": kind, "parent_id": parent_id, "name": name}}

    def change(self, *, node_id: str, name: str | None, parent_id: str | None, at: datetime, by: str) -> bool:
        """Rename and/or move a node (to a parent of the level above: levels make cycles impossible)."""
        node = self.node(node_id)
        new_name = name or node["name"]
        new_parent = parent_id if parent_id is not None else node["parent_id"]
        if new_parent != node["parent_id"]:
            self._check_parent(node["kind"], new_parent)
        if (new_name, new_parent) == (node["name"], node["parent_id"]):
            return False
        self._changed(node_id=node_id, name=new_name, parent_id=new_parent, at=at, by=by)
        return True

    @event("NodeChanged")
    def _changed(self, *, node_id: str, name: str, parent_id: str | None, at: datetime, by: str) -> None:
        self.nodes = {**self.nodes, node_id: {**self.nodes[node_id], "name": name, "parent_id": parent_id}}

    def remove(self, *, node_id: str, at: datetime, by: str) -> None:
        """A leaf only; the application checks first that no member or role points at it."""
        self.node(node_id)
        if any(n["parent_id"] == node_id for n in self.nodes.values()):
            raise StillInUse(f"organisation node {node_id!r} has children", field="node_id")
        self._removed(node_id=node_id, at=at, by=by)

    @event("NodeRemoved")
    def _removed(self, *, node_id: str, at: datetime, by: str) -> None:
        self.nodes = {k: v for k, v in self.nodes.items() if k != node_id}
