import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import AnalyticsPage from "./AnalyticsPage";

const part = (registered: number, opened: number) => ({
  counts: { registered, opened, funded: 0, traded: 0 },
  steps: { registered_to_opened: { from: registered, to: opened, conversion_rate: registered ? opened / registered : null, median_seconds: null },
           opened_to_funded: { from: opened, to: 0, conversion_rate: 0, median_seconds: null },
           funded_to_traded: { from: 0, to: 0, conversion_rate: null, median_seconds: null } },
  overall_rate: registered ? 0 : null, registered_to_funded_rate: registered ? 0 : null,
});

describe("the funnel by manager", () => {
  it("shows conversions credited by share (0.4 / 0.6) and says so", async () => {
    mockFetch({
      "GET /api/summary/analytics/funnel": () => ({ from: "2026-09-05", to: "2026-12-03", timezone: "Asia/Hong_Kong", group_by: "manager",
        total: part(1, 1), groups: [{ key: "m1", ...part(1, 0.4) }, { key: "m2", ...part(0, 0.6) }] }),
    });
    renderWith(<AnalyticsPage />, { role: "admin", url: "/analytics?group_by=manager" });
    expect(await screen.findByTestId("funnel-by-share")).toHaveTextContent(/credited by attribution share/);
    const m2 = (await screen.findByText("m2")).closest("tr")!;
    expect(within(m2).getByText("0.6")).toBeInTheDocument();
    const m1 = screen.getByText("m1").closest("tr")!;
    expect(within(m1).getByText("0.4")).toBeInTheDocument();
  });
});
