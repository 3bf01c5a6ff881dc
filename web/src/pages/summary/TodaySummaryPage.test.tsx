import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { currentLocation, mockFetch, renderWith } from "../../test/render";
import { levelPath, seesLevels } from "./RollupSection";
import { AccountOpeningCard } from "../home/AccountOpeningCard";
import TodaySummaryPage from "./TodaySummaryPage";

// the brokerage's day, far from the browser's (whatever the machine's clock and zone): the page must use it
const DAY = { timezone: "Pacific/Kiritimati", now: "2031-01-02T01:30:00+14:00", today: "2031-01-02", yesterday: "2031-01-01", last_week: "2030-12-26" };
const zero = { today: 0, yesterday: 0, last_week: 0, change_vs_yesterday: 0, change_vs_last_week: 0 };
const METRICS = ["account_openings", "fundings", "registration_follow_ups", "pending_account_opening_follow_ups", "pending_funding_follow_ups", "funded_follow_ups", "campaign_follow_ups"];

function routes(extra: Record<string, (url: URL) => unknown> = {}) {
  return mockFetch({
    "GET /api/summary/summary/day": () => DAY,
    "GET /api/summary/summary/today": (url) => ({
      date: url.searchParams.get("date"), yesterday: DAY.yesterday, last_week: DAY.last_week, timezone: DAY.timezone,
      metrics: Object.fromEntries(METRICS.map((m) => [m, zero])), managers: [],
    }),
    ...extra,
  });
}

describe("the brokerage's day, from the summary service", () => {
  it("Today's Summary asks for the brokerage's today and shows it with the time zone", async () => {
    const seen = routes();
    renderWith(<TodaySummaryPage />, { role: "manager", url: "/summary" });
    expect(await screen.findByTestId("summary-timezone")).toHaveTextContent("Pacific/Kiritimati");
    await waitFor(() => expect(seen.some((r) => r.url.pathname === "/api/summary/summary/today")).toBe(true));
    const asked = seen.filter((r) => r.url.pathname === "/api/summary/summary/today").map((r) => r.url.searchParams.get("date"));
    expect(asked).toEqual(["2031-01-02"]); // never the browser's day first
    expect(screen.getByDisplayValue("2031-01-02")).toBeInTheDocument();
  });

  it("a day in the URL is kept (the date picker's choice)", async () => {
    const seen = routes();
    renderWith(<TodaySummaryPage />, { role: "manager", url: "/summary?date=2030-12-30" });
    await waitFor(() => expect(seen.some((r) => r.url.pathname === "/api/summary/summary/today")).toBe(true));
    expect(seen.filter((r) => r.url.pathname === "/api/summary/summary/today").map((r) => r.url.searchParams.get("date"))).toEqual(["2030-12-30"]);
  });

  it("the home page's account-opening interval ends on the brokerage's today", async () => {
    const seen = routes({
      "GET /api/summary/dashboard/account-opening": () => ({ from: "2030-12-04", to: "2031-01-02", avg_seconds_registered_to_opened: null, samples_registered_to_opened: 0,
        avg_seconds_submitted_to_opened: null, samples_submitted_to_opened: 0, success_rate: null, opened: 0, rejected: 0 }),
    });
    renderWith(<AccountOpeningCard />, { role: "manager" });
    await waitFor(() => expect(seen.some((r) => r.url.pathname.endsWith("/account-opening"))).toBe(true));
    const q = seen.find((r) => r.url.pathname.endsWith("/account-opening"))!.url.searchParams;
    expect([q.get("from"), q.get("to")]).toEqual(["2030-12-04", "2031-01-02"]);
  });
});

describe("Today's Summary by organisation level", () => {
  const figures = (n: number) => Object.fromEntries(METRICS.map((m) => [m, { ...zero, today: n }]));
  const row = (node_id: string, kind: string, n: number) => ({ node_id, kind, name: `${node_id} name`, teams: [], metrics: figures(n) });

  it("shows a level's total and its children; a child's name goes one level down, Up comes back", async () => {
    const seen = routes({
      "GET /api/summary/summary/rollup": (url) => (url.searchParams.get("node_id") === "R-A"
        ? { date: DAY.today, yesterday: DAY.yesterday, last_week: DAY.last_week, timezone: DAY.timezone, node: row("R-A", "region", 4), children: [row("B-HK", "branch", 3), row("B-SG", "branch", 1)] }
        : { date: DAY.today, yesterday: DAY.yesterday, last_week: DAY.last_week, timezone: DAY.timezone, node: row("whale", "company", 8), children: [row("R-A", "region", 4), row("R-E", "region", 4)] }),
    });
    renderWith(<TodaySummaryPage />, { role: "admin", url: "/summary" });
    const table = await screen.findByTestId("rollup-table");
    await waitFor(() => expect(table).toHaveTextContent("whale name (total)"));
    fireEvent.click(screen.getByTestId("rollup-open-R-A"));
    await waitFor(() => expect(screen.getByTestId("rollup-table")).toHaveTextContent("R-A name (total)"));
    expect(screen.getByTestId("rollup-table")).toHaveTextContent("B-HK name (Branch)");
    expect(currentLocation.search).toContain("levels=R-A");
    const asked = seen.filter((r) => r.url.pathname.endsWith("/rollup")).map((r) => [r.url.searchParams.get("date"), r.url.searchParams.get("node_id")]);
    expect(asked).toEqual([["2031-01-02", null], ["2031-01-02", "R-A"]]);
    fireEvent.click(screen.getByTestId("rollup-up"));
    await waitFor(() => expect(screen.getByTestId("rollup-table")).toHaveTextContent("whale name (total)"));
  });

  it("is for callers over more than one team", () => {
    const session = (scope: "own" | "team" | "all", teams: string[]) => ({ token: "x", via: "dev" as const, claims: { sub: "u", roles: [], perms: [], scope, teams, exp: 0 } });
    expect(seesLevels(session("all", []))).toBe(true);
    expect(seesLevels(session("team", ["T-HK", "T-SG"]))).toBe(true);
    expect(seesLevels(session("team", ["T-HK"]))).toBe(false);
    expect(seesLevels(session("own", []))).toBe(false);
    expect(seesLevels(null)).toBe(false);
    expect(levelPath(" R-A, B-HK ,")).toEqual(["R-A", "B-HK"]);
  });
});
