// The access screens' logic, kept out of the components (Vitest covers it): permissions grouped by area,
// the organisation tree from its node list, the parent a node may move under, a role's body from the form,
// and a problem+json's field messages placed on the form's fields.
import { ApiError } from "../../api/problem";
import type { AssignBody, DataScope, NodeKind, OrgNode, Permission, RoleDefinition } from "../../services/access";

/** The areas the permission editor groups by: the first word of a permission's name decides. */
export const AREAS = ["customers", "assignment", "tasks", "service", "kyc", "usercrm", "campaigns", "admin"] as const;
export type Area = (typeof AREAS)[number];
const AREA_OF_WORD: Record<string, Area> = {
  Client: "customers", Customer: "customers",
  Support: "assignment", Assignment: "assignment",
  Task: "tasks", Report: "tasks", Changelog: "tasks",
  Ticket: "service", Comment: "service",
  Kyc: "kyc", User: "usercrm", Campaign: "campaigns",
  Audit: "admin", Access: "admin", Operator: "admin",
};

export function areaOf(perm: string): Area {
  const word = /^[A-Z][a-z]*/.exec(perm)?.[0] ?? "";
  return AREA_OF_WORD[word] ?? "admin";
}

/** The catalogue grouped by area (areas in AREAS order, permissions in the service's order), empty areas left out. */
export function groupPermissions(perms: Permission[]): { area: Area; items: Permission[] }[] {
  return AREAS.map((area) => ({ area, items: perms.filter((p) => areaOf(p.name) === area) })).filter((g) => g.items.length > 0);
}

const PARENT_KIND: Record<NodeKind, NodeKind | null> = { company: null, region: "company", branch: "region", team: "branch" };
export function parentKind(kind: NodeKind): NodeKind | null {
  return PARENT_KIND[kind];
}

/** The nodes a node of `kind` may hang under (one level up), other than its current parent. */
export function parentChoices(nodes: OrgNode[], node: Pick<OrgNode, "kind" | "parent_id">): OrgNode[] {
  const kind = parentKind(node.kind);
  return nodes.filter((n) => n.kind === kind && n.node_id !== node.parent_id).sort((a, b) => a.name.localeCompare(b.name));
}

export interface TreeItem {
  key: string;
  node: OrgNode;
  children: TreeItem[];
}

/** The tree (roots first: the company), children by name; a node whose parent is unknown is a root too. */
export function buildTree(nodes: OrgNode[]): TreeItem[] {
  const items = new Map(nodes.map((n) => [n.node_id, { key: n.node_id, node: n, children: [] as TreeItem[] }]));
  const roots: TreeItem[] = [];
  for (const item of items.values()) {
    const parent = item.node.parent_id ? items.get(item.node.parent_id) : undefined;
    (parent ? parent.children : roots).push(item);
  }
  const sort = (xs: TreeItem[]) => {
    xs.sort((a, b) => a.node.name.localeCompare(b.node.name));
    xs.forEach((x) => sort(x.children));
  };
  sort(roots);
  return roots;
}

/** A leaf: nothing hangs under it (only a leaf may be removed; the service also refuses one still in use). */
export function isLeaf(nodes: OrgNode[], nodeId: string): boolean {
  return !nodes.some((n) => n.parent_id === nodeId);
}

export interface RoleValues {
  role_id?: string;
  name: string;
  permissions: string[];
  scope: DataScope;
  node_id?: string | null;
}

/** The role definition the form describes: only a `node` scope names a node. */
export function roleDefinition(v: RoleValues): RoleDefinition {
  return {
    name: v.name.trim(),
    permissions: [...v.permissions],
    scope: v.scope,
    node_id: v.scope === "node" && v.node_id ? v.node_id : null,
  };
}

/** A problem's field messages as antd `setFields` entries for the fields the form has (`permissions.3` →
 * `permissions`); the rest stay in the alert. */
export function formFieldErrors<F extends string>(error: unknown, fields: readonly F[]): { name: F; errors: string[] }[] {
  if (!(error instanceof ApiError)) return [];
  const byField = new Map<F, string[]>();
  for (const [field, message] of Object.entries(error.fieldErrors())) {
    const name = field.split(".")[0] as F;
    if (fields.includes(name)) byField.set(name, [...(byField.get(name) ?? []), message]);
  }
  return [...byField].map(([name, errors]) => ({ name, errors }));
}

export interface AssignValues {
  role_id: string;
  node_id?: string | null;
  /** `datetime-local` inputs: the browser's local time */
  effective_from?: string | null;
  effective_until?: string | null;
}

/** The assignment the form describes: empty times are "now" and "open-ended"; local times sent with their offset. */
export function assignBody(v: AssignValues): AssignBody {
  const instant = (x?: string | null) => (x ? new Date(x).toISOString() : null);
  return { role_id: v.role_id, node_id: v.node_id || null, effective_from: instant(v.effective_from), effective_until: instant(v.effective_until) };
}
