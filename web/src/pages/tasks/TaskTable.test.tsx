import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { TaskItem } from "../../services/tasks";
import { renderWith } from "../../test/render";
import { TaskTable } from "./TaskTable";

const base = { status: "open", assignee_id: "u-ann", team_id: "t-1", due_at: "2026-03-02T10:00:00Z", overdue: false,
  created_at: "2026-03-01T10:00:00Z", closed_at: null, cause_event_id: null } as const;

describe("the task list", () => {
  it("shows a campaign follow-up's campaign name (its id until the name is known), and nothing for other nodes", () => {
    const items = [
      { ...base, task_id: "T1", customer_id: "C-1", node: "campaign_followup", campaign_id: "K1", campaign_name: "Spring push" },
      { ...base, task_id: "T2", customer_id: "C-2", node: "campaign_followup", campaign_id: "K2", campaign_name: null },
      { ...base, task_id: "T3", customer_id: "C-3", node: "pending_funding", campaign_id: null, campaign_name: null },
    ] as TaskItem[];
    renderWith(<TaskTable items={items} loading={false} onOpen={() => undefined} />, { role: "manager" });
    const shown = screen.getAllByTestId("task-campaign").map((e) => e.textContent);
    expect(shown).toEqual([" · Spring push", " · K2"]);
  });
});
