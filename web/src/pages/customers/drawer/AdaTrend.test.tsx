import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../../test/render";
import type { AdaBlock, CustomerItem } from "../../../services/models";
import { CustomerTable } from "../CustomerTable";
import { DEFAULT_FILTERS } from "../filters";
import { AdaTrend, fetchFrom, rollingAverage } from "./AdaTrend";

const ada: AdaBlock = {
  currency: "HKD", as_of: "2026-03-31",
  windows: [
    { days: 30, ada: "112500", previous: "100000", change: "12500", change_pct: "12.50" },
    { days: 90, ada: "90000", previous: "95000", change: "-5000", change_pct: "-5.26" },
    { days: 365, ada: "40000", previous: "0", change: "40000", change_pct: null },
  ],
};
const URL_ = "GET /api/customer/customers/C-1/assets/daily";

function series(from: string, to: string) {
  const days = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    const date = d.toISOString().slice(0, 10);
    days.push({ date, currency: date < "2026-03-01" ? null : "HKD", total: date < "2026-03-01" ? null : "100000" });
  }
  return { customer_id: "C-1", timezone: "Asia/Hong_Kong", from, to, days, accounts: [], ada };
}

describe("the customer drawer's average daily assets and trend", () => {
  it("averages the last n days, counting days without a value as 0", () => {
    expect(rollingAverage([null, 30, 30, 60], 3)).toEqual([0, 10, 20, 40]);
  });

  it("fetches the days shown and the 29 before them, for the first days' 30-day average", () => {
    expect(fetchFrom("2026-03-31", 30)).toBe("2026-02-01");
    expect(fetchFrom("2026-03-31", 90)).toBe("2025-12-03");
  });

  it("shows each window with its change, and the chart of the chosen range", async () => {
    const seen = mockFetch({ [URL_]: (u) => series(u.searchParams.get("from") ?? "2026-01-01", "2026-03-31") });
    renderWith(<AdaTrend customerId="C-1" ada={ada} />, { role: "manager" });
    const w30 = screen.getByTestId("ada-30");
    expect(w30).toHaveTextContent("ADA, 30 days");
    expect(w30).toHaveTextContent("112,500.00");
    expect(w30).toHaveTextContent("HKD");
    expect(w30).toHaveTextContent("+12.50%");
    expect(screen.getByTestId("ada-90")).toHaveTextContent("-5.26%");
    expect(screen.getByTestId("ada-365")).toHaveTextContent("+40,000"); // no percentage against a window of 0
    const chart = await screen.findByTestId("echart");
    expect(chart).toHaveAttribute("data-series", "2");
    expect(chart).toHaveAccessibleName("Daily total assets and the 30-day average over the last 90 days");
    expect(seen[0].url.searchParams.get("from")).toBe("2025-12-03");
    fireEvent.click(screen.getByText("30 days"));
    await waitFor(() => expect(seen.map((s) => s.url.searchParams.get("from"))).toContain("2026-02-01"));
    expect(await screen.findByRole("img", { name: /over the last 30 days/ })).toBeInTheDocument();
  });

  it("says so when the customer has no asset snapshot yet", () => {
    renderWith(<AdaTrend customerId="C-1" ada={null} />, { role: "manager" });
    expect(screen.getByText("No asset snapshot yet")).toBeInTheDocument();
  });

  it("shows the 30-day ADA under the total assets in the list, and nothing without a snapshot", () => {
    const row = (id: string, a: AdaBlock | null) => ({
      customer_id: id, name: "A***", phone_dialing_code: null, phone_number: null, email: null, stage: "funded",
      user_region: "HK", active_region: "HK", channel: "organic", registered_at: "2026-01-01T00:00:00Z",
      total_assets: "120000", assets_currency: "HKD", managers: [], tags: [], ada: a,
    }) as unknown as CustomerItem;
    renderWith(<CustomerTable items={[row("C-1", ada), row("C-2", null)]} loading={false} selected={[]} onSelect={() => {}}
      onOpen={() => {}} filters={DEFAULT_FILTERS} onSort={() => {}} />, { role: "manager" });
    const cells = screen.getAllByTestId("ada30");
    expect(cells).toHaveLength(1);
    expect(cells[0]).toHaveTextContent("ADA 30 d 112,500");
  });
});
