import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { CampaignDrawer } from "./CampaignDrawer";

const plan = {
  name: "First deposit", purpose: null, start_at: "2026-12-01T09:00:00Z", end_at: "2026-12-08T09:00:00Z",
  audience: { stages: ["pending_funding"] }, distribution: "assigned_manager", team_id: null, channels: ["phone"],
  metrics: ["funded"], attribution_window_days: 30,
};
const campaign = { campaign_id: "c1", status: "running", plan, created_by: "M-HK-1", created_at: plan.start_at,
  updated_at: plan.start_at, reviewed_by: "LEAD-B", review_comment: null, audience_size: 4,
  started_at: plan.start_at, closed_at: null, version: 5 };
const indicators = (ratio: string | null) => ({
  campaign_id: "c1", name: "First deposit", status: "running", computed_at: "2026-12-03T09:00:00Z",
  targeted: 4, account_opened: 0, funded: 2, first_trade: 1, converted: 2, net_deposits: "1300", incremental_assets: "800",
  currency: "HKD", other_currencies: { USD: { net_deposits: "5000", incremental_assets: "3000" } },
  figures: { control: { size: 1 }, lift: { conversion_rate: "-0.5000" }, tracking: { contacted: 3 },
    cost: ratio ? { amount: "400.00", currency: "HKD" } : null, input_output_ratio: ratio },
  groups: [],
});
const history = { campaign_id: "c1", items: [{ version: 1, event: "created", at: plan.start_at, by: "M-HK-1" }] };

describe("Campaign evaluation", () => {
  it("shows the indicators, enters the cost and recomputes", async () => {
    let ratio: string | null = null;
    const seen = mockFetch({
      "GET /api/campaigns/campaigns/c1": () => campaign,
      "GET /api/campaigns/campaigns/c1/history": () => history,
      "GET /api/campaigns/campaigns/c1/indicators": () => indicators(ratio),
      "PUT /api/campaigns/campaigns/c1/cost": () => { ratio = "2.0000"; return campaign; },
      "POST /api/campaigns/campaigns/c1/indicators/refresh": () => indicators(ratio),
    });
    renderWith(<CampaignDrawer campaignId="c1" onClose={() => {}} />, { role: "team_lead" });
    expect(await screen.findByTestId("eval-targeted")).toHaveTextContent("4");
    expect(screen.getByTestId("eval-converted")).toHaveTextContent("2");
    // the amounts name their currency; what moved in another one is listed apart, never added in
    expect(screen.getByTestId("eval-net")).toHaveTextContent("1,300 HKD");
    expect(screen.getByTestId("eval-other-currencies")).toHaveTextContent("USD: Net deposits 5,000 · Incremental assets 3,000");
    expect(screen.getByTestId("eval-ratio")).toHaveTextContent("—");
    expect(screen.getByTestId("eval-csv")).toBeInTheDocument();
    expect(screen.getByTestId("eval-cost-save")).toBeDisabled();
    fireEvent.change(screen.getByLabelText("Cost"), { target: { value: "400" } });
    fireEvent.click(screen.getByTestId("eval-cost-save"));
    await waitFor(() => expect(screen.getByTestId("eval-ratio")).toHaveTextContent("2.0000"));
    expect(seen.find((r) => r.method === "PUT")?.body).toEqual({ amount: "400", currency: "HKD", note: null });
    expect(seen.some((r) => r.method === "POST" && r.url.pathname.endsWith("/indicators/refresh"))).toBe(true);
  });

  it("says when nothing was computed yet; a reader gets no inputs", async () => {
    mockFetch({
      "GET /api/campaigns/campaigns/c1": () => campaign,
      "GET /api/campaigns/campaigns/c1/history": () => history,
    });
    renderWith(<CampaignDrawer campaignId="c1" onClose={() => {}} />, { role: "auditor" });
    expect(await screen.findByText("No indicators computed yet")).toBeInTheDocument();
    expect(screen.queryByTestId("eval-refresh")).toBeNull();
    expect(screen.queryByTestId("eval-cost")).toBeNull();
  });
});
