// Assignment service: managers, assignments with their "why", history.
import type { components } from "../api/assignment";
import { assignmentApi } from "../api/clients";
import type { AssignmentHistoryItem, AssignmentSlot, BulkResult, Manager, Page, Stage } from "./models";

export type AssignBody = components["schemas"]["AssignIn"];

export async function listManagers(teamId?: string): Promise<Manager[]> {
  const { data } = await assignmentApi.GET("/managers", {
    params: { query: { status: "active", limit: 500, ...(teamId ? { team_id: teamId } : {}) } },
  });
  return (data as unknown as Page<Manager>).items;
}

export async function assignOne(customerId: string, managerId: string, stage: Stage | null, share: number): Promise<void> {
  await assignmentApi.POST("/assignments", { body: { customer_id: customerId, manager_id: managerId, stage, share } });
}

export async function assignBulk(customerIds: string[], managerId: string, stage: Stage | null, share: number): Promise<BulkResult> {
  const { data } = await assignmentApi.POST("/assignments/bulk", {
    body: { customer_ids: customerIds, manager_id: managerId, stage, share },
  });
  return data as unknown as BulkResult;
}

export async function customerAssignments(customerId: string): Promise<{ in_pool: boolean; slots: AssignmentSlot[] }> {
  const { data } = await assignmentApi.GET("/customers/{customer_id}/assignments", {
    params: { path: { customer_id: customerId } },
  });
  return data as unknown as { in_pool: boolean; slots: AssignmentSlot[] };
}

export async function assignmentHistory(customerId: string): Promise<AssignmentHistoryItem[]> {
  const { data } = await assignmentApi.GET("/customers/{customer_id}/assignment-history", {
    params: { path: { customer_id: customerId }, query: { limit: 200 } },
  });
  return (data as unknown as Page<AssignmentHistoryItem>).items;
}

// --- Account Managers, Teams and Rules ---
export type ManagerBody = components["schemas"]["ManagerIn"];
export type ManagerPatchBody = components["schemas"]["ManagerPatch"];
export type RuleBody = components["schemas"]["RuleIn"];
export interface ManagerRow {
  manager_id: string;
  name: string;
  position: string | null;
  team_id: string | null;
  regions: string[];
  languages: string[];
  capacity: number;
  load: number;
  status: "active" | "absent" | "resigned" | string;
  referral_code: string | null;
  changed_at: string;
  /** places routing may still fill (0 when absent or full) */
  idle?: number;
  /** load / capacity (above 1 when the capacity was lowered under the load; null for a capacity of 0) */
  utilisation?: number | null;
}
/** What a reclaim does with the team's customers (null: the service's default). */
export type ReclaimPolicy = "pool" | "reroute";
export interface Team { team_id: string; name: string; leader_id: string | null; protection_days: number; pool_sla_minutes?: number | null; reclaim_policy?: ReclaimPolicy | null; changed_at: string; members?: { manager_id: string; status: string }[] }
/** A team's load against capacity: managers not resigned; capacity and idle of the active ones. */
export interface TeamCapacity { team_id: string | null; name: string | null; managers: number; active_managers: number; load: number; capacity: number; idle: number; utilisation: number | null }
export interface RuleDefinition {
  position: number; name?: string | null; team_id?: string | null; manager_id?: string | null; strategy: "round_robin" | "least_loaded";
  /** "team_pool": queued in team_id's pool for its lead (rules saved before step-by-step allocation have none) */
  allocation?: "direct" | "team_pool";
  enabled: boolean; regions: string[]; channels: string[]; languages: string[]; referral_codes: string[];
  /** customer-service institution ids (rules saved before the condition existed have none) */
  institutions?: string[];
  /** customer-service saved segment ids: the customer is in any of them at registration */
  segments?: string[];
}
export interface RuleRow { rule_id: string; version: number; position: number; enabled: boolean; definition: RuleDefinition; changed_at: string; changed_by: string | null }
export interface RuleVersion { rule_id: string; version: number; definition: RuleDefinition; changed_at: string; changed_by: string | null }

export async function managersPage(q: { team_id?: string | null; status?: string | null; cursor?: string | null; limit: number }, signal?: AbortSignal): Promise<Page<ManagerRow>> {
  const query = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const { data } = await assignmentApi.GET("/managers", { params: { query: query as never }, signal });
  return data as unknown as Page<ManagerRow>;
}

