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
