import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import CampaignsPage from "./CampaignsPage";

const plan = {
  name: "First deposit", purpose: null, start_at: "2026-12-01T09:00:00Z", end_at: "2026-12-08T09:00:00Z",
  audience: { customer_ids: ["C0", "C1", "C2"] }, distribution: "assigned_manager", team_id: null,
  channels: ["phone", "sms", "email"], metrics: ["funded"], attribution_window_days: 14,
  messages: [{ channel: "sms", template_id: "t-sms", subject: null, body: "Fund your account" }],
};
const counts = { targeted: 1, contacted: 0, reached: 1, interested: 0, declined: 0, converted: 1 };
const campaign = (status: string, final = false) => ({
  campaign_id: "c1", status, plan, created_by: "M-HK-1", created_at: plan.start_at, updated_at: plan.start_at,
  reviewed_by: "M-HK-2", review_comment: null, audience_size: 3, started_at: plan.start_at,
  closed_at: final ? plan.end_at : null, version: 6, execution: { counts, final },
});
const item = { campaign_id: "c1", name: "First deposit", status: "running", distribution: "assigned_manager",
  start_at: plan.start_at, end_at: plan.end_at, created_by: "M-HK-1", reviewed_by: "M-HK-2", audience_size: 3,
  updated_at: plan.start_at };
const targets = { next_cursor: null, items: [
  { customer_id: "C0", follow_up_id: "f0", manager_id: "M-HK-1", team_id: "T-HK", status: "reached",
    channels: [{ channel: "sms", request_id: "r0", status: "opened", requested_at: plan.start_at, at: plan.start_at, reason_code: null }] },
  { customer_id: "C1", follow_up_id: "f1", manager_id: null, team_id: "T-HK", status: "targeted",
    channels: [{ channel: "sms", request_id: "r1", status: "failed", requested_at: plan.start_at, at: plan.start_at, reason_code: "unreachable" }] },
  { customer_id: "C2", follow_up_id: "f2", manager_id: "M-HK-1", team_id: "T-HK", status: "converted", channels: [],
    conversion: "funded", converted_at: "2026-12-03T10:00:00Z" },
] };

afterEach(() => vi.restoreAllMocks());

describe("Campaign execution", () => {
  it("shows a running campaign's counts per status and its targets with each channel's delivery; exports the log", async () => {
    URL.createObjectURL = vi.fn(() => "blob:log");
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    const seen = mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item], next_cursor: null }),
      "GET /api/campaigns/campaigns/c1": () => campaign("running"),
      "GET /api/campaigns/campaigns/c1/history": () => ({ campaign_id: "c1", items: [] }),
      "GET /api/campaigns/campaigns/c1/targets": () => targets,
      "GET /api/campaigns/campaigns/c1/log.csv": () => new Response("at,action,by,customer_id,detail\n", { headers: { "Content-Type": "text/csv" } }),
    });
    renderWith(<CampaignsPage />, { role: "team_lead" });
    fireEvent.click(await screen.findByRole("button", { name: "First deposit" }));
    expect(await screen.findByTestId("campaign-execution")).toBeInTheDocument();
    expect(screen.getByTestId("count-converted")).toHaveTextContent("Converted1");
    expect(screen.getByTestId("count-contacted")).toHaveTextContent("Contacted0");
    expect(screen.queryByTestId("execution-final")).toBeNull();
    expect(await screen.findByTestId("target-status-C2")).toHaveTextContent("Converted");
    expect(screen.getByTestId("target-status-C0")).toHaveTextContent("Reached");
    expect(screen.getByText("SMS: opened")).toBeInTheDocument();
    expect(screen.getByText("SMS: failed")).toHaveAttribute("title", "unreachable");
    expect(screen.getByText("T-HK (queue)")).toBeInTheDocument();
    expect(screen.getByText("Funded · 2026-12-03")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("campaign-log-export"));
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(URL.createObjectURL).toHaveBeenCalled();
    const csv = seen.find((r) => r.url.pathname.endsWith("/log.csv"));
    expect(csv?.headers.get("Authorization")).toMatch(/^Bearer /);
  });

  it("marks a closed campaign's figures as final, and shows nothing before the start", async () => {
    mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item], next_cursor: null }),
      "GET /api/campaigns/campaigns/c1": () => campaign("closed", true),
      "GET /api/campaigns/campaigns/c1/history": () => ({ campaign_id: "c1", items: [] }),
      "GET /api/campaigns/campaigns/c1/targets": () => targets,
    });
    const { unmount } = renderWith(<CampaignsPage />, { role: "auditor" });
    fireEvent.click(await screen.findByRole("button", { name: "First deposit" }));
    expect(await screen.findByTestId("execution-final")).toHaveTextContent("Final figures");
    unmount();
    mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item], next_cursor: null }),
      "GET /api/campaigns/campaigns/c1": () => ({ ...campaign("approved"), started_at: null, execution: null }),
      "GET /api/campaigns/campaigns/c1/history": () => ({ campaign_id: "c1", items: [] }),
    });
    renderWith(<CampaignsPage />, { role: "team_lead" });
    fireEvent.click(await screen.findByRole("button", { name: "First deposit" }));
    expect(await screen.findByTestId("campaign-start")).toBeInTheDocument();
    expect(screen.queryByTestId("campaign-execution")).toBeNull();
  });
});