export async function createManager(body: ManagerBody): Promise<ManagerRow> {
  const { data } = await assignmentApi.POST("/managers", { body });
  return data as unknown as ManagerRow;
}

export async function editManager(id: string, body: ManagerPatchBody): Promise<ManagerRow> {
  const { data } = await assignmentApi.PATCH("/managers/{manager_id}", { params: { path: { manager_id: id } }, body });
  return data as unknown as ManagerRow;
}

export async function resignManager(id: string, handover: "manager" | "pool", to: string | null): Promise<{ pending?: number; moved?: number }> {
  const { data } = await assignmentApi.POST("/managers/{manager_id}/resign", {
    params: { path: { manager_id: id } }, body: { handover, to_manager_id: handover === "manager" ? to : null },
  });
  return data as unknown as { pending?: number; moved?: number };
}

export async function listTeams(signal?: AbortSignal): Promise<Team[]> {
  const { data } = await assignmentApi.GET("/teams", { signal });
  return (data as unknown as { items: Team[] }).items;
}

export type TeamPatchBody = components["schemas"]["TeamPatch"];
export type TeamBody = components["schemas"]["TeamIn"];

/** A new team (SupportManageFull). */
export async function createTeam(body: TeamBody): Promise<Team> {
  const { data } = await assignmentApi.POST("/teams", { body });
  return data as unknown as Team;
}

/** A team's name, leader, protection period, reclaim policy and pool SLA (SupportManageFull); omitted fields stay. */
export async function editTeam(id: string, body: TeamPatchBody): Promise<Team> {
  const { data } = await assignmentApi.PATCH("/teams/{team_id}", { params: { path: { team_id: id } }, body });
  return data as unknown as Team;
}

export async function teamsCapacity(signal?: AbortSignal): Promise<TeamCapacity[]> {
  const { data } = await assignmentApi.GET("/teams/capacity", { signal });
  return (data as unknown as { items: TeamCapacity[] }).items;
}

export async function getTeam(id: string, signal?: AbortSignal): Promise<Team> {
  const { data } = await assignmentApi.GET("/teams/{team_id}", { params: { path: { team_id: id } }, signal });
  return data as unknown as Team;
}

export async function listRules(signal?: AbortSignal): Promise<RuleRow[]> {
  const { data } = await assignmentApi.GET("/rules", { signal });
  return (data as unknown as { items: RuleRow[] }).items;
}

export async function ruleVersions(id: string, signal?: AbortSignal): Promise<RuleVersion[]> {
  const { data } = await assignmentApi.GET("/rules/{rule_id}/versions", { params: { path: { rule_id: id } }, signal });
  return (data as unknown as { items: RuleVersion[] }).items;
}

export async function saveRule(id: string, body: RuleBody): Promise<RuleRow> {
  const { data } = await assignmentApi.PUT("/rules/{rule_id}", { params: { path: { rule_id: id } }, body });
  return data as unknown as RuleRow;
}

// --- Team pools (step-by-step allocation): a rule with allocation "team_pool" queues customers for the lead ---
export interface PoolEntry {
  customer_id: string; team_id: string; rule_id: string | null; rule_version: number | null;
  queued_at: string; sla_due_at: string; breached_at: string | null; waiting_s: number; breached: boolean;
}
export interface TeamPool {
  team_id: string; pool_sla_minutes: number; summary: { waiting: number; breached: number; oldest_wait_s: number };
  items: PoolEntry[]; next_cursor: string | null;
}

export async function teamPool(teamId: string, cursor: string | null, signal?: AbortSignal): Promise<TeamPool> {
  const { data } = await assignmentApi.GET("/teams/{team_id}/pool", {
    params: { path: { team_id: teamId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } }, signal,
  });
  return data as unknown as TeamPool;
}

export async function distributePool(teamId: string, customerIds: string[], managerId: string): Promise<BulkResult> {
  const { data } = await assignmentApi.POST("/teams/{team_id}/pool/distribute", {
    params: { path: { team_id: teamId } }, body: { customer_ids: customerIds, manager_id: managerId },
  });
  return data as unknown as BulkResult;
}
