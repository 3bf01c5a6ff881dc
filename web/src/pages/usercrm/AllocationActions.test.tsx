import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { AllocationsReport } from "./InfoTabs";
import { requestDetails } from "./UserPanel";

const allocation = { allocation_id: "AL1", account_id: "A1", fund_id: "F1", fund_name: "Asia Growth", currency: "USD", started_at: "2026-11-01T08:00:00Z", stopped_at: null, value: "5200", performance_pct: "4", amount: "5000", status: "active" };
const routes = {
  "GET /api/usercrm/usercrm/customers/C-1/allocations": () => ({ items: [allocation] }),
  "GET /api/usercrm/usercrm/funds/F1": () => ({ fund_id: "F1", name: "Asia Growth", strategy: "long equity", manager_name: "Whale AM", currency: "USD", performance_pct: "12.5", as_of: null }),
  "GET /api/usercrm/usercrm/funds/F1/allocations": () => ({ items: [{ ...allocation, customer_id: "C-1" }, { ...allocation, allocation_id: "AL9", customer_id: "C-9" }] }),
  "POST /api/usercrm/usercrm/customers/C-1/allocations/AL1/deposits": () => ({ request_id: "R1", state: "submitted" }),
  "POST /api/usercrm/usercrm/customers/C-1/allocations/AL1/stop": () => ({ request_id: "R2", state: "submitted" }),
};

describe("the allocations' management menu", () => {
  it("adds a deposit to an active allocation: a positive amount and a currency, then the request", async () => {
    const seen = mockFetch(routes);
    renderWith(<AllocationsReport customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("allocation-deposit-AL1"));
    const dialog = await screen.findByRole("dialog", { name: "Add deposit · Asia Growth" });
    fireEvent.change(within(dialog).getByTestId("allocation-deposit-amount"), { target: { value: "0" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("A positive amount, at most 8 decimals")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(within(dialog).getByTestId("allocation-deposit-amount"), { target: { value: "1500" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ amount: "1500", currency: "USD" }));
  });

  it("stops an allocation only once confirmed", async () => {
    const seen = mockFetch(routes);
    renderWith(<AllocationsReport customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("allocation-stop-AL1"));
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    const confirm = await screen.findByText(/The platform closes its open trades/);
    fireEvent.click(within(confirm.closest(".ant-popover") as HTMLElement).getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.url.pathname).toBe("/api/usercrm/usercrm/customers/C-1/allocations/AL1/stop"));
  });

  it("opens the fund's page and its allocations; a reader without UserMoneyRequest has no actions", async () => {
    mockFetch(routes);
    renderWith(<AllocationsReport customerId="C-1" />, { role: "auditor" });
    fireEvent.click(await screen.findByTestId("view-fund-AL1"));
    const dialog = await screen.findByRole("dialog", { name: "Fund" });
    expect(await within(dialog).findByText("long equity")).toBeInTheDocument();
    expect(within(dialog).getByText("12.5%")).toBeInTheDocument();
    expect(await within(dialog).findByText("C-9")).toBeInTheDocument();
    expect(screen.queryByTestId("allocation-deposit-AL1")).toBeNull();
  });
});

describe("the account drop-down", () => {
  it("switches the allocations between the user's accounts", async () => {
    const seen = mockFetch({
      ...routes,
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [
        { account_id: "A1", account_type: "cash", currency: "USD", status: "open" }, { account_id: "A2", account_type: "margin", currency: "HKD", status: "open" }] }),
    });
    renderWith(<AllocationsReport customerId="C-1" />, { role: "manager" });
    await screen.findByTestId("view-fund-AL1");
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Account" }));
    fireEvent.click(await screen.findByText("A2 · margin · HKD"));
    await waitFor(() => expect(seen.some((r) => r.url.pathname.endsWith("/allocations") && r.url.searchParams.get("account_id") === "A2")).toBe(true));
  });
});

describe("a request's details", () => {
  it("are its summary and the platform's result", () => {
    expect(requestDetails({ summary: { channel: "email", template_id: "welcome" }, result: { delivery: "delivered" } }))
      .toBe("channel: email · template_id: welcome · delivery: delivered");
    expect(requestDetails({ summary: { section: "general", fields: ["city", "time_zone"] }, result: {} })).toBe("section: general · fields: city, time_zone");
  });
});
