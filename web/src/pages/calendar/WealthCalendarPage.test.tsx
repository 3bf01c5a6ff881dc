import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { CalendarItem, ManagerCalendar } from "../../services/calendar";
import type { Customer360 } from "../../services/customers";
import { mockFetch, renderWith } from "../../test/render";
import { WealthTab } from "../customers/drawer/WealthTab";
import WealthCalendarPage from "./WealthCalendarPage";

const item = (over: Partial<CalendarItem> = {}): CalendarItem => ({
  event_key: "corporate_action:CA-1", kind: "corporate_action", date: "2026-12-05", customer_id: "C-1",
  scope: "customer", ref_id: "CA-1", security: "0700.HK", title: "Dividend: 0700.HK", quantity: null,
  amount: "2.4", currency: "HKD", account_id: null, name: "W*****", ...over,
});
const page = (over: Partial<ManagerCalendar> = {}): ManagerCalendar => ({
  items: [item(), item({ event_key: "maturity:M-1", kind: "maturity", customer_id: "C-2", ref_id: "M-1", security: null,
    title: "Maturity: HKGB note", amount: "100000", date: "2026-12-06", name: "L***" })],
  brokerage: [item({ event_key: "ipo_opens:IPO-A", kind: "ipo_opens", customer_id: null, scope: "brokerage",
    ref_id: "IPO-A", title: "IPO subscription opens: JD Health", amount: null, currency: null, name: null })],
  next_cursor: "CUR-2", limit: 100, ...over,
});

describe("the Wealth calendar screen", () => {
  it("lists the customers' events by day with their kind and amount, the brokerage's IPO windows beside them", async () => {
    const seen = mockFetch({ "GET /api/customer/calendar": () => page() });
    renderWith(<WealthCalendarPage />, { role: "manager" });
    const table = await screen.findByTestId("calendar-table");
    await waitFor(() => expect(within(table).getByText("Dividend: 0700.HK")).toBeInTheDocument());
    expect(within(table).getByText("2.4 HKD")).toBeInTheDocument();
    expect(within(table).getByText("W*****")).toBeInTheDocument(); // the name as the API masked it
    expect(within(table).getByText("Maturity")).toBeInTheDocument();
    expect(within(screen.getByTestId("calendar-brokerage")).getByText("IPO subscription opens: JD Health")).toBeInTheDocument();
    const q = seen[0].url.searchParams;
    expect(q.get("from")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(q.get("to")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(q.get("kind")).toBeNull();
  });

  it("pages on with the cursor (the brokerage card on the first page only) and filters by kind", async () => {
    const seen = mockFetch({
      "GET /api/customer/calendar": (url) => (url.searchParams.get("cursor")
        ? page({ items: [item({ event_key: "ipo_closes:IPO-A", kind: "ipo_closes", title: "IPO subscription closes: JD Health", amount: null, quantity: "1000", currency: null })], brokerage: [], next_cursor: null })
        : page()),
    });
    renderWith(<WealthCalendarPage />, { role: "manager" });
    await screen.findByText("Dividend: 0700.HK");
    fireEvent.click(screen.getByTestId("calendar-next"));
    await screen.findByText("IPO subscription closes: JD Health");
    expect(screen.getByText("1000 shares")).toBeInTheDocument();
    expect(screen.queryByTestId("calendar-brokerage")).toBeNull();
    expect(seen.at(-1)!.url.searchParams.get("cursor")).toBe("CUR-2");
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Kinds of events" }));
    fireEvent.click(await screen.findByTitle("Maturity"));
    await waitFor(() => expect(seen.at(-1)!.url.searchParams.getAll("kind")).toEqual(["maturity"]));
    expect(seen.at(-1)!.url.searchParams.get("cursor")).toBeNull(); // a new filter starts from the first page
  });
});

describe("the drawer's Calendar / holdings tab", () => {
  it("shows the holdings per account and the upcoming events of the one call", () => {
    const h = { wealth: {
      holdings: [{ account_id: "A1", security: "0700.HK", quantity: "300", as_of: "2026-12-03T08:00:00Z" }],
      upcoming: [item(), item({ event_key: "ipo_opens:IPO-A", kind: "ipo_opens", customer_id: null, scope: "brokerage",
        title: "IPO subscription opens: JD Health", amount: null, currency: null })],
    } } as unknown as Customer360;
    renderWith(<WealthTab h={h} />);
    const holdings = screen.getByTestId("drawer-holdings");
    expect(within(holdings).getByText("0700.HK")).toBeInTheDocument();
    expect(within(holdings).getByText("300")).toBeInTheDocument();
    const upcoming = screen.getByTestId("drawer-upcoming");
    expect(within(upcoming).getByText("Dividend: 0700.HK")).toBeInTheDocument();
    expect(within(upcoming).getByText("IPO opens")).toBeInTheDocument();
  });
});
