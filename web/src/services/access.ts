// Access service: the permission catalogue, roles, the organisation tree, staff members, their role
// assignments, exit, and a member's effective access.
import { accessApi } from "../api/clients";
import type { components } from "../api/access";

type S = components["schemas"];
export type Permission = S["PermissionOut"];
export type Role = S["RoleOut"];
export type RoleDefinition = S["RoleDefinition"];
export type RoleBody = S["RoleBody"];
export type OrgNode = S["NodeOut"];
export type NodeBody = S["NodeBody"];
export type NodeKind = OrgNode["kind"];
export type Staff = S["StaffOut"];
export type Assignment = S["AssignmentOut"];
export type AssignBody = S["AssignBody"];
export type Effective = S["EffectiveOut"];
export type DataScope = RoleDefinition["scope"];
export type StaffStatus = Staff["status"];

export const SCOPES: DataScope[] = ["own", "team", "node", "all"];
export const KINDS: NodeKind[] = ["company", "region", "branch", "team"];

export async function listPermissions(signal?: AbortSignal): Promise<Permission[]> {
  const { data } = await accessApi.GET("/access/permissions", { signal });
  return (data as S["PermissionList"]).items;
}

/** Every page of a keyset-paged list, followed to its end (the access lists are small: roles, nodes). */
async function allPages<T>(page: (cursor: string | null) => Promise<{ items: T[]; next_cursor: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.next_cursor;
  } while (cursor);
  return out;
}

/** Every role (retired ones too when asked). */
export async function listRoles(retired: boolean, signal?: AbortSignal): Promise<Role[]> {
  return allPages(async (cursor) => {
    const { data } = await accessApi.GET("/access/roles", { params: { query: { retired, limit: 100, ...(cursor ? { cursor } : {}) } }, signal });
    return data as S["RolePage"];
  });
}

export async function defineRole(body: RoleBody): Promise<Role> {
  const { data } = await accessApi.POST("/access/roles", { body });
  return data as Role;
}

export async function changeRole(roleId: string, body: RoleDefinition): Promise<Role> {
  const { data } = await accessApi.PUT("/access/roles/{role_id}", { params: { path: { role_id: roleId } }, body });
  return data as Role;
}

export async function retireRole(roleId: string): Promise<Role> {
  const { data } = await accessApi.DELETE("/access/roles/{role_id}", { params: { path: { role_id: roleId } } });
  return data as Role;
}

/** The whole organisation tree as nodes. */
export async function listNodes(signal?: AbortSignal): Promise<OrgNode[]> {
  return allPages(async (cursor) => {
    const { data } = await accessApi.GET("/access/org/nodes", { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } }, signal });
    return data as S["NodePage"];
  });
}

export async function addNode(body: NodeBody): Promise<OrgNode> {
  const { data } = await accessApi.POST("/access/org/nodes", { body });
  return data as OrgNode;
}

export async function moveNode(nodeId: string, parentId: string): Promise<OrgNode> {
  const { data } = await accessApi.PATCH("/access/org/nodes/{node_id}", { params: { path: { node_id: nodeId } }, body: { parent_id: parentId } });
  return data as OrgNode;
}

export async function removeNode(nodeId: string): Promise<void> {
  await accessApi.DELETE("/access/org/nodes/{node_id}", { params: { path: { node_id: nodeId } } });
}

export async function staffPage(q: { node_id?: string | null; status?: StaffStatus | null; cursor?: string | null }, signal?: AbortSignal): Promise<S["StaffPage"]> {
  const query = { limit: 50, ...(q.node_id ? { node_id: q.node_id } : {}), ...(q.status ? { status: q.status } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) };
  const { data } = await accessApi.GET("/access/staff", { params: { query }, signal });
  return data as S["StaffPage"];
}

const staffPath = (id: string) => ({ params: { path: { staff_id: id } } });

export async function getStaff(id: string, signal?: AbortSignal): Promise<Staff> {
  const { data } = await accessApi.GET("/access/staff/{staff_id}", { ...staffPath(id), signal });
  return data as Staff;
}

export async function effectiveAccess(id: string, signal?: AbortSignal): Promise<Effective> {
  const { data } = await accessApi.GET("/access/staff/{staff_id}/effective", { ...staffPath(id), signal });
  return data as Effective;
}

export async function assignRole(id: string, body: AssignBody): Promise<Staff> {
  const { data } = await accessApi.POST("/access/staff/{staff_id}/roles", { ...staffPath(id), body });
  return data as Staff;
}

export async function revokeRole(id: string, assignmentId: string): Promise<Staff> {
  const { data } = await accessApi.DELETE("/access/staff/{staff_id}/roles/{assignment_id}", { params: { path: { staff_id: id, assignment_id: assignmentId } } });
  return data as Staff;
}

export async function exitStaff(id: string): Promise<Staff> {
  const { data } = await accessApi.POST("/access/staff/{staff_id}/exit", staffPath(id));
  return data as Staff;
}
