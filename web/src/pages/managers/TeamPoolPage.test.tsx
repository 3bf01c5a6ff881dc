import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import type { PoolEntry } from "../../services/assignment";
import TeamPoolPage, { waited } from "./TeamPoolPage";

const entry = (id: string, waiting_s: number, breached: boolean): PoolEntry => ({
  customer_id: id, team_id: "T-HK", rule_id: "hk-pool", rule_version: 2, queued_at: "2026-03-02T09:00:00Z",
  sla_due_at: "2026-03-02T09:30:00Z", breached_at: breached ? "2026-03-02T09:31:00Z" : null, waiting_s, breached,
});
const TEAMS = { items: [{ team_id: "T-HK", name: "HK desk", leader_id: "u-team_lead", protection_days: 7, pool_sla_minutes: 30, changed_at: "" }] };
const MANAGERS = { items: [
  { manager_id: "m1", name: "Amy", team_id: "T-HK", capacity: 5, load: 1, status: "active" },
  { manager_id: "m2", name: "Ben", team_id: "T-HK", capacity: 2, load: 2, status: "active" },
], next_cursor: null };

describe("the team pool", () => {
  it("shows waiting time and SLA state, and distributes the selected customers to a manager of the team", async () => {
    let pool = [entry("C-1", 2 * 3600 + 5 * 60, true), entry("C-2", 10 * 60, false)];
    const seen = mockFetch({
      "GET /api/assignment/teams": () => TEAMS,
      "GET /api/assignment/managers": () => MANAGERS,
      "GET /api/assignment/teams/T-HK/pool": () => ({
        team_id: "T-HK", pool_sla_minutes: 30, next_cursor: null, items: pool,
        summary: { waiting: pool.length, breached: pool.filter((p) => p.breached).length, oldest_wait_s: pool[0]?.waiting_s ?? 0 },
      }),
      "POST /api/assignment/teams/T-HK/pool/distribute": () => {
        pool = pool.filter((p) => p.customer_id !== "C-1");
        return { team_id: "T-HK", manager_id: "m1", counts: { assigned: 1 }, results: [{ customer_id: "C-1", status: "assigned" }] };
      },
    });
    renderWith(<TeamPoolPage />, { role: "team_lead" });
    const table = await screen.findByTestId("pool-table");
    const row = within(table).getByText("C-1").closest("tr")!;
    expect(within(row).getByText("2h 05m")).toBeInTheDocument();
    expect(within(row).getByText("Breached")).toBeInTheDocument();
    expect(within(within(table).getByText("C-2").closest("tr")!).getByText("Within SLA")).toBeInTheDocument();
    expect(screen.getByText("30 min")).toBeInTheDocument();
    expect(screen.getByTestId("pool-distribute")).toBeDisabled();
    await userEvent.click(within(row).getByRole("checkbox"));
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Distribute to" }));
    fireEvent.click(await screen.findByText("Amy (m1) · 1/5"));
    await userEvent.click(screen.getByTestId("pool-distribute"));
    await waitFor(() => expect(seen.some((r) => r.method === "POST")).toBe(true));
    expect(seen.find((r) => r.method === "POST")?.body).toEqual({ customer_ids: ["C-1"], manager_id: "m1" });
    await waitFor(() => expect(within(screen.getByTestId("pool-table")).queryByText("C-1")).toBeNull());
    const managersAsked = seen.find((r) => r.url.pathname === "/api/assignment/managers");
    expect(managersAsked?.url.searchParams.get("team_id")).toBe("T-HK");
  });

  it("reads only, without distribution controls, for a role without AssignmentManage; in Chinese too", async () => {
    mockFetch({
      "GET /api/assignment/teams": () => TEAMS,
      "GET /api/assignment/teams/T-HK/pool": () => ({ team_id: "T-HK", pool_sla_minutes: 30, next_cursor: null, items: [],
        summary: { waiting: 0, breached: 0, oldest_wait_s: 0 } }),
    });
    renderWith(<TeamPoolPage />, { role: "auditor", lang: "zh" });
    expect(await screen.findByText("该客户池暂无等待的客户")).toBeInTheDocument();
    expect(screen.queryByTestId("pool-distribute")).toBeNull();
  });

  it("formats waits in minutes, hours and days", () => {
    expect([waited(59), waited(61 * 60), waited(50 * 3600)]).toEqual(["0m", "1h 01m", "2d 2h"]);
  });
});
