import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import CampaignsPage from "./CampaignsPage";

const item = (id: string, name: string, status: string) => ({ campaign_id: id, name, status, distribution: "assigned_manager",
  start_at: "2026-12-01T09:00:00Z", end_at: "2026-12-08T09:00:00Z", created_by: "LEAD-A", reviewed_by: "LEAD-B",
  audience_size: 4, updated_at: "2026-12-01T09:00:00Z" });
const figures = { targeted: 4, account_opened: 0, funded: 2, first_trade: 1, converted: 2, net_deposits: "1300", incremental_assets: "800" };
const ind = (id: string, name: string, ratio: string | null) => ({ ...figures, campaign_id: id, name, status: "running",
  computed_at: "2026-12-03T09:00:00Z", figures: { input_output_ratio: ratio }, groups: [] });

describe("Campaign reports and comparison", () => {
  it("sums by the chosen dimension and compares the picked campaigns", async () => {
    const seen = mockFetch({
      "GET /api/campaigns/campaigns": () => ({ items: [item("c1", "First deposit", "running"), item("c2", "Listed", "closed"),
        item("c3", "Draft one", "draft")], next_cursor: null }),
      "GET /api/campaigns/campaigns/reports": (url) => ({ dimension: url.searchParams.get("dimension"), currency: "HKD", items: [
        { key: url.searchParams.get("dimension") === "team" ? "T-HK" : "M-HK-1", campaigns: 2, ...figures }] }),
      "GET /api/campaigns/campaigns/compare": () => [ind("c1", "First deposit", "2.0000"), ind("c2", "Listed", null)],
    });
    renderWith(<CampaignsPage />, { role: "team_lead" });
    const report = await screen.findByTestId("report-table");
    expect(await within(report).findByText("M-HK-1")).toBeInTheDocument();
    // the amounts' columns name the reporting currency (other currencies are not in these sums)
    expect(within(report).getByRole("columnheader", { name: /Net deposits \(HKD\)/ })).toBeInTheDocument();
    fireEvent.click(screen.getByText("Team"));
    expect(await within(screen.getByTestId("report-table")).findByText("T-HK")).toBeInTheDocument();
    expect(seen.filter((r) => r.url.pathname.endsWith("/reports")).map((r) => r.url.searchParams.get("dimension"))).toEqual(["manager", "team"]);

    expect(screen.getByTestId("campaign-compare")).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: "Draft one" })).toBeDisabled(); // never started: nothing to compare
    fireEvent.click(screen.getByRole("checkbox", { name: "First deposit" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Listed" }));
    fireEvent.click(screen.getByTestId("campaign-compare"));
    const table = await screen.findByTestId("compare-table");
    expect(await within(table).findByText("2.0000")).toBeInTheDocument();
    await waitFor(() => expect(seen.find((r) => r.url.pathname.endsWith("/compare"))?.url.searchParams.get("ids")).toBe("c1,c2"));
  });
});
