// Tasks service: follow-up records (the drawer's tab) — tasks and tickets screens add theirs here.
import type { components } from "../api/tasks";
import { tasksApi } from "../api/clients";
import type { FollowUp, Page } from "./models";

export type FollowUpBody = components["schemas"]["FollowUpIn"];
export type ContactMethod = components["schemas"]["ContactMethod"];
export const CONTACT_METHODS: ContactMethod[] = ["phone", "sms", "email", "wechat", "whatsapp", "line", "telegram", "video", "in_person", "other"];

export async function listFollowUps(customerId: string): Promise<Page<FollowUp>> {
  const { data } = await tasksApi.GET("/customers/{customer_id}/follow-ups", {
    params: { path: { customer_id: customerId }, query: { limit: 50 } },
  });
  return data as unknown as Page<FollowUp>;
}

export async function addFollowUp(customerId: string, body: FollowUpBody): Promise<void> {
  await tasksApi.POST("/customers/{customer_id}/follow-ups", { params: { path: { customer_id: customerId } }, body });
}

// --- Tasks screen: node cards, the list, a task with its customer card, following up on a task ---
export type TaskView = "mine" | "team" | "queue" | "all";
export type TaskStatus = "open" | "completed" | "converted" | "cancelled";
export type TaskItem = Omit<components["schemas"]["TaskDetailOut"], "customer">;
export type TaskDetail = components["schemas"]["TaskDetailOut"];
export type NodeCount = components["schemas"]["NodeCount"];
export const TASK_NODES = ["tmt_registration", "pending_account_opening", "pending_funding", "funded", "first_trade",
  "large_withdrawal", "account_rejected", "kyc_more_info", "scheduled_follow_up"] as const;
export type TaskNode = (typeof TASK_NODES)[number];
export const TASK_STATUSES: TaskStatus[] = ["open", "completed", "converted", "cancelled"];

export interface TaskQuery {
  view: TaskView;
  node?: TaskNode | null;
  status?: TaskStatus;
  overdue?: boolean | null;
  customer_id?: string | null;
  cursor?: string | null;
  limit?: number;
}

const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== "")) as Partial<T>;

export async function taskCounts(view: TaskView, signal?: AbortSignal): Promise<NodeCount[]> {
  const { data } = await tasksApi.GET("/tasks/counts", { params: { query: { view } }, signal });
  return data as NodeCount[];
}

export async function listTasks(q: TaskQuery, signal?: AbortSignal): Promise<Page<TaskItem>> {
  const { data } = await tasksApi.GET("/tasks", { params: { query: defined(q) as never }, signal });
  return data as unknown as Page<TaskItem>;
}

export async function getTask(taskId: string, signal?: AbortSignal): Promise<TaskDetail> {
  const { data } = await tasksApi.GET("/tasks/{task_id}", { params: { path: { task_id: taskId } }, signal });
  return data as TaskDetail;
}

export async function followUpTask(taskId: string, body: FollowUpBody): Promise<void> {
  await tasksApi.POST("/tasks/{task_id}/follow-ups", { params: { path: { task_id: taskId } }, body });
}
