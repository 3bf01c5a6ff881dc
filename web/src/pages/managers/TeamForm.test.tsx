import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Team } from "../../services/assignment";
import { mockFetch, renderWith } from "../../test/render";
import TeamsRulesPage from "./TeamsRulesPage";
import { toTeamBody, toTeamPatch, toTeamValues } from "./TeamForm";

const HK: Team = { team_id: "T-HK", name: "HK desk", leader_id: "M-HK-LEAD", protection_days: 7, reclaim_policy: null, pool_sla_minutes: null, changed_at: "" };

function api() {
  return mockFetch({
    "GET /api/assignment/teams": () => ({ items: [HK] }),
    "GET /api/assignment/rules": () => ({ items: [] }),
    "GET /api/assignment/managers": () => ({ items: [], next_cursor: null, limit: 500 }),
    "GET /api/customer/institutions": () => ({ items: [], next_cursor: null }),
    "GET /api/customer/customers/segments": () => ({ items: [] }),
    "PATCH /api/assignment/teams/T-HK": () => ({ ...HK, reclaim_policy: "reroute", pool_sla_minutes: 90 }),
    "POST /api/assignment/teams": () => ({ ...HK, team_id: "T-SG", name: "SG desk" }),
  });
}

describe("teams: reclaim policy, pool SLA and protection period", () => {
  it("sends only what changed; the service default is null", () => {
    const v = toTeamValues(HK);
    expect(v.reclaim_policy).toBe("default");
    expect(toTeamPatch(v, HK)).toEqual({});
    expect(toTeamPatch({ ...v, reclaim_policy: "pool", pool_sla_minutes: 30, protection_days: 14 }, HK))
      .toEqual({ reclaim_policy: "pool", pool_sla_minutes: 30, protection_days: 14 });
    expect(toTeamPatch(v, { ...HK, reclaim_policy: "reroute", pool_sla_minutes: 60 })).toEqual({ reclaim_policy: null, pool_sla_minutes: null });
    expect(toTeamBody({ ...v, leader_id: "  " })).toMatchObject({ team_id: "T-HK", leader_id: null, reclaim_policy: null });
  });

  it("an administrator edits a team's reclaim policy and pool SLA (PATCH /teams/{id})", async () => {
    const seen = api();
    renderWith(<TeamsRulesPage />, { role: "admin", url: "/rules" });
    fireEvent.click(await screen.findByTestId("team-edit-T-HK"));
    const dialog = await screen.findByRole("dialog", { name: "Edit HK desk" });
    expect(within(dialog).getByTestId("team-id")).toBeDisabled();
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "After the protection period" }));
    fireEvent.click(await screen.findByTitle("Routed again by the rules"));
    fireEvent.change(within(dialog).getByTestId("team-pool-sla"), { target: { value: "90" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(seen.some((r) => r.method === "PATCH")).toBe(true));
    const patch = seen.find((r) => r.method === "PATCH")!;
    expect(patch.url.pathname).toBe("/api/assignment/teams/T-HK");
    expect(patch.body).toEqual({ reclaim_policy: "reroute", pool_sla_minutes: 90 });
  });

  it("adds a team, and a team lead (no SupportManageFull) edits none", async () => {
    const seen = api();
    const { unmount } = renderWith(<TeamsRulesPage />, { role: "admin", url: "/rules" });
    fireEvent.click(await screen.findByTestId("team-add"));
    const dialog = await screen.findByRole("dialog", { name: "Add team" });
    fireEvent.change(within(dialog).getByTestId("team-id"), { target: { value: "T-SG" } });
    fireEvent.change(within(dialog).getByTestId("team-name"), { target: { value: "SG desk" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(seen.some((r) => r.method === "POST")).toBe(true));
    expect(seen.find((r) => r.method === "POST")!.body).toEqual({ team_id: "T-SG", name: "SG desk", leader_id: null, protection_days: 7, reclaim_policy: null, pool_sla_minutes: null });
    unmount();
    api();
    renderWith(<TeamsRulesPage />, { role: "team_lead", url: "/rules" });
    await screen.findByText("HK desk");
    expect(screen.queryByTestId("team-edit-T-HK")).toBeNull();
    expect(screen.queryByTestId("team-add")).toBeNull();
  });
});
