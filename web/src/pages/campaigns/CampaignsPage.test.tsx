import { fireEvent, screen, waitFor } from "@testing-library/react";
import dayjs from "dayjs";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import CampaignsPage from "./CampaignsPage";
import { endAfterStart, needsTeam, parseIds, planFrom } from "./plan";

const plan = {
  name: "First deposit", purpose: null, start_at: "2026-12-01T09:00:00Z", end_at: "2026-12-08T09:00:00Z",
  audience: { stages: ["pending_funding"] }, distribution: "round_robin", team_id: "T-HK", channels: ["phone"],
  metrics: ["funded"], attribution_window_days: 30,
};
const campaign = (status: string, created_by = "M-HK-1") => ({
  campaign_id: "c1", status, plan, created_by, created_at: plan.start_at, updated_at: plan.start_at,
  reviewed_by: null, review_comment: null, audience_size: null, started_at: null, closed_at: null, version: 2,
});
const item = { campaign_id: "c1", name: "First deposit", status: "in_review", distribution: "round_robin",
  start_at: plan.start_at, end_at: plan.end_at, created_by: "M-HK-1", reviewed_by: null, audience_size: null,
  updated_at: plan.start_at };

describe("campaign plan", () => {
  it("reads pasted customer ids once each, and a list of ids replaces the attributes", () => {
    expect(parseIds("C1\nC2, C1  C3;")).toEqual(["C1", "C2", "C3"]);
    const start = dayjs("2026-12-01T09:00:00Z").format("YYYY-MM-DDTHH:mm");
    const base = { name: " Push ", start, end: dayjs("2026-12-02T09:00:00Z").format("YYYY-MM-DDTHH:mm"), distribution: "team_queue" as const, team_id: " T-HK ", channels: ["sms" as const],
      metrics: ["funded" as const], attribution_window_days: 7, stages: ["funded"], tags: ["vip"] };
    expect(planFrom(base)).toMatchObject({ name: "Push", purpose: null, team_id: "T-HK", start_at: "2026-12-01T09:00:00.000Z",
      audience: { stages: ["funded"], tags: ["vip"] } });
    expect(planFrom({ ...base, customer_ids: "C9\nC8" }).audience).toEqual({ customer_ids: ["C9", "C8"] });
    expect([planFrom(base).control_pct, planFrom({ ...base, control_pct: 10 }).control_pct]).toEqual([0, 10]); // the hold-out
    expect(planFrom({ ...base, segment_id: "seg1" }).audience).toEqual({ stages: ["funded"], tags: ["vip"], segment_id: "seg1" });
    expect(planFrom({ ...base, segment_id: "seg1", customer_ids: "C9" }).audience).toEqual({ customer_ids: ["C9"] });
    expect(endAfterStart(start, start)).toBe(false);
    expect(endAfterStart(start, "2026-12-31T00:00")).toBe(true);
    expect(needsTeam("assigned_manager")).toBe(false);
    expect(needsTeam("least_loaded")).toBe(true);
  });
});

describe("Campaigns", () => {
  it("lists campaigns; a peer approves one in review from its drawer", async () => {
    let status = "in_review";
    const seen = mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item], next_cursor: null }),
      "GET /api/campaigns/campaigns/c1": () => campaign(status),
      "GET /api/campaigns/campaigns/c1/history": () => ({ campaign_id: "c1", items: [
        { version: 1, event: "created", at: plan.start_at, by: "M-HK-1" },
        { version: 2, event: "submitted", at: plan.start_at, by: "M-HK-1" },
      ] }),
      "POST /api/campaigns/campaigns/c1/review": () => { status = "approved"; return campaign("approved"); },
    });
    renderWith(<CampaignsPage />, { role: "team_lead" });
    expect(await screen.findByText("In review")).toBeInTheDocument();
    expect(screen.getByTestId("campaign-new")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "First deposit" }));
    expect(await screen.findByTestId("history-submitted")).toBeInTheDocument();
    expect(screen.getByTestId("campaign-reject")).toBeDisabled(); // a rejection needs a comment
    fireEvent.click(screen.getByTestId("campaign-approve"));
    await waitFor(() => expect(screen.getByTestId("campaign-status")).toHaveTextContent("Approved"));
    const review = seen.find((r) => r.method === "POST");
    expect(review?.body).toEqual({ decision: "approve", comment: null });
  });

  it("offers no planning nor review to a read-only role, and no review of one's own campaign", async () => {
    mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item], next_cursor: null }),
      "GET /api/campaigns/campaigns/c1": () => campaign("in_review", "u-team_lead"),
      "GET /api/campaigns/campaigns/c1/history": () => ({ campaign_id: "c1", items: [] }),
    });
    const { unmount } = renderWith(<CampaignsPage />, { role: "auditor" });
    expect(await screen.findByText("In review")).toBeInTheDocument();
    expect(screen.queryByTestId("campaign-new")).toBeNull();
    unmount();
    renderWith(<CampaignsPage />, { role: "team_lead" });
    fireEvent.click(await screen.findByRole("button", { name: "First deposit" }));
    expect(await screen.findByTestId("campaign-status")).toHaveTextContent("In review");
    expect(screen.queryByTestId("campaign-approve")).toBeNull();
  });

  it("plans an audience by a saved segment: the picker lists the customer service's segments, the preview sends its id", async () => {
    const seen = mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [], next_cursor: null }),
      "GET /api/customer/customers/segments": () => ({ items: [
        { segment_id: "seg1", name: "Mass affluent", kind: "dynamic", filter: {}, owner_id: "u", created_at: "", updated_at: "", count: 12 },
      ] }),
      "POST /api/campaigns/campaigns/audience/preview": () => ({ size: 12, sample: [{ customer_id: "C1" }] }),
    });
    renderWith(<CampaignsPage />, { role: "team_lead" });
    fireEvent.click(await screen.findByTestId("campaign-new"));
    fireEvent.mouseDown(await screen.findByRole("combobox", { name: "Saved segment" }));
    fireEvent.click(await screen.findByText("Mass affluent · 12"));
    fireEvent.click(screen.getByTestId("campaign-preview"));
    expect(await screen.findByTestId("campaign-preview-size")).toHaveTextContent("12");
    const body = seen.find((r) => r.method === "POST")?.body as { segment_id?: string };
    expect(body.segment_id).toBe("seg1");
  });
});
