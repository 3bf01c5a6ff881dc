import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { barColor, barPercent, barStatus, percentLabel } from "./capacity";
import ManagersPage from "./ManagersPage";

const TEAMS = { items: [{ team_id: "T-HK", name: "Hong Kong", leader_id: null, protection_days: 7, reclaim_policy: "reroute", changed_at: "" }] };
const manager = (id: string, name: string, load: number, capacity: number, status = "active") => ({
  manager_id: id, name, position: "AM", team_id: "T-HK", regions: ["HK"], languages: ["zh"], capacity, load, status,
  referral_code: null, changed_at: "", idle: status === "active" ? Math.max(capacity - load, 0) : 0,
  utilisation: capacity ? Math.round((load / capacity) * 10000) / 10000 : null,
});
const CAPACITY = { items: [
  { team_id: "T-HK", name: "Hong Kong", managers: 3, active_managers: 2, load: 27, capacity: 30, idle: 5, utilisation: 0.8333 },
  { team_id: null, name: null, managers: 1, active_managers: 1, load: 4, capacity: 4, idle: 0, utilisation: 1 },
] };

describe("load against capacity", () => {
  it("reads a utilisation as a bar: capped fill, full or over as an exception, nearly full in a warning colour", () => {
    expect([barPercent(0.5), barPercent(1.25), barPercent(null), barPercent(0)]).toEqual([50, 100, 100, 0]);
    expect([barStatus(0.99), barStatus(1), barStatus(1.5), barStatus(null)]).toEqual(["normal", "exception", "exception", "exception"]);
    expect([barColor(0.5), barColor(0.9) !== undefined, barColor(1)]).toEqual([undefined, true, undefined]);
    expect([percentLabel(0.8333), percentLabel(null)]).toEqual(["83%", "—"]);
  });

  it("shows the teams' totals and each manager's load, capacity and free places", async () => {
    const seen = mockFetch({
      "GET /api/assignment/teams": () => TEAMS,
      "GET /api/assignment/teams/capacity": () => CAPACITY,
      "GET /api/assignment/managers": () => ({ items: [manager("m1", "Cathy Ho", 18, 20), manager("m2", "Dan Lee", 9, 10),
                                                        manager("m3", "Eve Ng", 0, 10, "absent")], next_cursor: null }),
    });
    renderWith(<ManagersPage />, { role: "team_lead" });
    const totals = await screen.findByTestId("team-capacity");
    const hk = await within(totals).findByTestId("team-capacity-T-HK");
    expect(within(hk).getByText("27 of 30")).toBeInTheDocument();
    expect(within(hk).getByRole("progressbar", { name: "Load of Hong Kong" })).toHaveAttribute("aria-valuenow", "83");
    const row = within(totals).getByText("Hong Kong").closest("tr")!;
    expect(within(row).getByText("2 of 3 managers active")).toBeInTheDocument();
    expect(within(row).getByText("5")).toBeInTheDocument();
    expect(within(row).getByText("83%")).toBeInTheDocument();
    const none = within(totals).getByTestId("team-capacity-none");
    expect(within(none).getByText("4 of 4")).toBeInTheDocument();
    expect(within(totals).getByText("No team")).toBeInTheDocument();
    const table = await screen.findByTestId("managers-table");
    await waitFor(() => expect(within(table).getByText("Cathy Ho")).toBeInTheDocument());
    const cathy = within(table).getByText("Cathy Ho").closest("tr")!;
    expect(within(cathy).getByText("18 of 20")).toBeInTheDocument();
    expect(within(cathy).getByText(/2 free/)).toBeInTheDocument();
    const eve = within(table).getByText("Eve Ng").closest("tr")!;
    expect(within(eve).queryByText(/free/)).toBeNull(); // an absent manager takes nothing new
    expect(seen.filter((r) => r.url.pathname === "/api/assignment/teams/capacity")).toHaveLength(1);
  });
});
