import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import UserCrmPage from "./UserCrmPage";

const pending = (id: string, by: string) => ({
  request_id: id, customer_id: "C-1", action: "deposit", state: "awaiting_approval", needs_approval: true, requested_by: by,
  requested_role: "manager", requested_at: "2026-12-02T10:00:00Z", reason: null, approved_by: null, decided_at: null, amount: "25000",
  currency: "USD", summary: { account_id: "A1" }, result: {}, failure_code: null, failure_reason: null, done_at: null,
});

describe("maker-checker approvals", () => {
  it("lets a second person approve, never the requester", async () => {
    const seen = mockFetch({
      "GET /api/usercrm/usercrm/approvals": () => ({ items: [pending("R-OWN", "u-team_lead"), pending("R-M1", "M1")], next_cursor: null }),
      "POST /api/usercrm/usercrm/requests/R-M1/approve": () => ({ ...pending("R-M1", "M1"), state: "submitted", approved_by: "u-team_lead" }),
    });
    renderWith(<UserCrmPage />, { role: "team_lead", url: "/users?view=approvals" });
    const table = await screen.findByTestId("approvals-table");
    const own = (await within(table).findByText(/^u-team_lead ·/)).closest("tr")!;
    expect(within(own).queryByRole("button", { name: "Approve" })).toBeNull();
    expect(within(own).getByText("Another person approves")).toBeInTheDocument();
    const other = within(table).getByText(/^M1 ·/).closest("tr")!;
    fireEvent.click(within(other).getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.url.pathname).toBe("/api/usercrm/usercrm/requests/R-M1/approve"));
  });

  it("offers no decision to a manager without UserMoneyApprove", async () => {
    mockFetch({ "GET /api/usercrm/usercrm/approvals": () => ({ items: [pending("R-M1", "M1")], next_cursor: null }) });
    renderWith(<UserCrmPage />, { role: "manager", url: "/users?view=approvals" });
    const table = await screen.findByTestId("approvals-table");
    await within(table).findByText(/^M1 ·/);
    expect(within(table).queryByRole("button", { name: "Approve" })).toBeNull();
  });
});
