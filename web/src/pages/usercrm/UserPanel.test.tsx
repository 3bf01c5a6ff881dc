import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Perm } from "../../auth/perms";
import { ROLE_PERMS } from "../../test/roles";
import { mockFetch, renderWith } from "../../test/render";
import { allowedActions, UserPanel } from "./UserPanel";

const can = (role: keyof typeof ROLE_PERMS) => (p: Perm) => ROLE_PERMS[role].includes(p);
const profile = { customer_id: "C-1", completion_pct: 60, missing: ["banking"], access: { blocked: false, since: null }, social_links: {} };

describe("user management actions", () => {
  it("shows each role the buttons its permissions allow", () => {
    expect(allowedActions(can("auditor"), false)).toEqual([]);
    expect(allowedActions(can("manager"), false)).toEqual(["message", "account", "deposit", "withdraw", "allocation"]);
    expect(allowedActions(can("team_lead"), false)).toContain("block");
    expect(allowedActions(can("team_lead"), true)).toContain("unblock");
    expect(allowedActions(can("team_lead"), true)).not.toContain("block");
  });

  it("asks a reason before blocking, then sends it", async () => {
    const seen = mockFetch({
      "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile,
      "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
      "POST /api/usercrm/usercrm/customers/C-1/block": () => ({ request_id: "R1", state: "submitted" }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "team_lead" });
    fireEvent.click(await screen.findByTestId("user-action-block"));
    fireEvent.change(await screen.findByTestId("usercrm-reason"), { target: { value: " no " } }); // 2 once trimmed
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    expect(await screen.findByText("3 to 200 characters")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(screen.getByTestId("usercrm-reason"), { target: { value: "fraud report 77" } });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ reason: "fraud report 77" }));
  });

  it("an auditor sees the panel and no action button", async () => {
    mockFetch({
      "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile,
      "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "auditor" });
    expect(await screen.findByTestId("user-panel")).toBeInTheDocument();
    expect(screen.queryByTestId(/^user-action-/)).toBeNull();
  });
});
