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
  "large_withdrawal", "account_rejected", "kyc_more_info", "scheduled_follow_up", "campaign_followup", "wealth_event"] as const;
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

// --- Tickets and comments ---
export type Ticket = components["schemas"]["TicketOut"];
export type TicketIn = components["schemas"]["TicketIn"];
export type TicketEdit = components["schemas"]["TicketEditIn"];
export type TimelineEntry = components["schemas"]["TimelineOut"];
export const TICKET_STATUSES = ["open", "in_progress", "on_hold", "resolved", "closed"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_CATEGORIES = ["account_security", "account_change", "funding", "trading", "kyc", "complaint", "other"] as const;
export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
/** The status changes the tasks service allows (services/tasks/domain/ticket.py TRANSITIONS). */
export const TICKET_TRANSITIONS: Record<TicketStatus, TicketStatus[]> = {
  open: ["in_progress", "on_hold", "resolved", "closed"],
  in_progress: ["open", "on_hold", "resolved", "closed"],
  on_hold: ["open", "in_progress", "resolved", "closed"],
  resolved: ["in_progress", "closed"],
  closed: [],
};

export interface TicketQuery { status?: TicketStatus | null; assignee_id?: string | null; customer_id?: string | null; q?: string | null; cursor?: string | null; limit?: number }

export async function listTickets(q: TicketQuery, signal?: AbortSignal): Promise<Page<Ticket>> {
  const { data } = await tasksApi.GET("/tickets", { params: { query: defined(q) as never }, signal });
  return data as unknown as Page<Ticket>;
}

export async function getTicket(id: string, signal?: AbortSignal): Promise<Ticket> {
  const { data } = await tasksApi.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: id } }, signal });
  return data as Ticket;
}

export async function openTicket(body: TicketIn): Promise<Ticket> {
  const { data } = await tasksApi.POST("/tickets", { body });
  return data as Ticket;
}

export async function editTicket(id: string, body: TicketEdit): Promise<Ticket> {
  const { data } = await tasksApi.PATCH("/tickets/{ticket_id}", { params: { path: { ticket_id: id } }, body });
  return data as Ticket;
}

export async function assignTicket(id: string, assigneeId: string): Promise<Ticket> {
  const { data } = await tasksApi.PUT("/tickets/{ticket_id}/assignee", { params: { path: { ticket_id: id } }, body: { assignee_id: assigneeId } });
  return data as Ticket;
}

export async function setTicketStatus(id: string, status: TicketStatus): Promise<Ticket> {
  const { data } = await tasksApi.PUT("/tickets/{ticket_id}/status", { params: { path: { ticket_id: id } }, body: { status } });
  return data as Ticket;
}

export async function deleteTicket(id: string): Promise<void> {
  await tasksApi.DELETE("/tickets/{ticket_id}", { params: { path: { ticket_id: id } } });
}

export async function ticketTimeline(id: string, signal?: AbortSignal): Promise<TimelineEntry[]> {
  const { data } = await tasksApi.GET("/tickets/{ticket_id}/timeline", { params: { path: { ticket_id: id } }, signal });
  return data as TimelineEntry[];
}

export async function addComment(id: string, body: string): Promise<void> {
  await tasksApi.POST("/tickets/{ticket_id}/comments", { params: { path: { ticket_id: id } }, body: { body } });
}

export async function deleteTicketComment(ticketId: string, commentId: string): Promise<void> {
  await tasksApi.DELETE("/tickets/{ticket_id}/comments/{comment_id}", { params: { path: { ticket_id: ticketId, comment_id: commentId } } });
}

// Comments across tickets (GET/DELETE /comments).
export type CommentRow = components["schemas"]["CommentOut"];
export interface CommentQuery { q?: string | null; customer_id?: string | null; author_id?: string | null; cursor?: string | null; limit?: number }

export async function searchComments(q: CommentQuery, signal?: AbortSignal): Promise<Page<CommentRow>> {
  const { data } = await tasksApi.GET("/comments", { params: { query: defined(q) as never }, signal });
  return data as unknown as Page<CommentRow>;
}

export async function deleteComment(commentId: string): Promise<void> {
  await tasksApi.DELETE("/comments/{comment_id}", { params: { path: { comment_id: commentId } } });
}
