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
