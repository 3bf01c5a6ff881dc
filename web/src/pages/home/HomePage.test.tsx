// The home dashboard's roll-up: the same "By organisation level" section as Today's Summary, for the brokerage's
// today, shown to callers whose scope is above one team, as an OpenID Connect session's rights say (GET /access/me).
import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makeSession, type Rights } from "../../auth/session";
import { currentLocation, mockFetch, renderWith } from "../../test/render";
import { ROLE_PERMS } from "../../test/roles";
import HomePage from "./HomePage";

const DAY = { timezone: "Pacific/Kiritimati", now: "2031-01-02T01:30:00+14:00", today: "2031-01-02", yesterday: "2031-01-01", last_week: "2030-12-26" };
const METRICS = ["account_openings", "fundings", "registration_follow_ups", "pending_account_opening_follow_ups", "pending_funding_follow_ups", "funded_follow_ups", "campaign_follow_ups"];
const figures = (n: number) => Object.fromEntries(METRICS.map((m) => [m, { today: n, yesterday: 0, last_week: 0, change_vs_yesterday: n, change_vs_last_week: n }]));
const row = (node_id: string, kind: string, n: number) => ({ node_id, kind, name: `${node_id} name`, teams: [], metrics: figures(n) });

function routes() {
  return mockFetch({
    "GET /api/summary/summary/day": () => DAY,
    "GET /api/summary/summary/rollup": (url) => (url.searchParams.get("node_id") === "B-HK"
      ? { date: DAY.today, yesterday: DAY.yesterday, last_week: DAY.last_week, timezone: DAY.timezone, node: row("B-HK", "branch", 3), children: [row("T-HK", "team", 2), row("T-HK2", "team", 1)] }
      : { date: DAY.today, yesterday: DAY.yesterday, last_week: DAY.last_week, timezone: DAY.timezone, node: row("whale", "company", 5), children: [row("B-HK", "branch", 3), row("B-SG", "branch", 2)] }),
  });
}

const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
/** A Keycloak-like access token (names the person only) and the member's rights as GET /access/me answers. */
function oidcSession(rights: Omit<Rights, "staff_id" | "permissions"> & { permissions?: string[] }) {
  const token = `${b64url("{}")}.${b64url(JSON.stringify({ sub: "c19e-opaque", staff_id: "M-1", scope: "openid profile", exp: Math.floor(Date.now() / 1000) + 3600 }))}.sig`;
  return makeSession(token, "oidc", "id", { staff_id: "M-1", permissions: [...ROLE_PERMS.team_lead], ...rights });
}
const rollupCalls = (seen: ReturnType<typeof mockFetch>) => seen.filter((r) => r.url.pathname.endsWith("/summary/rollup"));

describe("the home dashboard by organisation level", () => {
  it("a caller over all customers sees the company's total and its branches for the brokerage's today, and goes down a level", async () => {
    const seen = routes();
    renderWith(<HomePage />, { role: "admin" });
    const table = await screen.findByTestId("rollup-table");
    await waitFor(() => expect(table).toHaveTextContent("whale name (total)"));
    expect(table).toHaveTextContent("B-SG name (Branch)");
    fireEvent.click(screen.getByTestId("rollup-open-B-HK"));
    await waitFor(() => expect(screen.getByTestId("rollup-table")).toHaveTextContent("B-HK name (total)"));
    expect(currentLocation.search).toContain("levels=B-HK");
    expect(rollupCalls(seen).map((r) => [r.url.searchParams.get("date"), r.url.searchParams.get("node_id")]))
      .toEqual([["2031-01-02", null], ["2031-01-02", "B-HK"]]);
  });

  it("a branch head signed in with OpenID Connect (a node over two teams, from GET /access/me) sees it", async () => {
    const seen = routes();
    renderWith(<HomePage />, { session: oidcSession({ roles: ["branch_head"], scope: "team", teams: ["T-HK", "T-HK2"], team_id: null }) });
    await waitFor(() => expect(screen.getByTestId("rollup-table")).toHaveTextContent("whale name (total)"));
    expect(rollupCalls(seen)).toHaveLength(1);
  });

  it("a team lead over one team, or a manager over their own customers, does not (nor asks for it)", async () => {
    for (const session of [
      oidcSession({ roles: ["team_lead"], scope: "team", teams: ["T-HK"], team_id: "T-HK" }),
      oidcSession({ roles: ["manager"], scope: "own", teams: [], team_id: "T-HK" }),
    ]) {
      const seen = routes();
      const { unmount } = renderWith(<HomePage />, { session });
      expect(await screen.findByText(/Shortcuts|shortcuts/)).toBeInTheDocument();
      await waitFor(() => expect(seen.some((r) => r.url.pathname.startsWith("/api/summary/dashboard"))).toBe(true));
      expect(screen.queryByTestId("summary-rollup")).toBeNull();
      expect(rollupCalls(seen)).toEqual([]);
      unmount();
    }
  });
});
